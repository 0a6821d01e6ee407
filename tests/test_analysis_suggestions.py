"""Suggestions and the backtest on hand-built graphs (no database); matching is in test_analysis_matching."""

from __future__ import annotations

from datetime import date as d

import pytest

from graphsvc.analysis import graph as p
from graphsvc.analysis.backtest import evaluate
from graphsvc.analysis.suggestions import suggest_introductions
from graphsvc.errors import NotFound
from tests.helpers import add_small_team

ADHD_CHILD = dict(needs=["adhd"], population="child", insurance="medicaid", schedule="weekday_evening")


@pytest.fixture
def G():
    G = p.new_graph()
    add_small_team(G)
    p.add_referrer(G, "t", point_person="ana", since=d(2024, 1, 1), referrer_kind="pediatrician")
    p.add_referral(G, "t", "t1", d(2024, 2, 1), "ana", **ADHD_CHILD)
    # A similar pediatrician, to whom Ana introduced Ben, who then got a referral.
    p.add_referrer(G, "s1", point_person="ana", since=d(2024, 1, 1), referrer_kind="pediatrician")
    p.add_introduction(G, "s1", "i1", d(2024, 1, 15), "ben", by="ana")
    p.add_referral(G, "s1", "s1a", d(2024, 2, 10), "ana")
    p.add_referral(G, "s1", "s1b", d(2024, 3, 1), "ben")
    p.add_referrer(G, "s2", point_person="cai", since=d(2024, 1, 1), referrer_kind="clergy")
    p.add_referral(G, "s2", "s2a", d(2024, 2, 1), "cai")
    return G


def test_ranking_scores_and_reasons(G):
    out = suggest_introductions(G, "t")
    assert [(s["member"], s["score"], s["parts"]) for s in out] == [
        ("ben", 0.775, {"fit": 1.0, "trust": 0.75, "track": 0.5}),
        ("cai", 0.0, {"fit": 0.0, "trust": 0.0, "track": 0.0}),
        ("dot", 0.3, {"fit": 1.0, "trust": 0.0, "track": 0.0}),  # not accepting: below everyone who is
    ]
    assert out[0]["reasons"] == [
        "covers child ADHD, which this referrer's last referral needed",
        "takes Medicaid like its last client",
        "has weekday evening openings, which its last client wanted",
        "1 referrer similar to this one refers to Ben",
        "1 pediatrician refers to Ben",
        "Ana's introduction of Ben to other referrers led to referrals",
    ]
    assert out[2]["reasons"][-1] == "not accepting new clients"


def test_point_person_introduced_and_referred_members_are_never_suggested(G):
    p.add_introduction(G, "t", "i9", d(2024, 3, 1), "cai", by="ana")
    assert [s["member"] for s in suggest_introductions(G, "t")] == ["ben", "dot"]
    assert [s["member"] for s in suggest_introductions(G, "s1")] == ["cai", "dot"]  # ana pp, ben both


def test_limit_and_unknown_referrer(G):
    assert [s["member"] for s in suggest_introductions(G, "t", limit=1)] == ["ben"]
    with pytest.raises(NotFound, match="unknown referrer 'nobody'"):
        suggest_introductions(G, "nobody")


def test_ready_for_stage_3_suggests_the_intake_coordinator_first(G):
    p.add_referrer(G, "u", point_person="ana", since=d(2024, 1, 1), referrer_kind="physician")
    p.add_referral(G, "u", "u1", d(2024, 2, 1), "ben")
    p.add_referral(G, "u", "u2", d(2024, 3, 1), "cai")
    out = suggest_introductions(G, "u")
    assert [s["member"] for s in out] == ["eve", "dot"]
    assert out[0]["reasons"] == ["ready for stage 3: has tried 2 colleagues of its point person; "
                                 "introduce Eve (intake coordinator), who takes referrals for the whole practice"]
    assert [s["member"] for s in suggest_introductions(G, "u", ready_after=3)] == ["dot"]


def test_once_the_intake_coordinator_is_met_no_other_staff_is_offered_in_its_place(G):
    p.add_member(G, "fay", kind="staff", name="Fay", role="office_manager")
    p.add_referrer(G, "u", point_person="ana", since=d(2024, 1, 1), referrer_kind="physician")
    p.add_referral(G, "u", "u1", d(2024, 2, 1), "ben")
    p.add_referral(G, "u", "u2", d(2024, 3, 1), "cai")
    assert [s["member"] for s in suggest_introductions(G, "u")] == ["eve", "dot"]
    p.add_introduction(G, "u", "iu", d(2024, 3, 5), "eve", by="ana")
    assert [s["member"] for s in suggest_introductions(G, "u")] == ["dot"]  # not Fay, the office manager
    # A practice with no one in the intake coordinator's role offers its other staff.
    G.nodes["eve"]["role"] = "billing"
    p.add_referrer(G, "v", point_person="ana", since=d(2024, 1, 1), referrer_kind="physician")
    p.add_referral(G, "v", "v1", d(2024, 2, 1), "ben")
    p.add_referral(G, "v", "v2", d(2024, 3, 1), "cai")
    assert suggest_introductions(G, "v")[0]["reasons"] == [
        "ready for stage 3: has tried 2 colleagues of its point person; introduce Eve (billing), who takes referrals "
        "for the whole practice"]


def test_intake_coordinator_is_offered_exactly_while_not_in_stage_3(G):
    from graphsvc.analysis.stages import stage_histories

    p.add_referrer(G, "w", point_person="ana", since=d(2024, 1, 1), referrer_kind="physician")
    # (referral, addressed to, stage after it, intake coordinator offered); window 5.
    steps = [("w1", "ben", 2, False),        # one colleague tried: not yet
             ("w2", "cai", 2, True),
             ("w3", "practice", 2, True),    # 1 of 3 to the practice: not in stage 3, still offered
             ("w4", "practice", 3, False),   # 2 of 4: stage 3
             ("w5", "ana", 3, False), ("w6", "ana", 3, False), ("w7", "ana", 3, False),
             ("w8", "ana", 3, False),        # 1 of the last 5 to the practice: stays in stage 3
             ("w9", "ana", 2, True)]         # none of the last 5: out of stage 3, offered again
    seen = []
    for i, (ref, addressed, _, _) in enumerate(steps, start=1):
        p.add_referral(G, "w", ref, d(2024, 2, i), addressed, "cai" if addressed == "practice" else None)
        stage = stage_histories(G, ["w"], as_of=d(2024, 12, 31))["w"]["stage"]
        seen.append((ref, addressed, stage, suggest_introductions(G, "w")[0]["member"] == "eve"))
    assert seen == steps


def test_backtest_counts_hits_against_both_baselines():
    B = p.new_graph()
    add_small_team(B)
    p.add_referrer(B, "p1", point_person="ana", since=d(2023, 1, 1), referrer_kind="pediatrician")
    p.add_referral(B, "p1", "p1a", d(2023, 2, 1), "ana")
    p.add_referral(B, "p1", "p1b", d(2023, 3, 1), "ben")
    p.add_referrer(B, "c1", point_person="cai", since=d(2023, 1, 1), referrer_kind="clergy")
    for i in range(3):
        p.add_referral(B, "c1", f"c1{i}", d(2023, 2 + i, 1), "cai")   # cai: the most referred
    p.add_referrer(B, "v", point_person="ana", since=d(2024, 1, 1), referrer_kind="pediatrician")
    p.add_referral(B, "v", "v1", d(2024, 2, 1), "ana", **ADHD_CHILD)
    p.add_introduction(B, "v", "iv1", d(2024, 4, 1), "ben", by="ana")
    p.add_referral(B, "v", "v2", d(2024, 5, 1), "ben")
    # Introduced after v already referred to cai: not a fair case, skipped.
    p.add_referral(B, "v", "v3", d(2024, 6, 1), "cai")
    p.add_introduction(B, "v", "iv2", d(2024, 7, 1), "cai", by="ana")
    p.add_referral(B, "v", "v4", d(2024, 8, 1), "cai")
    assert evaluate(B) == {
        "cases": 1, "skipped": 1,
        "suggestions": {"hit@1": 1.0, "hit@3": 1.0, "mrr": 1.0},
        # 4 eligible (ben, cai, dot, eve): the expected reciprocal rank of a random order, (1 + 1/2 + 1/3 + 1/4) / 4.
        "random": {"hit@1": 0.25, "hit@3": 0.75, "mrr": 0.5208},
        "most_referred": {"hit@1": 0.0, "hit@3": 1.0, "mrr": 0.5},     # cai, then ben (the one introduced)
        "observed_fit": {"hit@1": 1.0, "hit@3": 1.0, "mrr": 1.0},
    }


def test_suggestions_for_members_accepting_or_not_are_each_in_score_order():
    # cai fits best but takes no new clients: with no filter it ranks last
    # whatever its score; asked for separately, each group is in score order.
    G = p.new_graph()
    p.add_member(G, "ana", specialties=["anxiety"], populations=["child"])
    p.add_member(G, "ben", specialties=["adhd"], populations=["adult"])
    p.add_member(G, "dov", specialties=["grief"], populations=["adult"])
    p.add_member(G, "cai", specialties=["adhd"], populations=["child"], accepting_new=False)
    p.add_member(G, "eve", specialties=["grief"], populations=["older_adult"], accepting_new=False)
    p.add_referrer(G, "drx", point_person="ana", since=d(2024, 1, 1))
    p.add_referral(G, "drx", "r1", d(2024, 2, 1), "ana", needs=["adhd"], population="child")
    both = suggest_introductions(G, "drx")
    assert [(s["member"], s["score"]) for s in both] == [
        ("ben", 0.2077), ("dov", 0.0), ("cai", 0.3), ("eve", 0.0)]
    assert [s["member"] for s in suggest_introductions(G, "drx", accepting=True)] == ["ben", "dov"]
    assert [s["member"] for s in suggest_introductions(G, "drx", accepting=False)] == ["cai", "eve"]
    assert suggest_introductions(G, "drx", accepting=False, limit=1)[0]["reasons"] == [
        "covers child ADHD, which this referrer's last referral needed", "not accepting new clients"]
