"""The backtest steps one index through history: the same answers as rebuilding it per day (no database)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date as d

import pytest

from graphsvc.analysis import graph as p
from graphsvc.analysis.backtest import evaluate, introduction_cases, replay
from graphsvc.analysis.index import Index
from graphsvc.analysis.suggestions import suggest_introductions
from tests.benchmarks.folder_graph import load_folder
from tests.helpers import add_small_team


@pytest.fixture(scope="session")
def generated():
    """A small generated practice (the current seed generator): 150 referrers, 3,000 referrals."""
    import tempfile

    from seed.generate import generate

    with tempfile.TemporaryDirectory() as folder:
        generate(folder, seed=7, clinicians=12, referrers=150, referrals=3000)
        G = load_folder(folder)
    assert len(introduction_cases(G)) >= 50
    return G


def _tables(index: Index) -> dict:
    """Every table of an index, empty entries dropped, in a canonical form."""
    def clean(table):
        return {k: (sorted(v) if isinstance(v, set) else dict(v) if isinstance(v, dict) else v)
                for k, v in table.items() if v}
    return {"referrals": {r: [(day, key, m) for day, key, m, _ in refs] for r, refs in index.referrals.items()
                          if refs},
            "referred_to": clean(index.referred_to), "trusted": clean(index.trusted),
            "trusted_by": clean(index.trusted_by), "introduced": clean(index.introduced),
            "intro_record": {k: tuple(v) for k, v in index.intro_record.items() if v[0]},
            "addressed_counts": dict(+index.addressed_counts), "assigned_counts": dict(+index.assigned_counts),
            "kind_trust": {k: dict(+v) for k, v in index.kind_trust.items() if +v}}


def test_the_stepped_index_equals_one_rebuilt_for_each_day(generated):
    seen = 0
    for (_referrer, _member, day), index in replay(generated, introduction_cases(generated)):
        assert index.before == day
        assert _tables(index) == _tables(Index(generated, before=day))
        seen += 1
    assert seen == len(introduction_cases(generated))


def _evaluate_by_rebuilding(G, ks=(1, 3), **options) -> dict:
    """The backtest as it was: a new Index per introduction day and suggest_introductions' top k."""
    hits = {name: defaultdict(float) for name in ("suggestions", "random", "most_referred")}
    evaluated = skipped = 0
    for referrer, member, day in introduction_cases(G):
        index = Index(G, before=day)
        excluded = ({index.point_person(referrer)} | index.introduced.get(referrer, set())
                    | index.referred_to.get(referrer, set()))
        eligible = sorted(m for m in index.members if m not in excluded)
        if member not in eligible:
            skipped += 1
            continue
        evaluated += 1
        top = [s["member"] for s in suggest_introductions(G, referrer, limit=max(ks), index=index, before=day,
                                                           **options)]
        popular = sorted(eligible, key=lambda m: (-index.assigned_counts.get(m, 0), m))
        for k in ks:
            hits["suggestions"][k] += member in top[:k]
            hits["random"][k] += min(k, len(eligible)) / len(eligible)
            hits["most_referred"][k] += member in popular[:k]
    out = {"cases": evaluated, "skipped": skipped}
    for name, by_k in hits.items():
        out[name] = {f"hit@{k}": round(by_k[k] / evaluated, 4) for k in ks}
    return out


@pytest.mark.parametrize("options", [{}, {"weights": (0.6, 0.2, 0.2), "decay": 0.5}])
def test_evaluate_gives_the_same_hits_as_rebuilding_the_index_per_day(generated, options):
    new, old = evaluate(generated, **options), _evaluate_by_rebuilding(generated, **options)
    assert new["cases"] > 50
    assert {k: v for k, v in new.items() if k != "observed_fit"} == {
        **old, **{name: {**old[name], "mrr": new[name]["mrr"]} for name in ("suggestions", "random",
                                                                            "most_referred")}}


def test_evaluate_reports_mrr_and_the_observed_fit_baseline():
    B = p.new_graph()
    add_small_team(B)   # ana, ben, dot: child ADHD on Medicaid; cai: adult grief; eve: intake coordinator
    p.add_referrer(B, "c1", point_person="cai", since=d(2023, 1, 1), referrer_kind="clergy")
    for i in range(3):
        p.add_referral(B, "c1", f"c1{i}", d(2023, 2 + i, 1), "cai")   # cai: the most referred
    p.add_referrer(B, "v", point_person="cai", since=d(2024, 1, 1), referrer_kind="pediatrician")
    p.add_referral(B, "v", "v1", d(2024, 2, 1), "cai", needs=["anxiety"], population="adolescent",
                   insurance="medicaid")
    p.add_introduction(B, "v", "iv1", d(2024, 4, 1), "ben", by="cai")
    p.add_referral(B, "v", "v2", d(2024, 5, 1), "ben")
    out = evaluate(B)
    # Eligible: ana, ben, dot, eve. Observed fit: only ben sees adolescents with anxiety -> first.
    # Suggestions: ben (fit 1.0) then ana (0.25 / 0.9 fit), dot not accepting last, eve not ranked.
    # Most referred: cai is the point person, so ana, ben, dot, eve by id, all with 0 referrals.
    assert out == {
        "cases": 1, "skipped": 0,
        "suggestions": {"hit@1": 1.0, "hit@3": 1.0, "mrr": 1.0},
        "random": {"hit@1": 0.25, "hit@3": 0.75, "mrr": round((1 + 1 / 2 + 1 / 3 + 1 / 4) / 4, 4)},
        "most_referred": {"hit@1": 0.0, "hit@3": 1.0, "mrr": 0.5},
        "observed_fit": {"hit@1": 1.0, "hit@3": 1.0, "mrr": 1.0},
    }


def test_a_member_not_ranked_at_all_has_reciprocal_rank_0():
    B = p.new_graph()
    add_small_team(B)
    p.add_member(B, "fay", kind="staff", name="Fay", role="office_manager")
    p.add_referrer(B, "v", point_person="ana", since=d(2024, 1, 1), referrer_kind="pediatrician")
    p.add_referral(B, "v", "v1", d(2024, 2, 1), "ana")
    p.add_introduction(B, "v", "iv1", d(2024, 4, 1), "fay", by="ana")   # staff, not yet ready for stage 3
    p.add_referral(B, "v", "v2", d(2024, 5, 1), "fay")
    out = evaluate(B)
    assert out["cases"] == 1
    assert out["suggestions"] == {"hit@1": 0.0, "hit@3": 0.0, "mrr": 0.0}


def test_no_cases_gives_none():
    B = p.new_graph()
    add_small_team(B)
    out = evaluate(B)
    assert out["cases"] == 0 and out["suggestions"] == {"hit@1": None, "hit@3": None, "mrr": None}
