"""Activity over time on small hand-built graphs (no database): months, outreach follow-ups, coverage."""

from __future__ import annotations

import random
import statistics
from collections import Counter
from datetime import date as d
from datetime import timedelta

import pytest

from graphsvc.analysis import graph as p
from graphsvc.analysis import stage_histories
from graphsvc.analysis.activity import coverage, monthly_activity, outreach

NONE_REACHED = {1: 0, 2: 0, 3: 0}


@pytest.fixture
def monthly():
    """Four referrers over five months; one left out of the histories, one referral after as_of."""
    G = p.new_graph()
    for m in ("ana", "ben", "cai"):
        p.add_member(G, m)
    p.add_member(G, "dee", kind="staff", role="intake_coordinator")
    p.add_referrer(G, "x", point_person="ana", since=d(2024, 1, 1))
    p.add_referral(G, "x", "x1", d(2024, 1, 5), "ana")                # stage 1
    p.add_referral(G, "x", "x2", d(2024, 1, 20), "dee", "ben")        # to staff = practice: 1 of 2, stage 3
    p.add_referral(G, "x", "x3", d(2024, 3, 10), "ana")
    p.add_referral(G, "x", "x5", d(2024, 4, 15), "cai")               # on as_of: counts
    p.add_referral(G, "x", "x4", d(2024, 5, 2), "ana")                # after as_of: left out
    p.add_referrer(G, "y", point_person="cai", since=d(2024, 2, 1))
    p.add_contact(G, "y", "k1", d(2024, 2, 3), "cai")
    p.add_referral(G, "y", "y1", d(2024, 2, 15), "practice", "cai")   # stage 3 at once
    p.add_referral(G, "y", "y2", d(2024, 3, 1), "cai")
    p.add_referral(G, "y", "y3", d(2024, 3, 31), "ben")
    p.add_referrer(G, "v", point_person="ana", since=d(2024, 3, 1))
    p.add_referral(G, "v", "v1", d(2024, 3, 5), "ben")                # a colleague first: stage 2
    p.add_referrer(G, "z", point_person="ben", since=d(2023, 12, 20))
    p.add_contact(G, "z", "k2", d(2023, 12, 28), "ben")               # the first event: rows start here
    p.add_referrer(G, "w", point_person="ana", since=d(2023, 6, 1))   # not in the histories below
    p.add_referral(G, "w", "w1", d(2023, 7, 1), "ana")
    p.add_referral(G, "w", "w2", d(2024, 1, 9), "practice", "ana")
    return G


AS_OF = d(2024, 4, 15)


def test_monthly_activity_rows(monthly):
    h = stage_histories(monthly, ["x", "y", "v", "z"], as_of=AS_OF)
    rows = monthly_activity(monthly, h, as_of=AS_OF)
    assert rows == [
        {"month": "2023-12", "referrals": 0, "addressed_to_practice": 0, "practice_share": None,
         "referrers_active": 0, "new_referrers": 0, "reached": NONE_REACHED, "median_effective_breadth": None},
        # x: ana and ben, one each: 2**2 / (1 + 1) = 2.0.
        {"month": "2024-01", "referrals": 2, "addressed_to_practice": 1, "practice_share": 0.5,
         "referrers_active": 1, "new_referrers": 1, "reached": {1: 1, 2: 0, 3: 1},
         "median_effective_breadth": 2.0},
        # y: cai alone, 1.0; the median of 2.0 and 1.0.
        {"month": "2024-02", "referrals": 1, "addressed_to_practice": 1, "practice_share": 1.0,
         "referrers_active": 1, "new_referrers": 1, "reached": {1: 0, 2: 0, 3: 1},
         "median_effective_breadth": 1.5},
        # x: ana 2, ben 1: 9 / 5 = 1.8; y: cai 2, ben 1: 1.8; v: 1.0.
        {"month": "2024-03", "referrals": 4, "addressed_to_practice": 0, "practice_share": 0.0,
         "referrers_active": 3, "new_referrers": 1, "reached": {1: 0, 2: 1, 3: 0},
         "median_effective_breadth": 1.8},
        # x: ana 2, ben 1, cai 1: 16 / 6; the median of 2.6667, 1.8 and 1.0 is still y's.
        {"month": "2024-04", "referrals": 1, "addressed_to_practice": 0, "practice_share": 0.0,
         "referrers_active": 1, "new_referrers": 0, "reached": NONE_REACHED, "median_effective_breadth": 1.8},
    ]


def test_monthly_activity_is_the_same_on_a_graph_cut_to_as_of(monthly):
    h = stage_histories(monthly, ["x", "y", "v", "z"], as_of=AS_OF)
    assert monthly_activity(p.as_of(monthly, AS_OF), h, as_of=AS_OF) == monthly_activity(monthly, h, as_of=AS_OF)


def test_monthly_activity_without_events_is_empty():
    G = p.new_graph()
    p.add_referrer(G, "x", since=d(2024, 1, 1))
    assert monthly_activity(G, stage_histories(G, as_of=AS_OF), as_of=AS_OF) == []


def test_monthly_median_breadth_matches_a_recount_every_month():
    """The incremental breadth against the definition, recomputed from scratch for each month's end."""
    rng = random.Random(7)
    G = p.new_graph()
    members = [f"c{i}" for i in range(6)]
    for m in members:
        p.add_member(G, m)
    start = d(2023, 1, 1)
    for r in range(40):
        p.add_referrer(G, f"r{r}", point_person=rng.choice(members), since=start)
        for i in range(rng.randrange(0, 12)):
            p.add_referral(G, f"r{r}", f"r{r}-{i}", start + timedelta(days=rng.randrange(0, 500)),
                           rng.choice(members + ["practice"]), rng.choice(members[:rng.randrange(1, 7)]))
    as_of = d(2024, 5, 20)
    rows = monthly_activity(G, stage_histories(G, as_of=as_of), as_of=as_of)
    for row in rows:
        y, m = map(int, row["month"].split("-"))
        end = min(as_of, (d(y + m // 12, m % 12 + 1, 1) - timedelta(days=1)))
        breadths = []
        for r in range(40):
            counts = Counter(v for _, v, e in G.out_edges(f"r{r}", data=True) if e["date"] <= end)
            n = sum(counts.values())
            if n:
                breadths.append(n * n / sum(c * c for c in counts.values()))
        expected = round(statistics.median(breadths), 4) if breadths else None
        assert row["median_effective_breadth"] == expected, row["month"]
        in_month = [e for _, _, e in G.edges(data=True) if e["date"].strftime("%Y-%m") == row["month"]
                    and e["date"] <= as_of]
        assert row["referrals"] == len(in_month)
        assert row["addressed_to_practice"] == sum(e["addressed_to"] == "practice" for e in in_month)


@pytest.fixture
def contacted():
    G = p.new_graph()
    p.add_member(G, "ana")
    p.add_member(G, "ben")
    p.add_member(G, "dee", kind="staff", role="intake_coordinator")
    # 2024 is a leap year: 1 January + 90 days is 31 March.
    p.add_referrer(G, "x", point_person="ana", since=d(2024, 1, 1))
    p.add_contact(G, "x", "k1", d(2024, 1, 1), "ana", "lunch")
    p.add_referral(G, "x", "x1", d(2024, 3, 31), "ana")           # day 90: followed
    p.add_referrer(G, "y", point_person="ben", since=d(2024, 1, 1))
    p.add_contact(G, "y", "k2", d(2024, 1, 1), "ben", "lunch")
    p.add_referral(G, "y", "y1", d(2024, 4, 1), "ben")            # day 91: not
    p.add_referrer(G, "z", point_person="ana", since=d(2024, 1, 1))
    p.add_contact(G, "z", "k3", d(2024, 2, 1), "dee", "talk")
    p.add_referral(G, "z", "z1", d(2024, 2, 1), "ana")            # the contact's own day: not
    p.add_contact(G, "z", "k4", d(2024, 10, 2), "dee", "talk")    # the last day judged (as_of - 90)
    p.add_contact(G, "z", "k5", d(2024, 10, 3), "dee", "talk")    # window still open: pending
    p.add_referral(G, "z", "z2", d(2024, 11, 1), "ben")           # 1 -> 2, 30 days after k4
    p.add_contact(G, "z", "k6", d(2025, 1, 5), "dee", "lunch")    # after as_of: left out
    return G


def test_outreach_counts_and_follow_ups(contacted):
    as_of = d(2024, 12, 31)
    out = outreach(contacted, stage_histories(contacted, as_of=as_of), as_of=as_of)
    assert out["by_kind"] == {"lunch": 2, "talk": 3, "school_consult": 0, "staffing": 0, "case_consult": 0,
                              "site_visit": 0, "follow_up": 0, "update_sent": 0}
    assert {m: {k: n for k, n in kinds.items() if n} for m, kinds in out["by_member"].items()} == {
        "ana": {"lunch": 1}, "ben": {"lunch": 1}, "dee": {"talk": 3}}
    assert [(r["month"], r["total"], r["lunch"], r["talk"]) for r in out["by_month"] if r["total"]] == [
        ("2024-01", 2, 2, 0), ("2024-02", 1, 0, 1), ("2024-10", 2, 0, 2)]
    assert len(out["by_month"]) == 12
    # Referrer-days 1 January to 2 October (276), by stage; followed: a rise within the next 90 days.
    # Stage 0: x 90 days (all followed), y 91 (90: not 1 January), z 31 (all) -> 211 / 212.
    # Stage 1: x 186, y 185, z 245 days; followed only z's 3 August to 2 October (61) -> 61 / 616.
    assert out["baseline_by_stage"] == {0: round(211 / 212, 4), 1: round(61 / 616, 4), 2: None, 3: None}
    follow = out["follow_up"]
    assert follow["lunch"] == {"contacts": 2, "referrers": 2, "pending": 0, "judged": 2, "followed": 1,
                               "share": 0.5, "baseline": round(211 / 212, 4)}   # both in stage 0
    assert follow["talk"] == {"contacts": 3, "referrers": 1, "pending": 1, "judged": 2, "followed": 1,
                              "share": 0.5, "baseline": round(61 / 616, 4)}     # both in stage 1
    assert follow["all"] == {"contacts": 5, "referrers": 3, "pending": 1, "judged": 4, "followed": 2,
                             "share": 0.5, "baseline": round((211 / 212 + 61 / 616) / 2, 4)}
    assert follow["staffing"] == {"contacts": 0, "referrers": 0, "pending": 0, "judged": 0, "followed": 0,
                                  "share": None, "baseline": None}
    assert (out["within_days"], out["as_of"]) == (90, as_of)


def test_outreach_with_a_shorter_window(contacted):
    as_of = d(2024, 12, 31)
    out = outreach(contacted, stage_histories(contacted, as_of=as_of), as_of=as_of, within_days=30)
    # 1 December is the last day judged: k5 is too, followed by z2 29 days later; k4 30 days before it.
    talk = out["follow_up"]["talk"]
    assert (talk["judged"], talk["pending"], talk["followed"]) == (3, 0, 2)
    assert out["follow_up"]["lunch"]["followed"] == 0   # 90 and 91 days: neither within 30


def test_outreach_other_contact_kinds_are_kept():
    G = p.new_graph()
    p.add_member(G, "ana")
    p.add_referrer(G, "x", point_person="ana", since=d(2024, 1, 1))
    p.add_contact(G, "x", "k1", d(2024, 1, 2), "ana", "conference")
    out = outreach(G, stage_histories(G, as_of=d(2024, 12, 31)), as_of=d(2024, 12, 31))
    assert out["by_kind"]["conference"] == 1 and out["by_member"]["ana"]["conference"] == 1
    assert out["follow_up"]["conference"]["judged"] == 1


@pytest.fixture
def sent_away():
    G = p.new_graph()
    p.add_provider(G, "ep1", name="Stonebridge", niches=["tms", "medication_management"])
    p.add_provider(G, "ep2", name="Summit", niches=["neuropsych_testing"])
    p.add_provider(G, "ep3", name="Unused")
    p.add_referrer(G, "x", since=d(2022, 1, 1))
    p.add_referrer(G, "y", since=d(2022, 1, 1))
    p.add_referral_out(G, "x", "o1", d(2024, 6, 1), "ep1", "tms")
    p.add_referral_out(G, "y", "o2", d(2024, 12, 31), "ep1", "tms")                     # on as_of
    p.add_referral_out(G, "x", "o3", d(2023, 12, 31), "ep1", "medication_management")   # a year before: previous
    p.add_referral_out(G, "x", "o4", d(2023, 5, 1), "ep2", "neuropsych_testing")
    p.add_referral_out(G, "y", "o5", d(2022, 12, 31), "ep2", "neuropsych_testing")      # two years before: neither
    p.add_referral_out(G, "y", "o6", d(2024, 1, 1), "ep2", "neuropsych_testing")
    p.add_referral_out(G, "x", "o7", d(2025, 1, 2), "ep1", "tms")                       # after as_of
    return G


def test_coverage(sent_away):
    c = coverage(sent_away, as_of=d(2024, 12, 31), top=2)
    assert c["by_niche"] == {
        "medication_management": {"referrals_out": 1, "last_12_months": 0, "previous_12_months": 1,
                                  "referrers": 1, "providers": ["ep1"]},
        "neuropsych_testing": {"referrals_out": 3, "last_12_months": 1, "previous_12_months": 1,
                               "referrers": 2, "providers": ["ep2"]},
        "tms": {"referrals_out": 2, "last_12_months": 2, "previous_12_months": 0, "referrers": 2,
                "providers": ["ep1"]},
    }
    assert c["by_provider"] == {
        "ep1": {"name": "Stonebridge", "niches": ["medication_management", "tms"], "referrals_out": 3,
                "by_niche": {"medication_management": 1, "tms": 2}},
        "ep2": {"name": "Summit", "niches": ["neuropsych_testing"], "referrals_out": 3,
                "by_niche": {"neuropsych_testing": 3}},
        "ep3": {"name": "Unused", "niches": [], "referrals_out": 0, "by_niche": {}},
    }
    assert [(n["niche"], n["last_12_months"], n["change"]) for n in c["niches_sent_away"]] == [
        ("tms", 2, 2), ("neuropsych_testing", 1, 0), ("medication_management", 0, -1)]
    assert c["top_niches"] == ["neuropsych_testing", "tms"]
    assert len(c["by_month"]) == 25 and c["by_month"][0]["month"] == "2022-12"
    months = {r["month"]: r for r in c["by_month"]}
    assert months["2022-12"] == {"month": "2022-12", "total": 1, "neuropsych_testing": 1, "tms": 0, "other": 0}
    assert months["2023-12"] == {"month": "2023-12", "total": 1, "neuropsych_testing": 0, "tms": 0, "other": 1}
    assert months["2024-12"] == {"month": "2024-12", "total": 1, "neuropsych_testing": 0, "tms": 1, "other": 0}
    assert c["referrals_out"] == 6


def test_coverage_ranking_ties_go_to_the_larger_total_then_the_name(sent_away):
    p.add_referral_out(sent_away, "x", "o8", d(2024, 3, 1), "ep2", "neuropsych_testing")
    ranking = [n["niche"] for n in coverage(sent_away, as_of=d(2024, 12, 31))["niches_sent_away"]]
    assert ranking == ["neuropsych_testing", "tms", "medication_management"]   # 2 each lately: 4 against 2


def test_coverage_of_a_practice_that_sends_nothing_away():
    G = p.new_graph()
    p.add_provider(G, "ep1", niches=["tms"])
    c = coverage(G, as_of=d(2024, 12, 31))
    assert (c["by_niche"], c["by_month"], c["niches_sent_away"], c["referrals_out"]) == ({}, [], [], 0)
    assert c["by_provider"]["ep1"]["referrals_out"] == 0


def test_a_graph_cut_to_as_of_gives_the_same_outreach_and_coverage(contacted, sent_away):
    as_of = d(2024, 12, 31)
    h = stage_histories(contacted, as_of=as_of)
    assert outreach(p.as_of(contacted, as_of), h, as_of=as_of) == outreach(contacted, h, as_of=as_of)
    assert coverage(p.as_of(sent_away, as_of), as_of=as_of) == coverage(sent_away, as_of=as_of)
