"""Suggestions, client matching and the backtest on hand-built graphs (no database)."""

from __future__ import annotations

from datetime import date as d

import pytest

from graphsvc.analysis import graph as p
from graphsvc.analysis.backtest import evaluate
from graphsvc.analysis.matching import match_client
from graphsvc.analysis.suggestions import suggest_introductions
from graphsvc.errors import NotFound


def members(G):
    p.add_member(G, "ana", name="Ana", specialties=["adhd"], populations=["child"], insurances=["medicaid"],
                 schedule=["weekday_day"])
    p.add_member(G, "ben", name="Ben", specialties=["adhd", "anxiety"], populations=["child", "adolescent"],
                 insurances=["medicaid"], schedule=["weekday_evening"])
    p.add_member(G, "cai", name="Cai", specialties=["grief"], populations=["adult"], insurances=["bcbs"],
                 schedule=["weekend"])
    p.add_member(G, "dot", name="Dot", specialties=["adhd"], populations=["child"], insurances=["medicaid"],
                 schedule=["weekday_evening"], accepting_new=False)
    p.add_member(G, "eve", name="Eve", kind="staff", role="intake_coordinator")


ADHD_CHILD = dict(needs=["adhd"], population="child", insurance="medicaid", schedule="weekday_evening")


@pytest.fixture
def G():
    G = p.new_graph()
    members(G)
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
        "covers child ADHD, which 1 of this referrer's last 1 referrals needed",
        "takes Medicaid like 1 of its last 1 clients",
        "has weekday evening openings, which 1 of its last 1 clients wanted",
        "1 referrer similar to this one refers to Ben",
        "1 pediatrician refers to Ben",
        "1 of Ana's 1 introduction of Ben led to referrals",
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
                                 "introduce the intake coordinator, who takes referrals for the whole practice"]
    assert [s["member"] for s in suggest_introductions(G, "u", ready_after=3)] == ["dot"]


def test_match_suggests_a_pass_with_its_reason(G):
    out = match_client(G, needs=["adhd"], population="adolescent", insurance="medicaid",
                       schedule="weekday_day", addressed_to="ana")
    assert [(c["member"], c["fit"]) for c in out["candidates"]] == [("ben", 0.9), ("ana", 0.8), ("cai", 0.0)]
    assert (out["addressed"]["fit"], out["addressed"]["gaps"]) == (0.8, ["population"])
    assert (out["pass"]["member"], out["pass"]["reason"], out["pass"]["why"]) == ("ben", "other", [
        "Ana does not see this population", "Ben covers ADHD", "Ben sees adolescent clients",
        "Ben takes Medicaid", "but Ben has no opening in the wanted slot"])
    assert (out["uncovered_needs"], out["external_providers"]) == ([], [])


def test_match_keeps_a_good_fit_and_names_outside_providers_for_uncovered_needs(G):
    p.add_provider(G, "ep1", name="Riverside", niches=["inpatient_eating_disorders"])
    p.add_provider(G, "ep2", name="Lakeside", niches=["inpatient_eating_disorders", "forensic_evaluation"])
    p.add_referral_out(G, "t", "o1", d(2024, 3, 1), "ep1", "inpatient_eating_disorders")
    out = match_client(G, needs=["adhd", "inpatient_eating_disorders"], population="child",
                       insurance="medicaid", schedule="weekday_evening", addressed_to="ben")
    assert out["pass"] is None
    assert out["uncovered_needs"] == ["inpatient_eating_disorders"]
    assert out["external_providers"] == [
        {"provider": "ep1", "name": "Riverside", "niche": "inpatient_eating_disorders", "referred_before": 1},
        {"provider": "ep2", "name": "Lakeside", "niche": "inpatient_eating_disorders", "referred_before": 0}]
    with pytest.raises(NotFound):
        match_client(G, needs=["adhd"], addressed_to="eve")


def test_a_pass_for_a_clinician_not_taking_clients_names_that_reason(G):
    out = match_client(G, needs=["adhd"], population="child", insurance="medicaid",
                       schedule="weekday_evening", addressed_to="dot")
    assert (out["pass"]["member"], out["pass"]["reason"]) == ("ben", "other")
    assert out["pass"]["why"][0] == "Dot is not accepting new clients"


def test_backtest_counts_hits_against_both_baselines():
    B = p.new_graph()
    members(B)
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
        "suggestions": {"hit@1": 1.0, "hit@3": 1.0},
        "random": {"hit@1": 0.25, "hit@3": 0.75},          # 4 eligible: ben, cai, dot, eve
        "most_referred": {"hit@1": 0.0, "hit@3": 1.0},     # cai, then ben
    }
