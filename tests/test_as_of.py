"""``--as-of D``: the practice as it stood at the end of day D (``graph.as_of``, applied by ``Insights``)."""

from __future__ import annotations

from datetime import date as d

import pytest

from graphsvc.analysis import graph as p
from graphsvc.analysis import monthly_stage_counts, stage_counts, stage_histories
from graphsvc.config import AnalysisOptions
from graphsvc.errors import NotFound
from graphsvc.insights import Insights

D = d(2024, 5, 31)


@pytest.fixture
def G():
    G = p.new_graph()
    for m in ("ana", "ben", "cai"):
        p.add_member(G, m, name=m.title())
    p.add_member(G, "dee", kind="staff", role="intake_coordinator")
    # Point person handed from ana to ben on 2024-06-01, the day after D.
    p.add_referrer(G, "drx", tenures=[(d(2024, 1, 1), d(2024, 6, 1), "ana"), (d(2024, 6, 1), None, "ben")])
    p.add_referral(G, "drx", "r1", d(2024, 2, 1), "ana")
    p.add_referral(G, "drx", "r2", d(2024, 4, 1), "ana")
    p.add_referral(G, "drx", "r3", D, "ana")                     # on D: counts
    p.add_introduction(G, "drx", "i1", d(2024, 3, 15), "cai", by="ana")
    p.add_referral(G, "drx", "r4", d(2024, 7, 1), "ana")         # ana is a colleague by then: stage 2
    p.add_referral(G, "drx", "r5", d(2024, 8, 1), "practice", "cai")
    p.add_contact(G, "drx", "k1", d(2024, 9, 1), "ben")
    # Starts after D: not there on D.
    p.add_referrer(G, "late", point_person="ben", since=d(2024, 7, 1))
    p.add_referral(G, "late", "r6", d(2024, 8, 1), "ben")
    # Starts after D on paper, but a lunch on D shows the relationship had begun.
    p.add_referrer(G, "early", point_person="cai", since=d(2024, 6, 15))
    p.add_contact(G, "early", "k2", D, "cai")
    return G


def test_as_of_keeps_events_up_to_the_day_and_trims_tenures(G):
    H = p.as_of(G, D)
    assert sorted(k for _, _, k in H.edges(keys=True)) == ["i1", "k2", "r1", "r2", "r3"]
    assert H.nodes["drx"]["tenures"] == [(d(2024, 1, 1), None, "ana")]  # the handoff has not happened
    assert H.nodes["early"]["tenures"] == [(d(2024, 6, 15), None, "cai")]  # its first point person
    assert "late" not in H and H.graph == {"as_of": D, "not_started": {"late": d(2024, 7, 1)}}
    # The original is untouched.
    assert G.number_of_edges() == 9 and G.nodes["drx"]["tenures"][0] == (d(2024, 1, 1), d(2024, 6, 1), "ana")


def test_a_handoff_on_the_day_has_happened():
    G = p.new_graph()
    p.add_referrer(G, "x", tenures=[(d(2024, 1, 1), D, "ana"), (D, d(2024, 9, 1), "ben"),
                                    (d(2024, 9, 1), None, "cai")])
    assert p.as_of(G, D).nodes["x"]["tenures"] == [(d(2024, 1, 1), D, "ana"), (D, None, "ben")]


def test_stage_history_and_metrics_as_of_a_day(G):
    insights = Insights(G, AnalysisOptions(as_of=D))
    info = insights.referrer("drx")
    assert (info["stage"], info["history"], info["referrals"], info["last_referral"]) == (
        1, [{"stage": 1, "date": d(2024, 2, 1), "referral": "r1"}], 3, D)
    assert info["point_person_history"] == [{"clinician": "ana", "since": d(2024, 1, 1), "until": None}]
    m = info["metrics"]
    assert (m["point_person"], m["referrals"], m["point_person_share"], m["reached"], m["introductions"],
            m["contacts"], m["last_contact"]) == ("ana", 3, 1.0, 2, 1, 0, None)
    assert m["trend"] == {"last_12_months": 3, "previous_12_months": 0, "change": 3}
    # Judging the whole history on D alone (the old --as-of) put it in stage 2 with ben as point person.
    assert stage_histories(G, ["drx"], as_of=D)["drx"]["stage"] == 2
    today = Insights(G, AnalysisOptions()).referrer("drx")
    assert (today["stage"], today["referrals"], today["metrics"]["point_person"]) == (2, 5, "ben")


def test_a_referrer_that_starts_later_is_absent(G):
    insights = Insights(G, AnalysisOptions(as_of=D))
    assert sorted(insights.histories) == ["drx", "early"]
    with pytest.raises(NotFound, match=r"^referrer 'late' had not started by 2024-05-31 "
                                       r"\(its relationship began on 2024-07-01\)$"):
        insights.referrer("late")
    with pytest.raises(NotFound, match="had not started"):
        insights.suggestions("late")
    with pytest.raises(NotFound, match="^unknown referrer 'nope'$"):
        insights.referrer("nope")
    assert insights.referrer("early")["stage"] == 0


def test_summary_headline_is_the_last_month_of_the_monthly_counts(G):
    summary = Insights(G, AnalysisOptions(as_of=D)).summary()
    assert (summary["referrers"], summary["referrals"], summary["not_started"], summary["as_of"]) == (2, 3, 1, D)
    assert summary["stages"] == {0: 1, 1: 1, 2: 0, 3: 0}
    assert summary["monthly"][-1] == {"month": "2024-05", "stages": summary["stages"]}
    assert [row["month"] for row in summary["monthly"]] == ["2024-01", "2024-02", "2024-03", "2024-04", "2024-05"]


def test_monthly_counts_start_at_an_event_before_the_start(G):
    # "early" counts from its lunch in May, before its start in June.
    H = p.as_of(G, D)
    rows = monthly_stage_counts(H, stage_histories(H, as_of=D), as_of=D)
    assert rows[-1]["stages"] == stage_counts(stage_histories(H, as_of=D)) == {0: 1, 1: 1, 2: 0, 3: 0}
    assert rows[-2] == {"month": "2024-04", "stages": {0: 0, 1: 1, 2: 0, 3: 0}}


def test_suggestions_as_of_a_day(G):
    # On D ana is point person, cai introduced: ben is the one to introduce. Today ben is
    # point person and ana and cai were referred to, so no one is left.
    assert [s["member"] for s in Insights(G, AnalysisOptions(as_of=D)).suggestions("drx")] == ["ben"]
    assert Insights(G, AnalysisOptions()).suggestions("drx") == []


def test_today_uses_the_graph_as_given(G):
    assert Insights(G, AnalysisOptions()).G is G
    assert Insights(G, AnalysisOptions(as_of=D)).G is not G
