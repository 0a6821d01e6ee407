"""Practice-level views on small hand-built graphs (no database): sharing, bridges, key-person risk."""

from __future__ import annotations

from datetime import date as d

import pytest

from graphsvc.analysis import graph as p
from graphsvc.analysis import stage_histories
from graphsvc.analysis.practice import _months_before, bridge_members, clinician_sharing, key_person_risk
from graphsvc.config import AnalysisOptions
from graphsvc.insights import Insights


@pytest.fixture
def G():
    """Two referrers, four introductions (three followed by a referral), two passes."""
    G = p.new_graph()
    for m, name in (("ana", "Ana Ruiz"), ("ben", "Ben Okafor"), ("cai", "Cai Lin")):
        p.add_member(G, m, name=name)
    p.add_member(G, "dee", kind="staff", name="Dee Moss", role="intake_coordinator")
    p.add_referrer(G, "x", point_person="ana", since=d(2024, 1, 1))
    p.add_referrer(G, "y", point_person="cai", since=d(2024, 1, 1))
    p.add_introduction(G, "x", "i1", d(2024, 1, 10), "ben", by="ana")   # led: r1
    p.add_introduction(G, "x", "i4", d(2024, 2, 15), "dee", by="ana")   # led: r6 addressed to dee
    p.add_introduction(G, "y", "i2", d(2024, 4, 15), "ben", by="cai")   # not led: r4 came before it
    p.add_introduction(G, "y", "i3", d(2024, 2, 1), "ana", by="cai")    # led: r5 addressed to ana
    p.add_referral(G, "x", "r0", d(2024, 1, 5), "ben")                  # before the introduction
    p.add_referral(G, "x", "r1", d(2024, 2, 1), "ben")                  # after it
    p.add_referral(G, "x", "r2", d(2024, 3, 1), "ana", "cai", pass_reason="scheduling")
    p.add_referral(G, "y", "r3", d(2024, 3, 1), "cai")
    p.add_referral(G, "y", "r4", d(2024, 4, 1), "ben")
    p.add_referral(G, "y", "r5", d(2024, 5, 1), "ana", "cai", pass_reason="specialty")
    p.add_referral(G, "x", "r6", d(2024, 6, 1), "dee", "cai")
    return G


def test_clinician_sharing_counts_introductions_made_and_led(G):
    s = clinician_sharing(G)
    assert s == {
        "ana": {"point_person_for": 1, "passes_made": 2, "passes_received": 0, "introductions_made": 2,
                "introductions_led": 2, "introduced": 1, "referrals_via_introductions": 0},
        "ben": {"point_person_for": 0, "passes_made": 0, "passes_received": 0, "introductions_made": 0,
                "introductions_led": 0, "introduced": 2, "referrals_via_introductions": 1},
        "cai": {"point_person_for": 1, "passes_made": 0, "passes_received": 2, "introductions_made": 2,
                "introductions_led": 1, "introduced": 0, "referrals_via_introductions": 0},
        "dee": {"point_person_for": 0, "passes_made": 0, "passes_received": 0, "introductions_made": 0,
                "introductions_led": 0, "introduced": 1, "referrals_via_introductions": 0},
    }


def test_a_referral_on_the_introduction_day_counts_as_led():
    G = p.new_graph()
    p.add_member(G, "ana")
    p.add_member(G, "ben")
    p.add_referrer(G, "x", point_person="ana", since=d(2024, 1, 1))
    p.add_introduction(G, "x", "i1", d(2024, 3, 1), "ben", by="ana")
    p.add_introduction(G, "x", "i2", d(2024, 3, 2), "ben", by="ana")  # a second time, after the last referral
    p.add_referral(G, "x", "r1", d(2024, 3, 1), "ben")
    ana = clinician_sharing(G)["ana"]
    assert (ana["introductions_made"], ana["introductions_led"]) == (2, 1)


def test_bridge_members_is_the_first_colleague_tried_with_handoffs_respected():
    G = p.new_graph()
    for m in ("ana", "ben", "cai"):
        p.add_member(G, m)
    p.add_member(G, "dee", kind="staff")
    p.add_referrer(G, "z", tenures=[(d(2024, 1, 1), d(2024, 6, 1), "ana"), (d(2024, 6, 1), None, "ben")])
    p.add_referral(G, "z", "z1", d(2024, 3, 1), "ana")           # ana is point person then
    p.add_referral(G, "z", "z2", d(2024, 5, 1), "dee", "cai")    # to the practice: not a colleague
    p.add_referral(G, "z", "z3", d(2024, 7, 1), "ana")           # ana is a colleague by now: first
    p.add_referral(G, "z", "z4", d(2024, 8, 1), "cai")
    p.add_referrer(G, "q", point_person="cai", since=d(2024, 1, 1))
    p.add_referral(G, "q", "q1", d(2024, 2, 1), "practice", "ben")
    p.add_referral(G, "q", "q2", d(2024, 3, 1), "cai")
    assert bridge_members(G) == {"ana": {"first_colleague_for": 1}, "ben": {"first_colleague_for": 0},
                                 "cai": {"first_colleague_for": 0}, "dee": {"first_colleague_for": 0}}


@pytest.fixture
def risky():
    G = p.new_graph()
    for m in ("ana", "ben", "cai"):
        p.add_member(G, m)
    p.add_member(G, "dee", kind="staff")
    # Stage 1 with ana, every referral of the last 12 months assigned to ana.
    p.add_referrer(G, "loyal", point_person="ana", since=d(2023, 1, 1))
    p.add_referral(G, "loyal", "l1", d(2023, 6, 1), "ana")
    p.add_referral(G, "loyal", "l2", d(2024, 3, 1), "ana")
    p.add_referral(G, "loyal", "l3", d(2024, 12, 31), "ana")       # on as_of: in the window
    p.add_referral(G, "loyal", "l4", d(2025, 1, 5), "ana")         # after as_of: not
    # Stage 1 with ana, but every recent client passed on to ben: at risk for both.
    p.add_referrer(G, "passed", point_person="ana", since=d(2023, 1, 1))
    p.add_referral(G, "passed", "p1", d(2023, 12, 31), "ana")      # 12 months before as_of: outside
    p.add_referral(G, "passed", "p2", d(2024, 2, 1), "ana", "ben", pass_reason="insurance")
    p.add_referral(G, "passed", "p3", d(2024, 9, 1), "ana", "ben", pass_reason="insurance")
    # Stage 3, but every recent client went to ben.
    p.add_referrer(G, "broad", point_person="cai", since=d(2023, 1, 1))
    p.add_referral(G, "broad", "b1", d(2023, 5, 1), "cai")
    p.add_referral(G, "broad", "b2", d(2024, 1, 15), "practice", "ben")
    p.add_referral(G, "broad", "b3", d(2024, 2, 15), "practice", "ben")
    # Stage 2, recent clients with two clinicians: not at risk.
    p.add_referrer(G, "mixed", point_person="cai", since=d(2023, 1, 1))
    p.add_referral(G, "mixed", "m1", d(2024, 3, 1), "cai")
    p.add_referral(G, "mixed", "m2", d(2024, 4, 1), "ana")
    # Stage 1 with ben, nothing lately: at risk, with no referrals to lose this year.
    p.add_referrer(G, "quiet", point_person="ben", since=d(2022, 1, 1))
    p.add_referral(G, "quiet", "q1", d(2022, 5, 1), "ben")
    # Handed from ana to cai; its one recent referral went to ana: at risk for both.
    p.add_referrer(G, "handed", tenures=[(d(2024, 1, 1), d(2024, 6, 1), "ana"), (d(2024, 6, 1), None, "cai")])
    p.add_referral(G, "handed", "h1", d(2024, 2, 1), "ana")
    # No referral yet: stage 0, nobody's.
    p.add_referrer(G, "newbie", point_person="cai", since=d(2024, 11, 1))
    return G


AS_OF = d(2024, 12, 31)


def test_key_person_risk(risky):
    h = stage_histories(risky, as_of=AS_OF)
    assert {r: h[r]["stage"] for r in h} == {"loyal": 1, "passed": 1, "broad": 3, "mixed": 2, "quiet": 1,
                                             "handed": 1, "newbie": 0}
    assert key_person_risk(risky, h, as_of=AS_OF) == {
        "ana": {"referrers": ["handed", "loyal", "passed"], "count": 3, "referrals_last_12_months": 5},
        "ben": {"referrers": ["broad", "passed", "quiet"], "count": 3, "referrals_last_12_months": 4},
        "cai": {"referrers": ["handed"], "count": 1, "referrals_last_12_months": 1},
    }


def test_key_person_risk_over_a_shorter_window(risky):
    h = stage_histories(risky, as_of=AS_OF)
    # From 2024-07-01: l3, p3; broad and handed have no referral in it.
    assert key_person_risk(risky, h, as_of=AS_OF, months=6) == {
        "ana": {"referrers": ["loyal", "passed"], "count": 2, "referrals_last_12_months": 2},
        "ben": {"referrers": ["passed", "quiet"], "count": 2, "referrals_last_12_months": 1},
        "cai": {"referrers": ["handed"], "count": 1, "referrals_last_12_months": 0},
    }


def test_key_person_risk_judges_only_the_referrers_given(risky):
    h = stage_histories(risky, ["broad"], as_of=AS_OF)
    assert key_person_risk(risky, h, as_of=AS_OF) == {
        "ana": {"referrers": [], "count": 0, "referrals_last_12_months": 0},
        "ben": {"referrers": ["broad"], "count": 1, "referrals_last_12_months": 2},
        "cai": {"referrers": [], "count": 0, "referrals_last_12_months": 0},
    }


def test_months_before_clamps_to_the_end_of_a_shorter_month():
    assert [_months_before(a, n) for a, n in ((d(2024, 8, 31), 6), (d(2024, 2, 29), 12), (d(2025, 1, 15), 1))] == [
        d(2024, 2, 29), d(2023, 2, 28), d(2024, 12, 15)]


def test_insights_clinicians_and_summary(G):
    insights = Insights(G, AnalysisOptions(as_of=d(2024, 12, 31)))
    clinicians = insights.clinicians()
    assert list(clinicians) == ["ana", "ben", "cai", "dee"]
    # Both referrers tried colleagues and spread their clients over two clinicians: nobody at risk.
    assert {r: h["stage"] for r, h in insights.histories.items()} == {"x": 2, "y": 2}
    assert clinicians["ana"] == {
        "name": "Ana Ruiz", "kind": "clinician", "point_person_for": 1, "passes_made": 2, "passes_received": 0,
        "introductions_made": 2, "introductions_led": 2, "introduced": 1, "referrals_via_introductions": 0,
        "first_colleague_for": 0,
        "key_person_risk": {"count": 0, "referrers": [], "referrals_last_12_months": 0},
    }
    assert clinicians["ben"]["first_colleague_for"] == 2
    assert clinicians["dee"] == {
        "name": "Dee Moss", "kind": "staff", "point_person_for": 0, "passes_made": 0, "passes_received": 0,
        "introductions_made": 0, "introductions_led": 0, "introduced": 1, "referrals_via_introductions": 0,
        "first_colleague_for": 0,
        "key_person_risk": {"count": 0, "referrers": [], "referrals_last_12_months": 0},
    }
    assert insights.summary()["clinicians"] == clinicians
    assert "clinicians" not in insights.summary(monthly=False)
    assert insights.summary(monthly=False, clinicians=True)["clinicians"] == clinicians


def test_insights_key_person_risk_uses_the_as_of_day(risky):
    insights = Insights(risky, AnalysisOptions(as_of=AS_OF))
    assert insights.clinicians()["ana"]["key_person_risk"] == {
        "count": 3, "referrers": ["handed", "loyal", "passed"], "referrals_last_12_months": 5}
