"""Tuning the suggestions' weights on a practice's own history (no database)."""

from __future__ import annotations

import random
from datetime import date as d
from datetime import timedelta

import pytest

from graphsvc.analysis import graph as p
from graphsvc.analysis.backtest import evaluate, introduction_cases
from graphsvc.analysis.fit import fit_score, profile
from graphsvc.analysis.index import Index
from graphsvc.analysis.suggestions import (
    _ready_for_stage_3,
    _trust,
    candidate_parts,
    rank_candidates,
    suggest_introductions,
)
from graphsvc.analysis.tuning import DEFAULT_DECAY, MIN_CASES, _ranks, collect_cases, simplex, tune, weights_reason
from tests.helpers import small_graph
from tests.test_backtest_replay import generated  # noqa: F401  (a fixture)

START = d(2023, 1, 1)
SPECIALTIES = ["s0", "s1", "s2", "s3", "s4", "s5"]
POPULATIONS = ["child", "adult", "older_adult"]
INSURANCES = ["medicaid", "bcbs", "aetna"]
KINDS = ["pediatrician", "clergy", "school_counselor", "physician", "attorney", "other"]


def world(drives: str, referrers: int = 150, seed: int = 1, older: int = 1, peers_from: int | None = None):
    """A practice whose referrers adopt the introduced colleague by ``drives``: "fit" or "peers".

    Two point persons (pp0, pp1) and six colleagues c0..c5, colleague ci the
    only one treating si. Each referrer sends ``older`` + 1 clients to its
    point person, is introduced to one colleague and refers to it.

    * "fit": the newest client needs s_i, the one before s_(i+1), and the
      referrer adopts c_i (every colleague sees every population and
      insurance, so only the needs tell them apart, and c_i fits best).
      Referrer kinds are random, and each kind's background referrers
      favour a random colleague: trust is noise. With ``older`` > 1 the
      older clients outweigh the newest unless older referrals count for
      less (a low recency decay). From referrer ``peers_from`` on, the
      referrers turn to adopting as in "peers" (a practice that changed).
    * "peers": the referrer adopts its kind's favourite colleague; its
      clients' needs, populations and insurances are random, and so are the
      colleagues' populations and insurances: fit is noise.
    """
    rng = random.Random(seed)
    G = p.new_graph()
    for pp in ("pp0", "pp1"):
        p.add_member(G, pp, specialties=["general"], populations=["child", "adult"], insurances=["medicaid"])
    for i, s in enumerate(SPECIALTIES):
        if drives == "fit":
            p.add_member(G, f"c{i}", specialties=[s], populations=POPULATIONS, insurances=INSURANCES)
        else:  # each colleague fits a random slice of clients
            p.add_member(G, f"c{i}", specialties=[s], populations=[rng.choice(POPULATIONS)],
                         insurances=[rng.choice(INSURANCES)])
    favourite = {k: f"c{rng.randrange(6)}" for k in KINDS}
    day = START
    # Background referrers: each kind refers to its favourite colleague (what peers of a kind do).
    for j in range(30):
        kind = KINDS[j % len(KINDS)]
        b = f"b{j:02d}"
        p.add_referrer(G, b, point_person=f"pp{j % 2}", since=day, referrer_kind=kind)
        p.add_referral(G, b, f"{b}-1", day, favourite[kind], needs=[rng.choice(SPECIALTIES)], population="adult",
                       insurance="medicaid")
    for n in range(referrers):
        day = START + timedelta(days=10 + 4 * n)
        r, kind, pp = f"r{n:03d}", rng.choice(KINDS), f"pp{rng.randrange(2)}"
        p.add_referrer(G, r, point_person=pp, since=day, referrer_kind=kind)
        if drives == "fit" and (peers_from is None or n < peers_from):
            i = rng.randrange(6)
            target = f"c{i}"
            needs = [[SPECIALTIES[(i + 1) % 6]]] * older + [[SPECIALTIES[i]]]   # the newest client needs s_i
        else:
            target = favourite[kind]
            needs = [[rng.choice(SPECIALTIES)] for _ in range(older + 1)]
        population, insurance = rng.choice(POPULATIONS), rng.choice(INSURANCES)
        for k, need in enumerate(needs):
            p.add_referral(G, r, f"{r}-{k}", day + timedelta(days=k), pp, needs=need, population=population,
                           insurance=insurance)
        p.add_introduction(G, r, f"{r}-i", day + timedelta(days=older + 1), target, by=pp)
        p.add_referral(G, r, f"{r}-a", day + timedelta(days=older + 2), target, needs=needs[-1], population=population,
                       insurance=insurance)
    return G


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_where_only_fit_matters_the_weight_moves_to_fit(seed):
    out = tune(world("fit", seed=seed))
    assert out["kept_defaults"] is False and out["why"] is None
    assert out["cases"]["learn"] >= MIN_CASES and out["cases"]["validate"] >= 20
    assert out["weights"]["fit"] >= 0.8, out["weights"]
    assert out["validation"]["tuned"]["hit@1"] == 1.0
    assert out["validation"]["tuned"]["mrr"] == 1.0
    assert out["validation"]["tuned"]["mrr"] > out["validation"]["defaults"]["mrr"]
    assert out["summary"] == "in this practice, fit to the referrer's clients weighs most"
    assert out["gain"]["mrr"] > 0 and out["gain"]["ci95"][0] > 0   # clearly better than the defaults


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_where_only_peers_matter_the_weight_moves_to_trust(seed):
    out = tune(world("peers", seed=seed))
    assert out["kept_defaults"] is False
    assert out["weights"]["trust"] >= 0.7 and out["weights"]["fit"] <= 0.3, out["weights"]
    assert out["validation"]["tuned"]["hit@1"] == 1.0
    assert out["validation"]["tuned"]["hit@1"] >= out["validation"]["observed_fit"]["hit@1"]
    assert out["validation"]["tuned"]["mrr"] >= out["validation"]["defaults"]["mrr"]
    assert out["summary"] == "in this practice, what similar referrers trust weighs most"



def test_a_recency_decay_that_earns_its_keep_is_tuned_too():
    # Three older clients point to the wrong colleague: only a low decay lets the newest one decide.
    out = tune(world("fit", older=3))
    assert out["decay"] == 0.5 and out["decay_tuned"] is True and out["kept_defaults"] is False
    assert out["weights"]["fit"] >= 0.8
    assert out["validation"]["tuned"]["hit@1"] == 1.0 and out["validation"]["defaults"]["hit@1"] < 0.5


def test_where_the_default_decay_does_as_well_it_stays():
    out = tune(world("fit"))
    assert out["decay"] == DEFAULT_DECAY and out["decay_tuned"] is False


def test_weights_that_do_worse_than_the_defaults_on_later_cases_are_not_used():
    # Referrers adopt by fit until case 105, then by what their peers do: the weights learned on
    # the first 70% fail on the rest, where the defaults (trust first) do well.
    out = tune(world("fit", peers_from=105))
    assert out["learned"]["fit"] >= 0.8
    assert out["validation"]["tuned"]["mrr"] < out["validation"]["defaults"]["mrr"]
    assert out["kept_defaults"] is True
    assert out["weights"] == {"fit": 0.3, "trust": 0.5, "track": 0.2} and out["decay"] == DEFAULT_DECAY
    assert out["why"].startswith(f"the weights learned before {out['cut']} did worse than the defaults")

def test_too_little_history_keeps_the_defaults_and_says_why():
    out = tune(world("fit", referrers=40))
    assert out["cases"]["learn"] < MIN_CASES
    assert out["kept_defaults"] is True
    assert out["weights"] == {"fit": 0.3, "trust": 0.5, "track": 0.2} and out["decay"] == DEFAULT_DECAY
    assert out["why"].startswith(f"only {out['cases']['learn']} learning cases")
    assert out["validation"]["defaults"]["mrr"] is not None   # still measured, for the record


def test_no_history_at_all_keeps_the_defaults():
    G = p.new_graph()
    out = tune(G)
    assert out["kept_defaults"] is True and out["cut"] is None and out["cases"] == {"learn": 0, "validate": 0}
    assert out["validation"]["tuned"] == {"hit@1": None, "hit@3": None, "mrr": None}


def test_an_explicit_cut_splits_the_cases_by_day():
    G = world("fit")
    days = sorted(day for *_, day in introduction_cases(G))
    out = tune(G, cut=days[100], min_cases=10)
    assert out["cut"] == days[100]
    assert out["cases"] == {"learn": sum(x < days[100] for x in days), "validate": sum(x >= days[100] for x in days)}


def test_tuning_is_deterministic():
    G = world("peers", seed=3)
    assert tune(G) == tune(world("peers", seed=3)) == tune(G)


def test_the_simplex_grid():
    grid = simplex(0.1)
    assert len(grid) == 66 and len(set(grid)) == 66
    assert all(abs(sum(w) - 1) < 1e-9 and min(w) >= 0 for w in grid)
    assert (0.3, 0.5, 0.2) in grid and (1.0, 0.0, 0.0) in grid


def test_weights_reason_names_the_heaviest_part():
    assert weights_reason((0.1, 0.8, 0.1)) == "in this practice, what similar referrers trust weighs most"
    assert weights_reason((0.1, 0.2, 0.7)) == \
        "in this practice, the point person's track record with the colleague weighs most"
    assert weights_reason((0.45, 0.45, 0.1)) == ("in this practice, fit to the referrer's clients and what "
                                                 "similar referrers trust weigh most, about equally")


def test_the_tuner_ranks_exactly_as_the_backtest_does(generated):  # noqa: F811
    cases = collect_cases(generated, decays=(DEFAULT_DECAY,))
    for weights in [(0.3, 0.5, 0.2), (0.6, 0.2, 0.2), (0.0, 0.0, 1.0)]:
        ranks = _ranks(cases, [weights], 0)[:, 0]
        rr = [1 / r if r else 0.0 for r in ranks]
        hit1 = sum(r == 1 for r in ranks) / len(ranks)
        hit3 = sum(1 <= r <= 3 for r in ranks) / len(ranks)
        back = evaluate(generated, weights=weights)["suggestions"]
        assert back == {"hit@1": round(hit1, 4), "hit@3": round(hit3, 4), "mrr": round(sum(rr) / len(rr), 4)}


def test_tune_on_a_generated_practice(generated):  # noqa: F811
    out = tune(generated, min_cases=30)
    assert out["cases"]["learn"] + out["cases"]["validate"] == evaluate(generated)["cases"]
    assert set(out["validation"]) == {"tuned", "defaults", "random", "most_referred", "observed_fit"}
    assert abs(sum(out["weights"].values()) - 1) < 1e-9


# The refactor of suggest_introductions into candidate_parts + rank_candidates changes nothing.

def _scored_before_the_refactor(G, referrer, index, *, recent=8, decay=0.85, weights=(0.3, 0.5, 0.2),
                                similar=50, accepting=None):
    """suggest_introductions' scoring loop as it was before candidate_parts existed."""
    pp = index.point_person(referrer)
    excluded = {pp} | index.introduced.get(referrer, set()) | index.referred_to.get(referrer, set())
    history = index.referrals.get(referrer, [])[-recent:]
    clients = [(decay ** age, data) for age, (_, _, _, data) in enumerate(reversed(history))]
    trust, _ = _trust(index, referrer, similar)
    w_fit, w_trust, w_track = weights
    wanted = profile(clients)
    scored = []
    for m, attrs in index.members.items():
        if m in excluded or attrs["kind"] != "clinician":
            continue
        if accepting is not None and attrs["accepting_new"] != accepting:
            continue
        fit = fit_score(attrs, wanted)
        made, led = index.intro_record.get((pp, m), (0, 0))
        track = led / (made + 1)
        t = trust.get(m, 0.0)
        score = w_fit * fit + w_trust * t + w_track * track
        scored.append((not attrs["accepting_new"], -round(score, 4), m, fit, t, track))
    scored.sort()
    return scored


def _check_identical(G, options):
    index = Index(G)
    for r in sorted(n for n, a in G.nodes(data=True) if a.get("kind") == "referrer"):
        old = _scored_before_the_refactor(G, r, index, **options)
        parts = candidate_parts(G, r, index=index, **{k: v for k, v in options.items() if k != "weights"})
        assert rank_candidates(parts.candidates, options.get("weights", (0.3, 0.5, 0.2))) == old
        out = suggest_introductions(G, r, index=index, limit=50, **options)
        intake = None if options.get("accepting") is False else _ready_for_stage_3(
            G, index, r, parts.excluded, 2, 5)
        members = ([intake["member"]] if intake else []) + [m for _, _, m, *_ in old]
        assert [s["member"] for s in out] == members
        assert [s["score"] for s in out if s["kind"] == "clinician"] == [-s for _, s, *_ in old]
        assert [s["parts"] for s in out if s["kind"] == "clinician"] == [
            {"fit": round(f, 4), "trust": round(t, 4), "track": round(k, 4)} for *_, f, t, k in old]


@pytest.mark.parametrize("options", [{}, {"weights": (0.6, 0.1, 0.3), "decay": 0.5, "recent": 3},
                                     {"accepting": True}, {"accepting": False}])
def test_refactored_parts_rank_as_before_on_the_small_graph(options):
    _check_identical(small_graph(), options)


@pytest.mark.parametrize("options", [{}, {"weights": (0.1, 0.1, 0.8), "similar": 5}])
def test_refactored_parts_rank_as_before_on_a_generated_practice(generated, options):  # noqa: F811
    _check_identical(generated, options)
