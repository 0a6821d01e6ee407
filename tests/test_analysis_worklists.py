"""The managers' worklists on small hand-built graphs (no database)."""

from __future__ import annotations

from datetime import date as d

import pytest

from graphsvc.analysis import graph as p
from graphsvc.analysis import referrer_metrics, stage_histories
from graphsvc.analysis.index import Index
from graphsvc.analysis.practice import key_person_risk
from graphsvc.analysis.suggestions import suggest_introductions
from graphsvc.analysis.worklists import (
    COMMON_COLUMNS,
    WORKLISTS,
    filter_sort_page,
    follow_up_figures,
    row_id,
    worklists,
)
from tests.helpers import add_small_team, small_graph

# A row nobody has worked on yet (graphsvc.analysis.worklists.with_tasks).
UNTOUCHED = {"task_status": "open", "assigned_to": None, "assigned_to_name": None, "snoozed_until": None,
             "note": "", "done_on": None}

AS_OF = d(2024, 12, 31)


def lists(G, as_of=AS_OF, **options):
    """Every worklist, from the real histories and metrics judged on ``as_of``."""
    return worklists(G, stage_histories(G, as_of=as_of), referrer_metrics(G, as_of=as_of), as_of=as_of,
                     **options)


def team(G):
    p.add_member(G, "ana", name="Ana Ruiz")
    p.add_member(G, "ben", name="Ben Okafor")
    p.add_member(G, "cai", name="Cai Lin")


def referrals(G, referrer, days, addressed="ana", prefix=None):
    for i, day in enumerate(days, start=1):
        p.add_referral(G, referrer, f"{prefix or referrer}{i}", day, addressed)


def test_every_list_is_returned_in_the_order_of_worklists_with_its_columns():
    G = p.new_graph()
    team(G)
    p.add_referrer(G, "x", point_person="ana", since=d(2024, 12, 1))
    p.add_referral(G, "x", "x1", d(2024, 12, 19), "ana")
    out = lists(G)
    assert list(out) == list(WORKLISTS) == ["new", "stalled", "ready", "lapsed", "follow-up", "unseen",
                                            "key-person-risk"]
    for name in ("new", "follow-up", "key-person-risk"):
        assert tuple(out[name][0]) == WORKLISTS[name]["columns"], name
        assert WORKLISTS[name]["columns"][1:len(COMMON_COLUMNS) + 1] == COMMON_COLUMNS
    for spec in WORKLISTS.values():
        assert spec["title"] and spec["description"] and spec["order"]
        assert set(spec["sorts"]) <= set(spec["columns"])
        assert set(spec["filters"]) <= set(spec["columns"])


# --- new ---------------------------------------------------------------------------------------------------


@pytest.fixture
def newcomers():
    G = p.new_graph()
    team(G)
    p.add_referrer(G, "d90", name="Dr. Ninety", point_person="ana", since=d(2024, 9, 1))
    p.add_referral(G, "d90", "a1", d(2024, 10, 2), "ana")            # 90 days before AS_OF: new
    p.add_referrer(G, "d91", point_person="ana", since=d(2024, 9, 1))
    p.add_referral(G, "d91", "b1", d(2024, 10, 1), "ana")            # 91 days: not new
    p.add_referrer(G, "lee", name="Dr. Lee", referrer_kind="physician", organization="Lee Family Medicine",
                   point_person="ben", since=d(2024, 12, 1))
    p.add_referral(G, "lee", "c1", d(2024, 12, 19), "ben")
    p.add_referral(G, "lee", "c2", d(2024, 12, 20), "ana")
    p.add_referrer(G, "later", point_person="ana", since=d(2024, 12, 1))
    p.add_referral(G, "later", "e1", d(2025, 1, 10), "ana")          # after AS_OF: not yet
    p.add_referrer(G, "none", point_person="ana", since=d(2024, 12, 1))  # no referral: stage 0, not new
    return G


def test_new_referrers_first_referral_within_new_days_newest_first(newcomers):
    rows = lists(newcomers)["new"]
    assert [(r["referrer"], r["days_since_first"]) for r in rows] == [("lee", 12), ("d90", 90)]
    assert rows[0] == {
        "id": row_id("new", "lee", d(2024, 12, 19)),
        "referrer": "lee", "name": "Dr. Lee", "referrer_kind": "physician", "organization": "Lee Family Medicine",
        "point_person": "ben", "point_person_name": "Ben Okafor", "stage": 2, "referrals": 2,
        "first_referral": d(2024, 12, 19), "last_referral": d(2024, 12, 20), "days_since_first": 12,
        "why": "first referral 12 days ago (2024-12-19); 2 referrals so far",
        "next_step": "Bring your A game: see these clients quickly and report back to Dr. Lee.",
        "priority": 4.5, "referrer_id": "lee",  # 2 referrals a year (+1), in its first 30 days (x 1.5)
        "status": "open", **UNTOUCHED,
    }
    assert rows[1]["next_step"] == "Bring your A game: see this client quickly and report back to Dr. Ninety."
    assert [r["referrer"] for r in lists(newcomers, new_days=89)["new"]] == ["lee"]
    assert [r["referrer"] for r in lists(newcomers, new_days=91)["new"]] == ["lee", "d90", "d91"]


def test_new_on_an_earlier_day_leaves_out_what_came_later(newcomers):
    # Judged on the day of Dr. Lee's first referral, on the graph as it stood then.
    day = d(2024, 12, 19)
    rows = lists(p.as_of(newcomers, day), as_of=day)["new"]
    assert [r["referrer"] for r in rows] == ["lee", "d90", "d91"]
    assert rows[0]["why"] == "first referral today (2024-12-19); 1 referral so far"
    # On the uncut graph the same day: a first referral after as_of is never new.
    assert [r["referrer"] for r in lists(newcomers, as_of=d(2024, 12, 18))["new"]] == ["d90", "d91"]


# --- stalled -----------------------------------------------------------------------------------------------


def test_stalled_is_the_histories_flag_longest_in_stage_1_first():
    G = p.new_graph()
    team(G)
    for r in ("s1", "s2", "s3", "s4", "s5"):
        p.add_referrer(G, r, name=f"Dr. {r.upper()}", point_person="ana", since=d(2023, 1, 1))
    referrals(G, "s1", [d(2023, 2, 1), d(2023, 5, 1), d(2024, 1, 1)])
    referrals(G, "s2", [d(2024, 7, 1), d(2024, 8, 1), d(2024, 9, 1)])   # stage 1 for 183 days: stalled
    referrals(G, "s3", [d(2024, 7, 5), d(2024, 8, 1), d(2024, 9, 1)])   # 179 days: not yet
    referrals(G, "s4", [d(2023, 2, 1), d(2023, 3, 1)])                   # only 2 referrals
    referrals(G, "s5", [d(2023, 2, 1), d(2023, 3, 1), d(2023, 4, 1)])
    p.add_referral(G, "s5", "s5x", d(2023, 5, 1), "ben")                 # tried a colleague: stage 2
    histories = stage_histories(G, as_of=AS_OF)
    rows = lists(G)["stalled"]
    assert [(r["referrer"], r["stage_since"], r["days_in_stage"]) for r in rows] == [
        ("s1", d(2023, 2, 1), 699), ("s2", d(2024, 7, 1), 183)]
    assert {r["referrer"] for r in rows} == {r for r, h in histories.items() if h["stalled"]}
    assert rows[1]["why"] == "in stage 1 for 183 days (since 2024-07-01); 3 referrals, none addressed to a " \
                             "colleague of Ana Ruiz"
    assert rows[1]["next_step"] == "Get Dr. S2 to try a colleague: Ana Ruiz introduces a colleague who suits " \
                                   "Dr. S2's clients (see the suggestions on the referrer's page)."


# --- ready -------------------------------------------------------------------------------------------------


@pytest.fixture
def practice():
    """add_small_team: clinicians ana, ben, cai, dot; eve the intake coordinator."""
    G = p.new_graph()
    add_small_team(G)
    p.add_referrer(G, "u", name="Dr. U", point_person="ana", since=d(2024, 1, 1))
    for i, m in enumerate(("ana", "ben", "cai"), start=1):
        p.add_referral(G, "u", f"u{i}", d(2024, 2, i), m)             # two colleagues tried: ready
    p.add_referrer(G, "v", point_person="ana", since=d(2024, 1, 1))
    p.add_referral(G, "v", "v1", d(2024, 2, 1), "ben")                 # one colleague: ready only after 1
    p.add_referral(G, "v", "v2", d(2024, 3, 1), "ben")
    p.add_referrer(G, "w", point_person="ana", since=d(2024, 1, 1))   # stage 3: never ready
    for i, m in enumerate(("ben", "cai", "practice", "practice"), start=1):
        p.add_referral(G, "w", f"w{i}", d(2024, 2, i), m, "cai" if m == "practice" else None)
    p.add_referrer(G, "x", point_person="ana", since=d(2024, 1, 1))   # already introduced to eve
    p.add_referral(G, "x", "x1", d(2024, 2, 1), "ben")
    p.add_referral(G, "x", "x2", d(2024, 3, 1), "cai")
    p.add_introduction(G, "x", "xi", d(2024, 4, 1), "eve", by="ana")
    # Handed from ana to ben: ben was point person for y2, ana is a colleague by y3.
    p.add_referrer(G, "y", tenures=[(d(2024, 1, 1), d(2024, 3, 1), "ana"), (d(2024, 3, 1), None, "ben")])
    p.add_referral(G, "y", "y1", d(2024, 2, 1), "ana")
    p.add_referral(G, "y", "y2", d(2024, 4, 1), "ben")
    p.add_referral(G, "y", "y3", d(2024, 5, 1), "ana")
    p.add_referral(G, "y", "y4", d(2024, 6, 1), "cai")
    p.add_referrer(G, "z", point_person="ana", since=d(2024, 1, 1))   # stage 1
    referrals(G, "z", [d(2024, 2, 1), d(2024, 3, 1)])
    return G


def test_ready_for_stage_3_with_the_intake_coordinator(practice):
    rows = lists(practice)["ready"]
    # Both tried 2 colleagues; y referred most recently.
    assert [(r["referrer"], r["colleagues_tried"], r["coordinator"]) for r in rows] == [
        ("y", 2, "eve"), ("u", 2, "eve")]
    assert rows[1] == {
        "id": row_id("ready", "u", d(2024, 2, 2)),  # the day its stage-2 spell began
        "referrer": "u", "name": "Dr. U", "referrer_kind": "other", "organization": "", "point_person": "ana",
        "point_person_name": "Ana", "stage": 2, "referrals": 3, "first_referral": d(2024, 2, 1),
        "last_referral": d(2024, 2, 3), "colleagues_tried": 2, "coordinator": "eve", "coordinator_name": "Eve",
        "coordinator_role": "intake_coordinator",
        "why": "in stage 2: has tried 2 colleagues of Ana (Ben and Cai) but does not yet send to the practice "
               "as a whole",
        "next_step": "Introduce the intake coordinator: Ana introduces Dr. U to Eve, who takes referrals for the "
                     "whole practice.",
        "priority": 6.0, "referrer_id": "u",  # 3 referrals a year (+1), an opening (x 1.5)
        "status": "open", **UNTOUCHED,
    }
    assert rows[0]["why"] == "in stage 2: has tried 2 colleagues of Ben (Ana and Cai) but does not yet send to " \
                             "the practice as a whole"
    assert [r["referrer"] for r in lists(practice, ready_after=1)["ready"]] == ["y", "u", "v"]
    assert lists(practice, ready_after=3)["ready"] == []
    with pytest.raises(ValueError, match="ready_after must be at least 1"):
        lists(practice, ready_after=0)


def test_a_referrer_in_stage_3_is_never_ready(practice):
    h = stage_histories(practice, as_of=AS_OF)
    assert h["w"]["stage"] == 3
    assert "w" not in {r["referrer"] for r in lists(practice, ready_after=1)["ready"]}


def test_ready_uses_any_staff_member_when_none_is_the_intake_coordinator(practice):
    practice.nodes["eve"]["role"] = "office_manager"
    rows = lists(practice)["ready"]
    assert [(r["referrer"], r["coordinator"], r["coordinator_role"]) for r in rows] == [
        ("y", "eve", "office_manager"), ("u", "eve", "office_manager")]
    assert rows[1]["next_step"] == "Introduce the office manager: Ana introduces Dr. U to Eve, who takes " \
                                   "referrals for the whole practice."
    practice.nodes["eve"]["role"] = None
    assert lists(practice)["ready"][1]["next_step"].startswith("Introduce the staff member: Ana introduces")


def test_no_staff_no_ready_rows(practice):
    practice.remove_node("eve")
    assert lists(practice)["ready"] == []


def test_ready_agrees_with_the_suggestions_intake_offer(practice):
    """The same referrers and the same staff member as ``suggest_introductions`` leads with."""
    # More staff: fay, a second intake coordinator addressed more often than eve; gus, an office manager.
    p.add_member(practice, "fay", name="Fay", kind="staff", role="intake_coordinator")
    p.add_member(practice, "gus", name="Gus", kind="staff", role="office_manager")
    p.add_referrer(practice, "q", point_person="cai", since=d(2024, 1, 1))
    p.add_referral(practice, "q", "q1", d(2024, 2, 1), "ana")
    p.add_referral(practice, "q", "q2", d(2024, 3, 1), "ben")
    p.add_referral(practice, "q", "q3", d(2024, 4, 1), "fay", "cai")   # 1 of 3 to the practice: stage 2
    p.add_introduction(practice, "y", "yi", d(2024, 7, 1), "fay", by="ben")   # y has met fay: eve it is
    h, m = stage_histories(practice, as_of=AS_OF), referrer_metrics(practice, as_of=AS_OF)
    offered = {}
    for ready_after in (1, 2, 3):
        offered[ready_after] = {}
        for r in h:
            out = suggest_introductions(practice, r, ready_after=ready_after)
            if out and out[0]["reasons"][0].startswith("ready for stage 3"):
                offered[ready_after][r] = out[0]["member"]
        for index in (None, Index(practice)):
            rows = worklists(practice, h, m, as_of=AS_OF, ready_after=ready_after, index=index)["ready"]
            assert {r["referrer"]: r["coordinator"] for r in rows} == offered[ready_after], ready_after
    # fay was addressed a referral (q3), eve none: fay first, unless met. x met eve (introduced): fay too;
    # y met fay (introduced) and q addressed her: eve. w (stage 3) and z (stage 1) never.
    assert offered == {1: {"u": "fay", "v": "fay", "x": "fay", "y": "eve", "q": "eve"},
                       2: {"u": "fay", "x": "fay", "y": "eve", "q": "eve"}, 3: {}}


# --- lapsed ------------------------------------------------------------------------------------------------


def test_lapsed_and_declining_with_their_reason_biggest_drop_first():
    G = p.new_graph()
    team(G)
    for r in ("lap", "old", "dec", "steady", "grow"):
        p.add_referrer(G, r, name=f"Dr. {r.title()}", point_person="ana", since=d(2020, 1, 1))
    referrals(G, "lap", [d(2023, 3, 1), d(2023, 4, 1), d(2023, 6, 1)])      # lapsed, 3 -> 0
    referrals(G, "old", [d(2021, 3, 1), d(2021, 4, 1), d(2021, 6, 1)])      # lapsed long ago, 0 -> 0
    referrals(G, "dec", [d(2023, 3, 1), d(2023, 4, 1), d(2023, 5, 1), d(2023, 6, 1), d(2024, 12, 1)])  # 4 -> 1
    referrals(G, "steady", [d(2023, 3, 1), d(2023, 4, 1), d(2024, 3, 1), d(2024, 12, 1)])  # 2 -> 2
    referrals(G, "grow", [d(2023, 3, 1), d(2024, 3, 1), d(2024, 12, 1)])    # 1 -> 2
    rows = lists(G)["lapsed"]
    assert [(r["referrer"], r["reason"], r["change"], r["days_since_last"]) for r in rows] == [
        ("dec", "declining", -3, 30), ("lap", "lapsed and declining", -3, 579), ("old", "lapsed", 0, 1309)]
    assert (rows[1]["last_12_months"], rows[1]["previous_12_months"]) == (0, 3)
    assert rows[1]["why"] == "no referral for 579 days (last 2023-06-01) after 3 referrals; 0 referrals in the " \
                             "last 12 months, 3 fewer than the 12 months before"
    assert rows[1]["next_step"] == "Reconnect: Ana Ruiz reaches out to Dr. Lap (a lunch, a visit, a call) to ask " \
                                   "how the practice can help again."
    assert rows[0]["why"] == "1 referral in the last 12 months, 3 fewer than the 12 months before"
    assert rows[0]["next_step"] == "Check in: Ana Ruiz asks Dr. Dec how recent referrals went and how the " \
                                   "practice can serve them better."
    assert rows[2]["why"] == "no referral for 1,309 days (last 2021-06-01) after 3 referrals"


# --- follow-up ---------------------------------------------------------------------------------------------


@pytest.fixture
def loops():
    G = p.new_graph()
    team(G)
    for r in ("f1", "f2", "f3", "f4", "f5", "f6", "f7"):
        p.add_referrer(G, r, name=f"Dr. {r.upper()}", point_person="ana", since=d(2024, 1, 1))
    p.add_referral(G, "f1", "a1", d(2024, 11, 1), "ana")
    p.add_contact(G, "f1", "k1", d(2024, 11, 15), "ben", "follow_up")   # day 14, by anyone: closed
    p.add_referral(G, "f2", "b1", d(2024, 11, 1), "ana")
    p.add_contact(G, "f2", "k2", d(2024, 11, 16), "ana", "follow_up")   # day 15: closed, late
    p.add_contact(G, "f3", "k3", d(2024, 10, 31), "ana", "follow_up")   # before the referral: no
    p.add_contact(G, "f3", "k4", d(2024, 11, 2), "ana", "lunch")        # not a follow-up
    p.add_referral(G, "f3", "c1", d(2024, 11, 1), "ana")
    # One follow-up closes the loop of every referral before it (those of more than 14 days before, late).
    p.add_referral(G, "f4", "d0", d(2024, 11, 10), "ana", "ben", pass_reason="scheduling")  # 22 days before
    p.add_referral(G, "f4", "d1", d(2024, 11, 20), "ana")
    p.add_referral(G, "f4", "d2", d(2024, 11, 25), "cai")
    p.add_referral(G, "f4", "d3", d(2024, 12, 2), "ana")
    p.add_contact(G, "f4", "k5", d(2024, 12, 2), "ana", "follow_up")    # the same day counts
    p.add_referral(G, "f5", "e1", d(2024, 12, 17), "ana")               # due on AS_OF
    p.add_referral(G, "f5", "e2", d(2024, 12, 20), "ana")               # due in 3 days
    p.add_contact(G, "f5", "k6", d(2025, 1, 2), "ana", "follow_up")     # after AS_OF: not yet
    p.add_referral(G, "f5", "e3", d(2025, 1, 5), "ana")                 # after AS_OF: not listed
    p.add_referral(G, "f6", "g1", d(2024, 10, 2), "ana")                # 90 days back: looked at
    p.add_referral(G, "f6", "h1", d(2024, 10, 1), "ana")                # 91 days: not
    p.add_referral(G, "f7", "j1", d(2024, 11, 1), "ana")                # no follow-up at all
    return G


def test_follow_up_one_row_per_referral_most_overdue_first(loops):
    rows = lists(loops)["follow-up"]
    # a1 closed in time, b1 and d0 late (still closed): not listed.
    assert [(r["referral"], r["referrer"], r["status"], r["days_overdue"]) for r in rows] == [
        ("g1", "f6", "overdue", 76), ("c1", "f3", "overdue", 46), ("j1", "f7", "overdue", 46),
        ("e1", "f5", "due", 0), ("e2", "f5", "due", -3)]
    assert rows[1] == {
        "id": row_id("follow-up", "f3", "c1"),
        "referrer": "f3", "name": "Dr. F3", "referrer_kind": "other", "organization": "", "point_person": "ana",
        "point_person_name": "Ana Ruiz", "stage": 1, "referrals": 1, "first_referral": d(2024, 11, 1),
        "last_referral": d(2024, 11, 1), "referral": "c1", "date": d(2024, 11, 1), "clinician": "ana",
        "clinician_name": "Ana Ruiz", "due": d(2024, 11, 15), "days_overdue": 46, "status": "overdue",
        "why": "referred on 2024-11-01 to Ana Ruiz; no follow-up contact with Dr. F3 since; 46 days overdue "
               "(due 2024-11-15)",
        "next_step": "Close the loop: Ana Ruiz keeps Dr. F3 informed about this client (with the client's "
                     "consent) and records the follow-up contact.",
        "priority": 15.1, "referrer_id": "f3",  # 1 referral a year (+1), x (1 + 46 days / 7)
        **UNTOUCHED,
    }
    assert rows[3]["why"].endswith("; due today (2024-12-31)")
    assert rows[4]["why"].endswith("; due in 3 days (2025-01-03)")
    # Before f4's follow-up of 2 December, d0 was open: a row naming the clinician assigned (passed to ben).
    (d0,) = [r for r in lists(loops, as_of=d(2024, 12, 1))["follow-up"] if r["referral"] == "d0"]
    assert (d0["clinician"], d0["clinician_name"], d0["days_overdue"]) == ("ben", "Ben Okafor", 7)


def test_follow_up_window_lookback_and_as_of(loops):
    assert [r["referral"] for r in lists(loops, lookback_days=91)["follow-up"]][:2] == ["h1", "g1"]
    assert [r["referral"] for r in lists(loops, lookback_days=30)["follow-up"]] == ["e1", "e2"]
    # Judged on 2 January, f5's follow-up of that day has happened: it closes e2's loop (due 3 January) and
    # e1's (due 31 December, so late); e3 (5 January) is still in the future.
    on_2nd = [r["referral"] for r in lists(loops, as_of=d(2025, 1, 2))["follow-up"]]
    assert "e1" not in on_2nd and "e2" not in on_2nd and "e3" not in on_2nd


def test_follow_up_figures_count_late_closings_apart(loops):
    histories = stage_histories(loops, as_of=AS_OF)
    # From 2024-10-02 (90 days) to AS_OF: a1, d1, d2 (closed by 12-02) and d3 (the same day) in time; b1 (day
    # 15) and d0 (day 22) late; e1 and e2 still due; c1 (its follow-up came before it), g1 and j1 overdue.
    assert follow_up_figures(loops, histories, as_of=AS_OF) == {
        "referrals": 11, "on_time": 4, "late": 2, "due": 2, "overdue": 3}
    # 15 days: f2's follow-up on day 15 is in time.
    assert follow_up_figures(loops, histories, as_of=AS_OF, follow_up_days=15)["late"] == 1
    assert "b1" not in [r["referral"] for r in lists(loops, follow_up_days=15)["follow-up"]]


# --- key-person risk ---------------------------------------------------------------------------------------


@pytest.fixture
def risky():
    G = p.new_graph()
    team(G)
    p.add_member(G, "dee", kind="staff", name="Dee Moss")
    p.add_referrer(G, "loyal", name="Dr. Loyal", point_person="ana", since=d(2023, 1, 1))
    referrals(G, "loyal", [d(2023, 6, 1), d(2024, 3, 1), d(2024, 12, 31)])
    p.add_referrer(G, "passed", name="Dr. Passed", point_person="ana", since=d(2023, 1, 1))
    p.add_referral(G, "passed", "p1", d(2024, 2, 1), "ana", "ben", pass_reason="insurance")
    p.add_referral(G, "passed", "p2", d(2024, 9, 1), "ana", "ben", pass_reason="insurance")
    p.add_referrer(G, "broad", name="Dr. Broad", point_person="cai", since=d(2023, 1, 1))
    p.add_referral(G, "broad", "b1", d(2023, 5, 1), "cai")
    for i in range(2, 5):
        p.add_referral(G, "broad", f"b{i}", d(2024, i, 15), "practice", "ben")
    p.add_referrer(G, "mixed", point_person="cai", since=d(2023, 1, 1))
    p.add_referral(G, "mixed", "m1", d(2024, 3, 1), "cai")
    p.add_referral(G, "mixed", "m2", d(2024, 4, 1), "ana")
    return G


def test_key_person_risk_one_row_per_referrer_most_at_stake_first(risky):
    rows = lists(risky)["key-person-risk"]
    assert [(r["referrer"], r["stage"], r["depends_on"], r["referrals_last_12_months"]) for r in rows] == [
        ("broad", 3, ["ben"], 3), ("loyal", 1, ["ana"], 2), ("passed", 1, ["ana", "ben"], 2)]
    passed = rows[2]
    assert passed["depends_on_names"] == ["Ana Ruiz", "Ben Okafor"]
    assert passed["why"] == "in stage 1 with Ana Ruiz as point person: no colleague tried yet; every referral of " \
                            "the last 12 months assigned to Ben Okafor"
    assert passed["next_step"] == "Broaden the relationship: Ana Ruiz introduces Dr. Passed to a colleague, so its " \
                                  "referrals no longer depend on Ana Ruiz and Ben Okafor alone."
    assert rows[0]["why"] == "every referral of the last 12 months assigned to Ben Okafor"


def test_key_person_risk_uses_the_dict_given(risky):
    h, m = stage_histories(risky, as_of=AS_OF), referrer_metrics(risky, as_of=AS_OF)
    computed = worklists(risky, h, m, as_of=AS_OF)["key-person-risk"]
    given = worklists(risky, h, m, as_of=AS_OF, key_person_risk=key_person_risk(risky, h, as_of=AS_OF))
    assert given["key-person-risk"] == computed
    # Over 6 months broad has no referral left, passed's p2 and loyal's last one are all that count.
    six = worklists(risky, h, m, as_of=AS_OF, key_person_risk=key_person_risk(risky, h, as_of=AS_OF, months=6))
    assert [(r["referrer"], r["depends_on"]) for r in six["key-person-risk"]] == [
        ("loyal", ["ana"]), ("passed", ["ana", "ben"])]


# --- filter_sort_page --------------------------------------------------------------------------------------


def test_filter_sort_page_pages_and_sorts_with_ties_in_the_default_order(loops):
    rows = lists(loops)["follow-up"]
    ids = [r["referral"] for r in rows]
    assert filter_sort_page(rows, "follow-up", page_size=4) == (rows[:4], 5)
    assert filter_sort_page(rows, "follow-up", page=2, page_size=4) == (rows[4:], 5)
    assert filter_sort_page(rows, "follow-up", page=3, page_size=4) == ([], 5)
    page, total = filter_sort_page(rows, "follow-up", descending=True, page_size=100)
    assert [r["referral"] for r in page] == ids[::-1]
    page, _ = filter_sort_page(rows, "follow-up", sort="date")
    assert [r["referral"] for r in page] == ["g1", "c1", "j1", "e1", "e2"]   # c1 and j1 tie: default order
    page, _ = filter_sort_page(rows, "follow-up", sort="date", descending=True)
    assert [r["referral"] for r in page] == ["e2", "e1", "c1", "j1", "g1"]
    page, _ = filter_sort_page(rows, "follow-up", sort="name")   # case-insensitive text
    assert [r["referrer"] for r in page] == ["f3", "f5", "f5", "f6", "f7"]


def test_filter_sort_page_empty_values_come_last_either_way():
    rows = [{"point_person_name": n, "name": str(i)} for i, n in enumerate(("Ben", None, "ana", None))]
    for descending, expected in ((False, ["2", "0", "1", "3"]), (True, ["0", "2", "1", "3"])):
        page, _ = filter_sort_page(rows, "new", sort="point_person_name", descending=descending)
        assert [r["name"] for r in page] == expected


def test_filter_sort_page_filters(risky, loops):
    rows = lists(risky)["key-person-risk"]

    def ids(**filters):
        page, total = filter_sort_page(rows, "key-person-risk", filters=filters)
        assert total == len(page)
        return [r["referrer"] for r in page]

    assert ids(stage="1") == ids(stage=1) == ["loyal", "passed"]
    assert ids(stage=[1, 3]) == ["broad", "loyal", "passed"]
    assert ids(point_person="cai") == ["broad"]
    assert ids(depends_on="ben") == ["broad", "passed"]        # any of the clinicians it depends on
    assert ids(referrer_kind="other", q="dr. PASS") == ["passed"]
    assert ids(stage="", q=None) == ["broad", "loyal", "passed"]  # empty form fields: no filter
    assert ids(q="nobody") == []
    follow = lists(loops)["follow-up"]
    page, total = filter_sort_page(follow, "follow-up", filters={"status": "due", "clinician": "ana"})
    assert [r["referral"] for r in page] == ["e1", "e2"] and total == 2


def test_filter_sort_page_refuses_unknown_columns_lists_and_pages():
    with pytest.raises(ValueError, match=r"cannot filter the new worklist by 'status'; filter by one of: "
                                         r"stage, referrer_kind, point_person, assigned_to, q"):
        filter_sort_page([], "new", filters={"status": "due"})
    with pytest.raises(ValueError, match=r"cannot sort the lapsed worklist by 'why'; sort by one of: .*change"):
        filter_sort_page([], "lapsed", sort="why")
    with pytest.raises(ValueError, match=r"unknown worklist 'old'; the worklists are: new, stalled, ready"):
        filter_sort_page([], "old")
    with pytest.raises(ValueError, match="page and page_size start at 1"):
        filter_sort_page([], "new", page=0)


# --- the small fixture practice ----------------------------------------------------------------------------


def test_the_small_fixture_practice():
    day = d(2024, 6, 30)
    out = lists(small_graph(), as_of=day)
    assert {name: [r.get("referral", r["referrer"]) for r in rows] for name, rows in out.items()} == {
        # rf3's first (and only) referral, r5 on 2024-04-01, is exactly 90 days before.
        "new": ["rf3"],
        # rf2 is in stage 1 since r3 (2023-06-20, 376 days) with 3 referrals: r4 to its new point person,
        # r6 to staff (the practice, 1 of 3: not stage 3). rf1 has only 2, rf3 is in stage 3.
        "stalled": ["rf2"],
        # Nobody is in stage 2: rf1 and rf2 never addressed a colleague of their point person.
        "ready": [],
        # rf1: 0 referrals in the last 12 months, 2 (r1, r2) the 12 before: declining; nobody lapsed
        # (rf1 has 2 referrals, rf2 referred 60 days ago). rf2 went 1 -> 2, rf3 0 -> 1.
        "lapsed": ["rf1"],
        # Referrals since 2024-04-01: r5 (due 04-15, 76 days overdue) and r6 (due 05-15, 46); no follow-ups.
        "follow-up": ["r5", "r6"],
        # Referrals of 2024-04-01 to 2024-06-09 (21 days before), no status recorded: no first visit yet.
        "unseen": ["r5", "r6"],
        # rf2 in stage 1 with cn2 (2 referrals this year), rf3's only referral assigned to cn2 (1),
        # rf1 in stage 1 with cn1 (none this year).
        "key-person-risk": ["rf2", "rf3", "rf1"],
    }
    assert out["lapsed"][0]["reason"] == "declining"
    assert [r["depends_on"] for r in out["key-person-risk"]] == [["cn2"], ["cn2"], ["cn1"]]
    assert out["stalled"][0]["why"] == "in stage 1 for 376 days (since 2023-06-20); 3 referrals, none addressed " \
                                       "to a colleague of Ben Okafor"


def test_unseen_referrals_without_a_first_visit_weeks_on_with_who_to_chase():
    G = p.new_graph()
    team(G)
    p.add_referrer(G, "u", name="Dr. U", point_person="ana", since=d(2024, 9, 1))
    day = d(2024, 12, 31)
    for key, on, statuses in (
            ("a", d(2024, 12, 10), {}),                                     # 21 days: unseen
            ("b", d(2024, 12, 11), {}),                                     # 20 days: not yet
            ("c", d(2024, 11, 1), {"contacted": d(2024, 11, 2)}),
            ("e", d(2024, 11, 2), {"scheduled": d(2024, 11, 9)}),
            ("f", d(2024, 11, 3), {"scheduled": d(2024, 11, 9), "first_visit": d(2024, 11, 20)}),  # seen
            ("g", d(2024, 11, 4), {"declined": d(2024, 11, 5)}),            # ended: nothing to chase
            ("h", d(2024, 10, 1), {})):                                     # 91 days: outside the window
        p.add_referral(G, "u", key, on, "ana", statuses=statuses)
    rows = lists(G, as_of=day)["unseen"]
    assert [(r["referral"], r["referral_status"], r["status_on"], r["days_waiting"]) for r in rows] == [
        ("c", "contacted", d(2024, 11, 2), 60), ("e", "scheduled", d(2024, 11, 9), 59),
        ("a", "received", d(2024, 12, 10), 21)]
    assert rows[0]["why"] == "referred on 2024-11-01 to Ana Ruiz; still contacted (since 2024-11-02) after 60 days, " \
                             "with no first visit"
    assert rows[0]["next_step"] == ("Chase: Ana Ruiz calls the client again to schedule a first visit before the "
                                    "client looks elsewhere.")
    assert rows[1]["next_step"] == "Chase: Ana Ruiz checks whether the first visit scheduled on 2024-11-09 happened, " \
                                   "and records it (or the no show)."
    assert rows[0]["priority"] == round(8 * (1 + 60 / 21), 1)  # 7 referrals this year (+1)
    assert [r["referral"] for r in lists(G, as_of=day, unseen_days=30)["unseen"]] == ["c", "e"]
