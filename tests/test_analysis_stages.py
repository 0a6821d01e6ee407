"""Stages and metrics on small hand-built graphs (no database)."""

from __future__ import annotations

from datetime import date as d

import pytest

from graphsvc.analysis import graph as p
from graphsvc.analysis import monthly_stage_counts, referrer_metrics, stage_counts, stage_histories


@pytest.fixture
def G():
    G = p.new_graph()
    for m in ("ana", "ben", "cai"):
        p.add_member(G, m)
    p.add_member(G, "dee", kind="staff", role="intake_coordinator")
    # Point person handed from ana to ben on 2024-06-01.
    p.add_referrer(G, "handoff", tenures=[(d(2024, 1, 1), d(2024, 6, 1), "ana"), (d(2024, 6, 1), None, "ben")])
    p.add_referral(G, "handoff", "r1", d(2024, 2, 1), "ana")
    p.add_referral(G, "handoff", "r2", d(2024, 7, 1), "ben")   # ben is point person by now
    p.add_referral(G, "handoff", "r3", d(2024, 8, 1), "ana")   # ana is a colleague by now
    p.add_introduction(G, "handoff", "i1", d(2024, 5, 1), "cai", by="ana")
    p.add_contact(G, "handoff", "k1", d(2024, 9, 1), "ben")
    # A referral addressed to the intake coordinator counts as addressed to the practice.
    p.add_referrer(G, "staffed", point_person="ana", since=d(2024, 1, 1))
    p.add_referral(G, "staffed", "r4", d(2024, 2, 1), "ana")
    p.add_referral(G, "staffed", "r5", d(2024, 3, 1), "dee", "ben")
    p.add_referral(G, "staffed", "r6", d(2024, 4, 1), "ana")
    # First referral straight to the practice.
    p.add_referrer(G, "jumper", point_person="ben", since=d(2024, 1, 1))
    p.add_referral(G, "jumper", "r7", d(2024, 1, 15), "practice", "cai")
    # Three referrals to the point person early in 2023, nothing since.
    p.add_referrer(G, "staller", point_person="cai", since=d(2023, 1, 1))
    for i, month in enumerate((2, 3, 4)):
        p.add_referral(G, "staller", f"r{8 + i}", d(2023, month, 1), "cai")
    p.add_referrer(G, "newbie", point_person="ana", since=d(2024, 10, 1))
    # Two referrals on one day: ties are broken by id (r11 before r12).
    p.add_referrer(G, "ties", point_person="ana", since=d(2024, 1, 1))
    p.add_referral(G, "ties", "r12", d(2024, 5, 1), "ben")
    p.add_referral(G, "ties", "r11", d(2024, 5, 1), "practice", "cai")
    return G


AS_OF = d(2024, 12, 31)


def test_stage_after_a_handoff_uses_the_point_person_of_each_date(G):
    h = stage_histories(G, ["handoff"], as_of=AS_OF)["handoff"]
    assert h["history"] == [{"stage": 1, "date": d(2024, 2, 1), "referral": "r1"},
                            {"stage": 2, "date": d(2024, 8, 1), "referral": "r3"}]
    assert (h["stage"], h["days_to_stage_2"], h["days_to_stage_3"], h["jumped"]) == (2, 182, None, False)


def test_staff_addressed_referral_counts_as_practice_and_one_is_enough_to_stay(G):
    h = stage_histories(G, ["staffed"], as_of=AS_OF)["staffed"]
    # r5 (to the intake coordinator) makes 1 of 2 to the practice: stage 3; after r6 (to
    # the point person) 1 of the last 3 still went to the practice, so it stays.
    assert [(c["stage"], c["referral"]) for c in h["history"]] == [(1, "r4"), (3, "r5")]
    assert h["reached"] == {1: d(2024, 2, 1), 3: d(2024, 3, 1)}
    assert (h["stage"], h["jumped"], h["days_to_stage_3"]) == (3, True, 29)


def test_jumped_straight_to_stage_3(G):
    h = stage_histories(G, ["jumper"], as_of=AS_OF)["jumper"]
    assert (h["stage"], h["jumped"], h["days_to_stage_3"], h["history"]) == (
        3, True, 0, [{"stage": 3, "date": d(2024, 1, 15), "referral": "r7"}])


def test_stalled_and_lapsed(G):
    h = stage_histories(G, ["staller"], as_of=d(2024, 1, 1))["staller"]
    assert (h["stage"], h["stalled"], h["lapsed"]) == (1, True, True)
    # 180 days into stage 1 is not yet more than 180.
    h = stage_histories(G, ["staller"], as_of=d(2023, 7, 31))["staller"]
    assert ((d(2023, 7, 31) - d(2023, 2, 1)).days, h["stalled"]) == (180, False)
    h = stage_histories(G, ["staller"], stall_days=30, lapse_days=400, as_of=d(2024, 1, 1))["staller"]
    assert (h["stalled"], h["lapsed"]) == (True, False)


def test_new_referrer_is_stage_0(G):
    h = stage_histories(G, ["newbie"], as_of=AS_OF)["newbie"]
    assert (h["stage"], h["history"], h["referrals"], h["stalled"], h["lapsed"]) == (0, [], 0, False, False)


def test_ties_on_one_day_are_ordered_by_id(G):
    h = stage_histories(G, ["ties"], as_of=AS_OF)["ties"]
    # r11 (practice) first: stage 3; then r12 (a colleague): still half of 2 to the practice.
    assert [(c["stage"], c["referral"]) for c in h["history"]] == [(3, "r11")]
    assert h["jumped"] is True


def test_window_setting_changes_stage_3(G):
    assert stage_histories(G, ["staffed"], window=2, as_of=AS_OF)["staffed"]["stage"] == 3  # r5 in r5, r6
    h = stage_histories(G, ["staffed"], window=1, as_of=AS_OF)["staffed"]  # r6 alone: none to the practice
    assert h["history"] == [{"stage": 1, "date": d(2024, 2, 1), "referral": "r4"},
                            {"stage": 3, "date": d(2024, 3, 1), "referral": "r5"},
                            {"stage": 1, "date": d(2024, 4, 1), "referral": "r6"}]


def test_stage_counts(G):
    assert stage_counts(stage_histories(G, as_of=AS_OF)) == {0: 1, 1: 1, 2: 1, 3: 3}


def test_metrics_of_the_staffed_referrer(G):
    m = referrer_metrics(G, ["staffed"], as_of=AS_OF)["staffed"]
    assert m == {
        "point_person": "ana", "referrals": 3, "reached": 3, "breadth": 2,
        "concentration": 0.5556, "effective_breadth": 1.8,
        "point_person_share": 0.6667, "practice_share": 0.3333, "recent_practice_share": 0.3333,
        "passes": {"scheduling": 0, "insurance": 0, "specialty": 0, "other": 0}, "passes_total": 0,
        "introductions": 0, "contacts": 0, "last_referral": d(2024, 4, 1), "last_contact": None,
        "trend": {"last_12_months": 3, "previous_12_months": 0, "change": 3},
    }


def test_metrics_after_a_handoff_count_introductions_and_contacts(G):
    m = referrer_metrics(G, ["handoff"], window=1, as_of=d(2025, 3, 1))["handoff"]
    assert (m["point_person"], m["reached"], m["point_person_share"], m["recent_practice_share"]) == (
        "ben", 3, 0.6667, 0.0)
    assert (m["introductions"], m["contacts"], m["last_contact"]) == (1, 1, d(2024, 9, 1))
    assert m["trend"] == {"last_12_months": 2, "previous_12_months": 1, "change": 1}


def test_passes_by_reason():
    G = p.new_graph()
    p.add_member(G, "ana")
    p.add_member(G, "ben")
    p.add_referrer(G, "x", point_person="ana", since=d(2024, 1, 1))
    p.add_referral(G, "x", "a", d(2024, 2, 1), "ana", "ben", pass_reason="insurance")
    p.add_referral(G, "x", "b", d(2024, 2, 2), "ana", "ben", pass_reason="insurance")
    p.add_referral(G, "x", "c", d(2024, 2, 3), "ana", "ben", pass_reason="scheduling")
    m = referrer_metrics(G, as_of=AS_OF)["x"]
    assert (m["passes"], m["passes_total"], m["breadth"], m["concentration"], m["point_person_share"]) == (
        {"scheduling": 1, "insurance": 2, "specialty": 0, "other": 0}, 3, 1, 1.0, 1.0)


def test_no_referrals_gives_empty_metrics(G):
    m = referrer_metrics(G, ["newbie"], as_of=AS_OF)["newbie"]
    assert (m["referrals"], m["concentration"], m["effective_breadth"], m["practice_share"]) == (0, None, None, None)


def test_monthly_stage_counts():
    G = p.new_graph()
    p.add_member(G, "ana")
    p.add_member(G, "ben")
    p.add_referrer(G, "a", point_person="ana", since=d(2024, 1, 10))
    p.add_referral(G, "a", "r1", d(2024, 2, 5), "ana")
    p.add_referral(G, "a", "r2", d(2024, 3, 20), "ben")
    p.add_referrer(G, "b", point_person="ana", since=d(2024, 2, 15))
    rows = monthly_stage_counts(G, stage_histories(G, as_of=d(2024, 3, 31)), as_of=d(2024, 3, 31))
    assert rows == [
        {"month": "2024-01", "stages": {0: 1, 1: 0, 2: 0, 3: 0}},
        {"month": "2024-02", "stages": {0: 1, 1: 1, 2: 0, 3: 0}},
        {"month": "2024-03", "stages": {0: 1, 1: 0, 2: 1, 3: 0}},
    ]


def _run(G, referrer, addressed: str, *, start: int = 1) -> None:
    """One referral a day from 2024-03-01: ``P`` to the practice, ``A`` to ana (the point person), ``C`` to ben."""
    to = {"P": "practice", "A": "ana", "C": "ben"}
    for i, code in enumerate(addressed, start=start):
        p.add_referral(G, referrer, f"{referrer}{i:02d}", d(2024, 3, i), to[code], "cai" if code == "P" else None)


def _whole_practice_flags(G, referrer) -> list[bool]:
    from graphsvc.analysis.referrals import referral_edges, to_practice

    return [to_practice(G, e[3]["addressed_to"]) for e in referral_edges(G, referrer)]


def test_a_mixed_run_stays_in_stage_3_while_any_of_the_last_window_went_to_the_practice(G):
    from graphsvc.analysis.referrals import in_whole_practice

    p.add_referrer(G, "mixed", point_person="ana", since=d(2024, 1, 1))
    _run(G, "mixed", "PPPCPCCC")
    h = stage_histories(G, ["mixed"], window=5, as_of=AS_OF)["mixed"]
    # Under "at least half of the last 5" alone it would have dropped to 2 on mixed07 (2 of 5).
    assert h["history"] == [{"stage": 3, "date": d(2024, 3, 1), "referral": "mixed01"}]
    assert (h["stage"], h["jumped"]) == (3, True)
    assert in_whole_practice(_whole_practice_flags(G, "mixed"), window=5) is True


def test_stage_3_is_left_on_the_referral_that_makes_the_whole_window_miss_the_practice(G):
    from graphsvc.analysis.referrals import in_whole_practice

    p.add_referrer(G, "leaver", point_person="ana", since=d(2024, 1, 1))
    _run(G, "leaver", "PPPCPCCCC")                 # after leaver09, leaver05 is still among the last 5
    assert stage_histories(G, ["leaver"], as_of=AS_OF)["leaver"]["stage"] == 3
    _run(G, "leaver", "CAA", start=10)             # leaver10: none of the last 5; then to the point person
    h = stage_histories(G, ["leaver"], window=5, as_of=AS_OF)["leaver"]
    # It falls to 2, not 1: it tried a colleague (leaver04), and stage 2 is never left for 1.
    assert h["history"] == [{"stage": 3, "date": d(2024, 3, 1), "referral": "leaver01"},
                            {"stage": 2, "date": d(2024, 3, 10), "referral": "leaver10"}]
    assert (h["stage"], h["reached"]) == (2, {3: d(2024, 3, 1), 2: d(2024, 3, 10)})
    # jumped means "never in stage 2", which falling back into it ends.
    assert (h["jumped"], h["days_to_stage_2"], h["days_to_stage_3"]) == (False, 9, 0)
    assert in_whole_practice(_whole_practice_flags(G, "leaver"), window=5) is False


def test_leaving_stage_3_without_a_colleague_falls_to_1_and_reentering_needs_half_again(G):
    p.add_referrer(G, "back", point_person="ana", since=d(2024, 1, 1))
    _run(G, "back", "PAAAPP")
    h = stage_histories(G, ["back"], window=3, as_of=AS_OF)["back"]
    # back04: none of the last 3 to the practice; back05: 1 of 3 is not enough to come back; back06: 2 of 3.
    assert h["history"] == [{"stage": 3, "date": d(2024, 3, 1), "referral": "back01"},
                            {"stage": 1, "date": d(2024, 3, 4), "referral": "back04"},
                            {"stage": 3, "date": d(2024, 3, 6), "referral": "back06"}]
    # The pace keeps the first date each stage was reached.
    assert (h["reached"], h["days_to_stage_3"]) == ({3: d(2024, 3, 1), 1: d(2024, 3, 4)}, 0)


def test_stage_2_is_never_left_for_stage_1(G):
    p.add_referrer(G, "sticky", point_person="ana", since=d(2024, 1, 1))
    _run(G, "sticky", "C" + "A" * 6)
    h = stage_histories(G, ["sticky"], window=2, as_of=AS_OF)["sticky"]
    assert [(c["stage"], c["referral"]) for c in h["history"]] == [(2, "sticky01")]
