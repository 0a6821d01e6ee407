"""The analysts' library (queries/analyst/, graphsvc.store.library): every query parses, plans as a
read, returns the columns its header declares, and answers the small fixture practice with exactly
the rows asserted here.

The practice is tests/fixtures/small imported, plus a few events written through the write API
(``EXTRA``), then analysed as of 2024-12-31 (``Service.store_analysis``, what `graphsvc analyze`
does) so the stage properties the stage-based queries read are there. It is built once for this
module (wiping the test graph as the ``graph`` fixture does): every test here only reads.

The practice, as the expected rows below rely on it (dates 2023-2024):

* rf1 Dr. Hale (pediatrician, point person cn1 Ana Ruiz since 2023-01-10): r1 2023-02-01 to cn1;
  r2 2023-05-02 to cn1, passed to cn3 (specialty); EXTRA r8 2024-07-01 to cn2 (a colleague: stage 2
  from that day). Contacts k1 lunch 2023-01-20 (cn1), EXTRA k6 talk 2024-06-15 (cn2).
  Introduction i1 2023-04-01: cn1 introduced cn3.
* rf2 Ms. Vega (school counselor, cn1 from 2023-03-01, handed to cn2 on 2024-01-15): r3 2023-06-20
  to cn1; r4 2024-03-05 to cn2, EXTRA passed to cn1 (scheduling); r6 2024-05-01 to st1 (the intake
  coordinator, i.e. the practice), assigned cn1. Stage 1 since 2023-06-20 (1 of 3 to the practice
  is not half). Contact k2 school_consult 2023-03-15; introduction i2 2023-09-01: cn1 introduced
  st1. Referral out o1 2024-05-03 (inpatient_eating_disorders, ep1).
* rf3 Rev. Stone (clergy, cn2 since 2024-02-01): r5 2024-04-01 to the practice, assigned cn2:
  stage 3 on its first referral (jumped). Contact k3 talk 2024-02-10, EXTRA k4 follow_up
  2024-04-08 (cn2). EXTRA introduction i3 2024-06-01: cn2 introduced cn1, never followed by a
  referral. EXTRA referral out o2 2024-08-03 (forensic_evaluation, ep2).
* EXTRA rf4 Dr. Ode (physician, cn3 Cleo Park since 2024-10-01): contact k5 case_consult
  2024-10-20 (cn3); r7 2024-11-15 to cn3. Stage 1 from that day.
* Statuses (EXTRA): r8 first visit 2024-07-15, r6 declined 2024-05-03, r7 contacted 2024-11-16.
* Worklist tasks (EXTRA): rf2's stalled row assigned to st1; rf4's new row done today, noted "saw the
  client within a week".
* Members: cn1 Ana Ruiz, cn2 Ben Okafor, cn3 Cleo Park (not accepting new), st1 Dee Lang (intake
  coordinator), st2 Eli Moss (office manager).
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from neo4j.graph import Node, Path, Relationship
from neo4j.time import Date

from graphsvc.errors import GraphsvcError, InvalidInput, NotFound
from graphsvc.live import build
from graphsvc.store import library as lib
from graphsvc.store.db import Graph
from graphsvc.store.library import TODAY, AnalystQuery, Param, get, library
from graphsvc.store.schema import init_schema
from tests.helpers import TEST_QUERIES, fixture_path, import_folder, service_of, someone

AS_OF = date(2024, 12, 31)  # the day the practice is analysed on
D = date


def extra(graph: Graph) -> None:
    """The hand-made events written on top of the small fixture (module docstring: EXTRA)."""
    service_of(graph).save("referrer", {"id": "rf4", "name": "Dr. Ode", "kind": "physician",
                                        "organization": "Ode Family Medicine", "point_person_id": "cn3",
                                        "since": "2024-10-01"}, by=someone())
    service_of(graph).record_contact({"id": "k4", "date": "2024-04-08", "referrer_id": "rf3", "member_id": "cn2",
                                      "kind": "follow_up"}, by=someone())
    service_of(graph).record_contact({"id": "k5", "date": "2024-10-20", "referrer_id": "rf4", "member_id": "cn3",
                                      "kind": "case_consult"}, by=someone())
    service_of(graph).record_contact({"id": "k6", "date": "2024-06-15", "referrer_id": "rf1", "member_id": "cn2",
                                      "kind": "talk"}, by=someone())
    service_of(graph).record_referral({"id": "r7", "date": "2024-11-15", "referrer_id": "rf4", "client_id": "cl1",
                                       "addressed_to": "cn3"}, by=someone())
    service_of(graph).record_referral({"id": "r8", "date": "2024-07-01", "referrer_id": "rf1", "client_id": "cl3",
                                       "addressed_to": "cn2"}, by=someone())
    service_of(graph).record_introduction({"id": "i3", "date": "2024-06-01", "referrer_id": "rf3",
                                           "introduced_id": "cn1", "by_id": "cn2"}, by=someone())
    service_of(graph).record_referral_out({"id": "o2", "date": "2024-08-03", "referrer_id": "rf3", "client_id": "cl3",
                                           "provider_id": "ep2", "niche": "forensic_evaluation"}, by=someone())
    service_of(graph).pass_referral({"referral_id": "r4", "to_clinician_id": "cn1",
                                     "reason": "scheduling"}, by=someone())
    # Where some referrals went: r8 seen 14 days on, r6 declined, r7 contacted and still waiting.
    service_of(graph).record_status("r8", {"status": "first_visit", "date": "2024-07-15"}, by=someone())
    service_of(graph).record_status("r6", {"status": "declined", "date": "2024-05-03"}, by=someone())
    service_of(graph).record_status("r7", {"status": "contacted", "date": "2024-11-16"}, by=someone())
    # Work on two worklist rows: rf2's stalled row assigned to st1, rf4's new row done.
    rows = build(graph, graph.settings.analysis).worklists
    stalled = next(r for r in rows["stalled"] if r["referrer"] == "rf2")
    new = next(r for r in rows["new"] if r["referrer"] == "rf4")
    service_of(graph).act_on_row("stalled", stalled, {"action": "assign", "to": "st1"}, by=someone())
    service_of(graph).act_on_row("new", new, {"action": "done", "note": "saw the client within a week"},
                                 by=someone())


@pytest.fixture(scope="module")
def practice(session_graph) -> Graph:
    """The practice above, analysed as of AS_OF; built once, read by every test of this module."""
    session_graph.write("wipe_graph", catalog=TEST_QUERIES)  # as the ``graph`` fixture does
    init_schema(session_graph)
    import_folder(session_graph, fixture_path("small"))
    graph = Graph(session_graph.settings.with_(analysis={"as_of": AS_OF}), session_graph.driver)
    extra(graph)
    service_of(graph).store_analysis(build(graph, graph.settings.analysis))
    return graph


def plain(value):
    """A value as a test compares it: dates as ``date``, a path as (node ids, relationship types)."""
    if isinstance(value, Date):
        return value.to_native()
    if isinstance(value, Path):
        return (tuple(n["id"] for n in value.nodes), tuple(r.type for r in value.relationships))
    if isinstance(value, (Node, Relationship)):
        return value.element_id
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def run(graph: Graph, name: str, today: date | None = None, **raw) -> list[tuple]:
    """Run library query ``name`` with ``raw`` text parameters in a read transaction; rows as tuples."""
    query = get(name)
    params = query.bind({k: str(v) for k, v in raw.items()}, today=today)

    def work(tx):
        result = tx.run(query.cypher, params)
        assert tuple(result.keys()) == query.columns
        return [tuple(plain(v) for v in record.values()) for record in result]

    return graph.read_tx(work)


def days(a: date, b: date) -> int:
    return (b - a).days


# -- every query: parses, plans as a read, declares its columns ------------------------------------


def test_the_library_has_at_least_fifteen_queries_each_with_a_full_header():
    queries = library()
    assert len(queries) >= 15
    assert list(queries) == sorted(queries)
    for name, q in queries.items():
        assert q.name == name and q.title and q.question.endswith("?") and q.columns, name
        for p in q.params:
            assert p.type in lib.TYPES and p.description, (name, p)
            assert p.default is None or p.default == TODAY or p.convert(p.default_text) == p.resolve(p.default)
        # The stage-based queries say so (``needs: analysis``), and only they read the write-back.
        reads_stage = re.search(r"\br\.(stage|stage_\d_on|days_to_stage_\d|jumped)\b", q.cypher)
        assert q.needs_analysis == bool(reads_stage), name


WRITES = re.compile(r"\b(CREATE|MERGE|SET|DELETE|REMOVE|DETACH|FOREACH|LOAD\s+CSV|DROP|IN\s+TRANSACTIONS)\b", re.I)


@pytest.mark.parametrize("name", sorted(library()))
def test_each_query_plans_as_a_read_and_returns_its_declared_columns(practice, name):
    q = get(name)
    code = re.sub(r"'[^']*'", "''", re.sub(r"//[^\n]*", "", q.cypher))
    assert not WRITES.search(code), name
    assert not re.search(r"\bCALL\s+[A-Za-z]", code), name  # subqueries only (CALL () {...}), no procedures
    params = q.bind({})

    def explain(tx):
        result = tx.run("EXPLAIN " + q.cypher, params)
        keys = tuple(result.keys())
        return keys, result.consume().query_type

    keys, query_type = practice.read_tx(explain)
    assert (keys, query_type) == (q.columns, "r")


# -- every query: its exact rows on the practice ---------------------------------------------------


def test_referrers_by_stage_and_kind(practice):
    # Stages as analysed on 2024-12-31: rf2 and rf4 in stage 1 (point person only), rf1 in stage 2
    # since r8 named cn2, rf3 in stage 3 (its one referral went to the practice).
    assert run(practice, "referrers_by_stage_and_kind") == [
        (1, "point person", "physician", 1),
        (1, "point person", "school_counselor", 1),
        (2, "trying colleagues", "pediatrician", 1),
        (3, "whole practice", "clergy", 1),
    ]
    assert run(practice, "referrers_by_stage_and_kind", kinds="clergy, pediatrician") == [
        (2, "trying colleagues", "pediatrician", 1),
        (3, "whole practice", "clergy", 1),
    ]


def test_stalled_referrers_by_point_person(practice):
    # Only rf2 is in stage 1 with at least 3 referrals; stage 1 since r3 (2023-06-20), its point
    # person now cn2 (the handoff of 2024-01-15). rf4 is in stage 1 with a single referral.
    row = ("cn2", "Ben Okafor", "rf2", "Ms. Vega", 3, D(2023, 6, 20))
    assert run(practice, "stalled_referrers_by_point_person") == [row + (days(D(2023, 6, 20), date.today()),)]
    assert run(practice, "stalled_referrers_by_point_person", as_of="2024-12-31") == [row + (560,)]
    # 560 days on 2024-12-31: stalled at 559, not at 560 (more than stall_days).
    assert run(practice, "stalled_referrers_by_point_person", as_of="2024-12-31", stall_days=559) == [row + (560,)]
    assert run(practice, "stalled_referrers_by_point_person", as_of="2024-12-31", stall_days=560) == []
    # With one referral enough, rf4 (stage 1 since r7, 2024-11-15) stalls after 30 days.
    assert run(practice, "stalled_referrers_by_point_person", as_of="2024-12-31", stall_days=30,
               min_referrals=1) == [row + (560,), ("cn3", "Cleo Park", "rf4", "Dr. Ode", 1, D(2024, 11, 15), 46)]


def test_key_person_risk_by_clinician(practice):
    # Today (no referral in the last 12 months) only the stage-1 rule holds: rf2 (point person
    # cn2) and rf4 (cn3). rf1 is in stage 2, rf3 in stage 3.
    assert run(practice, "key_person_risk_by_clinician") == [
        ("cn2", "Ben Okafor", 1, ["rf2"], 0),
        ("cn3", "Cleo Park", 1, ["rf4"], 0),
        ("cn1", "Ana Ruiz", 0, [], 0),
    ]
    # On 2024-12-31, referrals after 2023-12-31 count: rf1 sent only r8 (assigned cn2), rf3 only
    # r5 (cn2), rf2 r4 and r6 (both assigned cn1 after the pass) and is in stage 1 with cn2, rf4
    # r7 (cn3) in stage 1 with cn3. So cn2: rf1 1 + rf2 2 + rf3 1 = 4; cn1: rf2 2; cn3: rf4 1.
    rows = run(practice, "key_person_risk_by_clinician", as_of="2024-12-31")
    assert rows == [
        ("cn2", "Ben Okafor", 3, ["rf1", "rf2", "rf3"], 4),
        ("cn1", "Ana Ruiz", 1, ["rf2"], 2),
        ("cn3", "Cleo Park", 1, ["rf4"], 1),
    ]
    # The same answer as the practice page's analysis.
    risk = build(practice, practice.settings.analysis).key_person_risk
    assert {c: (n, refs, k) for c, _, n, refs, k in rows} == {
        c: (r["count"], r["referrers"], r["referrals_last_12_months"]) for c, r in risk.items()}


def test_colleagues_never_introduced(practice):
    # Introduced: cn3 (i1), st1 (i2), cn1 (i3). cn2 was assigned r5 and r8; st2 nothing.
    assert run(practice, "colleagues_never_introduced") == [
        ("cn2", "Ben Okafor", "clinician", True, 2),
        ("st2", "Eli Moss", "staff", None, 0),
    ]
    assert run(practice, "colleagues_never_introduced", include_staff="no") == [
        ("cn2", "Ben Okafor", "clinician", True, 2)]


def test_passes_by_reason_and_clinician(practice):
    # r2 addressed to cn1, taken by cn3 (specialty); r4 addressed to cn2, passed to cn1 (scheduling).
    scheduling = ("scheduling", "cn2", "Ben Okafor", "cn1", "Ana Ruiz", 1)
    specialty = ("specialty", "cn1", "Ana Ruiz", "cn3", "Cleo Park", 1)
    assert run(practice, "passes_by_reason_and_clinician") == [scheduling, specialty]
    assert run(practice, "passes_by_reason_and_clinician", since="2024-01-01") == [scheduling]
    assert run(practice, "passes_by_reason_and_clinician", reason="specialty") == [specialty]
    assert run(practice, "passes_by_reason_and_clinician", until="2023-12-31") == [specialty]


def test_referrals_fell_year_over_year(practice):
    # No referral after 2024-11-15: nothing fell in the last two years up to today.
    assert run(practice, "referrals_fell_year_over_year") == []
    # On 2024-12-31: rf1 sent r8 in the last 12 months against r1, r2 before. rf2 rose (r4, r6 vs r3).
    assert run(practice, "referrals_fell_year_over_year", as_of="2024-12-31") == [
        ("rf1", "Dr. Hale", "pediatrician", 1, 2, -1)]
    # On 2025-06-30: rf2 sent nothing after r4, r6 (2024-03/05), rf3 nothing after r5 (2024-04).
    assert run(practice, "referrals_fell_year_over_year", as_of="2025-06-30") == [
        ("rf2", "Ms. Vega", "school_counselor", 0, 2, -2),
        ("rf3", "Rev. Stone", "clergy", 0, 1, -1),
    ]
    assert run(practice, "referrals_fell_year_over_year", as_of="2025-06-30", min_drop=2) == [
        ("rf2", "Ms. Vega", "school_counselor", 0, 2, -2)]


def test_niches_referred_out(practice):
    # o1 (rf2, ep1) and o2 (rf3, ep2); no clinician lists either niche among its specialties.
    forensic = ("forensic_evaluation", 1, 1, ["County Forensic Services"], D(2024, 8, 3), 0)
    eating = ("inpatient_eating_disorders", 1, 1, ["Riverside Eating Disorders Center"], D(2024, 5, 3), 0)
    assert run(practice, "niches_referred_out") == [forensic, eating]
    assert run(practice, "niches_referred_out", since="2024-06-01") == [forensic]


def test_introductions_that_led_to_referrals(practice):
    # cn1's i1 (cn3 to rf1) was followed by r2 assigned to cn3, i2 (st1 to rf2) by r6 addressed to
    # st1; cn2's i3 (cn1 to rf3) by nothing.
    assert run(practice, "introductions_that_led_to_referrals") == [
        ("cn1", "Ana Ruiz", 2, 2, 1.0),
        ("cn2", "Ben Okafor", 1, 0, 0.0),
    ]
    assert run(practice, "introductions_that_led_to_referrals", since="2023-06-01") == [
        ("cn1", "Ana Ruiz", 1, 1, 1.0),
        ("cn2", "Ben Okafor", 1, 0, 0.0),
    ]
    # The practice page's introductions_made and introductions_led say the same.
    sharing = build(practice, practice.settings.analysis).sharing
    assert (sharing["cn1"]["introductions_made"], sharing["cn1"]["introductions_led"]) == (2, 2)
    assert (sharing["cn2"]["introductions_made"], sharing["cn2"]["introductions_led"]) == (1, 0)


def test_introduced_then_referred(practice):
    # The two introductions that led somewhere (see above), each with its first referral after.
    rf2 = ("rf2", "Ms. Vega", "st1", "Dee Lang", "cn1", D(2023, 9, 1), D(2024, 5, 1), 1)
    assert run(practice, "introduced_then_referred") == [
        ("rf1", "Dr. Hale", "cn3", "Cleo Park", "cn1", D(2023, 4, 1), D(2023, 5, 2), 1),
        rf2,
    ]
    assert run(practice, "introduced_then_referred", since="2023-06-01") == [rf2]


def test_follow_ups_due(practice):
    # Nothing within 90 days before today.
    assert run(practice, "follow_ups_due") == []
    # On 2024-12-31 only r7 (2024-11-15) is recent; due 2024-11-29, no follow-up: 32 days late.
    assert run(practice, "follow_ups_due", as_of="2024-12-31") == [
        ("r7", D(2024, 11, 15), "rf4", "Dr. Ode", "cn3", "Cleo Park", D(2024, 11, 29), 32, "overdue")]
    # On 2024-05-10: r4 (due 03-19) is overdue, r6 (due 05-15) still due; r5's loop was closed by
    # the follow-up k4 (2024-04-08, before its due day 04-15). r3 is older than 90 days.
    assert run(practice, "follow_ups_due", as_of="2024-05-10") == [
        ("r4", D(2024, 3, 5), "rf2", "Ms. Vega", "cn1", "Ana Ruiz", D(2024, 3, 19), 52, "overdue"),
        ("r6", D(2024, 5, 1), "rf2", "Ms. Vega", "cn1", "Ana Ruiz", D(2024, 5, 15), -5, "due"),
    ]
    # With a 5-day window k4 (7 days after r5) closes r5's loop late: closed all the same, not listed;
    # r4 and r6 move 9 days closer.
    assert run(practice, "follow_ups_due", as_of="2024-05-10", follow_up_days=5) == [
        ("r4", D(2024, 3, 5), "rf2", "Ms. Vega", "cn1", "Ana Ruiz", D(2024, 3, 10), 61, "overdue"),
        ("r6", D(2024, 5, 1), "rf2", "Ms. Vega", "cn1", "Ana Ruiz", D(2024, 5, 6), 4, "overdue"),
    ]
    # Before k4, r5 is open: on 2024-04-07 it is due in 8 days (due 04-15 with 14 days).
    assert [row[0] for row in run(practice, "follow_ups_due", as_of="2024-04-07")] == ["r4", "r5"]


@pytest.mark.parametrize("as_of", [D(2024, 4, 7), D(2024, 4, 8), D(2024, 5, 10), D(2024, 7, 20), D(2024, 12, 31)])
@pytest.mark.parametrize("follow_up_days", [5, 14])
def test_follow_ups_due_lists_the_worklists_open_loops(practice, as_of, follow_up_days):
    """The analysts' query and the follow-up worklist (``graphsvc.rules.follow_up``) agree row for row."""
    from graphsvc.config import AnalysisOptions

    insights = build(practice, AnalysisOptions(as_of=as_of, follow_up_days=follow_up_days))
    worklist = [(row["referral"], row["date"], row["referrer"], row["name"], row["clinician"], row["clinician_name"],
                 row["due"], row["days_overdue"], row["status"]) for row in insights.worklists["follow-up"]]
    assert run(practice, "follow_ups_due", as_of=as_of.isoformat(), follow_up_days=follow_up_days) == worklist


def test_new_referrers(practice):
    assert run(practice, "new_referrers") == []  # the last first referral was in 2024
    # rf4's first referral r7 (2024-11-15) is 46 days before 2024-12-31.
    assert run(practice, "new_referrers", as_of="2024-12-31") == [
        ("rf4", "Dr. Ode", "physician", "Ode Family Medicine", "cn3", "Cleo Park", D(2024, 11, 15), 1, 46)]
    # On 2024-05-10, rf3 (first referral r5, 2024-04-01) was new; rf4 had not started.
    assert run(practice, "new_referrers", as_of="2024-05-10") == [
        ("rf3", "Rev. Stone", "clergy", "First Community Church", "cn2", "Ben Okafor", D(2024, 4, 1), 1, 39)]
    assert run(practice, "new_referrers", as_of="2024-05-10", days=30) == []


def test_point_person_sharing(practice):
    # Each referral counts for the point person on its date. cn2 (rf2 after the handoff, rf3): r4 to
    # cn2, r5 to the practice, r6 to st1: 2 of 3 shared. cn1 (rf1, rf2 before 2024-01-15): r1, r2,
    # r3 to cn1, r8 to cn2: 1 of 4. cn3 (rf4): r7 to cn3.
    assert run(practice, "point_person_sharing") == [
        ("cn2", "Ben Okafor", 2, 3, 1, 2, 0.67),
        ("cn1", "Ana Ruiz", 2, 4, 3, 1, 0.25),
        ("cn3", "Cleo Park", 1, 1, 1, 0, 0.0),
    ]
    assert run(practice, "point_person_sharing", min_referrals=2, since="2024-01-01") == [
        ("cn2", "Ben Okafor", 2, 3, 1, 2, 0.67)]


def test_outreach_before_stage_changes(practice):
    # Stage days written back: rf1 1 on 2023-02-01, 2 on 2024-07-01; rf2 1 on 2023-06-20; rf3 3 on
    # 2024-04-01 (jumped: no stage 1 or 2 day); rf4 1 on 2024-11-15. Contacts counted before each:
    # k1 before rf1's stage 1, k6 between its stage 1 and 2; k2, k3, k5 before the first stage of
    # rf2, rf3, rf4. k4 (rf3, 2024-04-08) came after its stage 3.
    assert run(practice, "outreach_before_stage_changes") == [
        ("rf1", "Dr. Hale", 1, D(2023, 2, 1), "lunch", 1),
        ("rf1", "Dr. Hale", 2, D(2024, 7, 1), "talk", 1),
        ("rf2", "Ms. Vega", 1, D(2023, 6, 20), "school_consult", 1),
        ("rf3", "Rev. Stone", 3, D(2024, 4, 1), "talk", 1),
        ("rf4", "Dr. Ode", 1, D(2024, 11, 15), "case_consult", 1),
    ]
    assert run(practice, "outreach_before_stage_changes", referrer="rf3") == [
        ("rf3", "Rev. Stone", 3, D(2024, 4, 1), "talk", 1)]


def test_referral_paths_from_referrer(practice):
    # Default: the referrer with the most referrals, rf1 and rf2 (3 each) tied, so rf1: r1 to cn1,
    # r2 addressed to cn1 and taken by cn3, r8 to cn2. Each path referrer -> referral -> member.
    def path(referral, rel, member):
        return (("rf1", referral, member), ("SENT", rel))

    assert run(practice, "referral_paths_from_referrer") == [
        ("cn1", "Ana Ruiz", "r1", D(2023, 2, 1), "ADDRESSED_TO", path("r1", "ADDRESSED_TO", "cn1")),
        ("cn1", "Ana Ruiz", "r1", D(2023, 2, 1), "ASSIGNED_TO", path("r1", "ASSIGNED_TO", "cn1")),
        ("cn1", "Ana Ruiz", "r2", D(2023, 5, 2), "ADDRESSED_TO", path("r2", "ADDRESSED_TO", "cn1")),
        ("cn2", "Ben Okafor", "r8", D(2024, 7, 1), "ADDRESSED_TO", path("r8", "ADDRESSED_TO", "cn2")),
        ("cn2", "Ben Okafor", "r8", D(2024, 7, 1), "ASSIGNED_TO", path("r8", "ASSIGNED_TO", "cn2")),
        ("cn3", "Cleo Park", "r2", D(2023, 5, 2), "ASSIGNED_TO", path("r2", "ASSIGNED_TO", "cn3")),
    ]
    # rf3's one referral went to the practice as a whole: only its assignee is a member reached.
    assert run(practice, "referral_paths_from_referrer", referrer="rf3") == [
        ("cn2", "Ben Okafor", "r5", D(2024, 4, 1), "ASSIGNED_TO",
         (("rf3", "r5", "cn2"), ("SENT", "ASSIGNED_TO")))]
    assert run(practice, "referral_paths_from_referrer", referrer="nobody") == []


def test_lapsed_referrers(practice):
    # At least 3 referrals, none for more than 180 days: rf2 (last r6, 2024-05-01) and rf1 (last
    # r8, 2024-07-01: 183 days before 2024-12-31). rf3 and rf4 have one referral each.
    assert run(practice, "lapsed_referrers") == [
        ("rf2", "Ms. Vega", "school_counselor", "cn2", "Ben Okafor", 3, D(2024, 5, 1),
         days(D(2024, 5, 1), date.today())),
        ("rf1", "Dr. Hale", "pediatrician", "cn1", "Ana Ruiz", 3, D(2024, 7, 1), days(D(2024, 7, 1), date.today())),
    ]
    rows = run(practice, "lapsed_referrers", as_of="2024-12-31")
    assert rows == [
        ("rf2", "Ms. Vega", "school_counselor", "cn2", "Ben Okafor", 3, D(2024, 5, 1), 244),
        ("rf1", "Dr. Hale", "pediatrician", "cn1", "Ana Ruiz", 3, D(2024, 7, 1), 183),
    ]
    # The analysis (same options, same day) flagged the same referrers as lapsed.
    with practice.session() as s:
        flagged = [r["id"] for r in s.run("MATCH (r:Referrer) WHERE r.lapsed RETURN r.id AS id ORDER BY id")]
    assert sorted(row[0] for row in rows) == flagged
    assert run(practice, "lapsed_referrers", as_of="2024-12-31", lapse_days=200) == [rows[0]]


def test_referrals_by_month(practice):
    # r1..r8 by month; r5 (the practice) and r6 (st1) count as addressed to the practice; r2 and r4
    # were passed.
    assert run(practice, "referrals_by_month") == [
        ("2023-02", 1, 1, 0, 0),
        ("2023-05", 1, 1, 0, 1),
        ("2023-06", 1, 1, 0, 0),
        ("2024-03", 1, 1, 0, 1),
        ("2024-04", 1, 0, 1, 0),
        ("2024-05", 1, 0, 1, 0),
        ("2024-07", 1, 1, 0, 0),
        ("2024-11", 1, 1, 0, 0),
    ]
    assert run(practice, "referrals_by_month", since="2024-01-01", until="2024-06-30") == [
        ("2024-03", 1, 1, 0, 1),
        ("2024-04", 1, 0, 1, 0),
        ("2024-05", 1, 0, 1, 0),
    ]


def test_referrer_timeline(practice):
    # Default rf1 (most referrals, tie with rf2 broken by id): everything that happened with it.
    assert run(practice, "referrer_timeline") == [
        (D(2023, 1, 10), "point_person", None, "cn1", "Ana Ruiz", "point person since"),
        (D(2023, 1, 20), "contact", "k1", "cn1", "Ana Ruiz", "lunch"),
        (D(2023, 2, 1), "referral", "r1", "cn1", "Ana Ruiz", "addressed to Ana Ruiz"),
        (D(2023, 4, 1), "introduction", "i1", "cn3", "Cleo Park", "introduced by Ana Ruiz"),
        (D(2023, 5, 2), "referral", "r2", "cn3", "Cleo Park", "addressed to Ana Ruiz, passed (specialty)"),
        (D(2024, 6, 15), "contact", "k6", "cn2", "Ben Okafor", "talk"),
        (D(2024, 7, 1), "referral", "r8", "cn2", "Ben Okafor", "addressed to Ben Okafor"),
    ]
    # rf2: a handoff, a pass, a referral to the intake coordinator, a referral out.
    assert run(practice, "referrer_timeline", referrer="rf2") == [
        (D(2023, 3, 1), "point_person", None, "cn1", "Ana Ruiz", "point person until 2024-01-15"),
        (D(2023, 3, 15), "contact", "k2", "cn1", "Ana Ruiz", "school_consult"),
        (D(2023, 6, 20), "referral", "r3", "cn1", "Ana Ruiz", "addressed to Ana Ruiz"),
        (D(2023, 9, 1), "introduction", "i2", "st1", "Dee Lang", "introduced by Ana Ruiz"),
        (D(2024, 1, 15), "point_person", None, "cn2", "Ben Okafor", "point person since"),
        (D(2024, 3, 5), "referral", "r4", "cn1", "Ana Ruiz", "addressed to Ben Okafor, passed (scheduling)"),
        (D(2024, 5, 1), "referral", "r6", "cn1", "Ana Ruiz", "addressed to Dee Lang"),
        (D(2024, 5, 3), "referral_out", "o1", None, None,
         "inpatient_eating_disorders to Riverside Eating Disorders Center"),
    ]


def test_stage_pace_by_kind(practice):
    # rf1 reached stage 2 516 days after its first referral (2023-02-01 to 2024-07-01); rf3 reached
    # stage 3 on its first referral (0 days, jumped). Nobody else moved past stage 1.
    assert run(practice, "stage_pace_by_kind") == [
        ("clergy", 1, 0, None, 1, 0, 1),
        ("pediatrician", 1, 1, 516, 0, None, 0),
        ("physician", 1, 0, None, 0, None, 0),
        ("school_counselor", 1, 0, None, 0, None, 0),
    ]


def test_referral_outcomes_by_kind(practice):
    # Judged on 2024-12-31: the referrals of 2024-01-01 to 2024-12-10: r4, r6 (rf2), r5 (rf3), r7 (rf4), r8 (rf1).
    assert run(practice, "referral_outcomes_by_kind", as_of="2024-12-31") == [
        ("clergy", 1, 0, 0.0, None, 0, 1),
        ("pediatrician", 1, 1, 1.0, 14.0, 0, 0),
        ("physician", 1, 0, 0.0, None, 0, 1),
        ("school_counselor", 2, 0, 0.0, None, 1, 1),
    ]
    # The dashboard's conversion (graphsvc.analysis.conversion) says the same.
    conversion = build(practice, practice.settings.analysis).conversion["by_kind"]
    for kind, referrals, seen, share, median, ended, waiting in run(practice, "referral_outcomes_by_kind",
                                                                    as_of="2024-12-31"):
        assert conversion[kind] == {"referrals": referrals, "first_visits": seen, "share": share,
                                    "median_days": median, "ended": ended, "waiting": waiting}, kind
    # Given 50 days, r7 (46 days before) is not judged yet.
    assert run(practice, "referral_outcomes_by_kind", as_of="2024-12-31", wait_days=50)[2][0] == "school_counselor"


def test_worklist_tasks(practice):
    rows = build(practice, practice.settings.analysis).worklists
    stalled = next(r["id"] for r in rows["stalled"] if r["referrer"] == "rf2")
    new = next(r["id"] for r in rows["new"] if r["referrer"] == "rf4")
    today = date.today()
    done = ("new", "done", "rf4", "Dr. Ode", None, None, None, today, "saw the client within a week", new)
    held = ("stalled", "open", "rf2", "Ms. Vega", "st1", "Dee Lang", None, None, "", stalled)
    assert run(practice, "worklist_tasks") == [done, held]
    assert run(practice, "worklist_tasks", status="done") == [done]
    assert run(practice, "worklist_tasks", status="closed") == []
    # Done before the day asked about: left out; open ones always count.
    assert run(practice, "worklist_tasks", since=today.replace(year=today.year + 1)) == [held]


def test_every_query_is_tested_here():
    tested = set(re.findall(r'run\(practice, "([a-z_0-9]+)"', open(__file__, encoding="utf-8").read()))
    assert tested == set(library())


# -- bind: typing and its messages -----------------------------------------------------------------


def test_bind_fills_defaults_and_types_given_values():
    q = get("stalled_referrers_by_point_person")
    today = D(2025, 1, 15)
    assert q.bind({}, today=today) == {"stall_days": 180, "min_referrals": 3, "as_of": today}
    assert q.bind({}) ["as_of"] == date.today()  # ``today`` resolved when bound
    assert q.params[-1].default == TODAY  # ... and kept as the marker in the header
    assert q.bind({"stall_days": " 90 ", "as_of": "2024-02-29", "min_referrals": ""}, today=today) == {
        "stall_days": 90, "min_referrals": 3, "as_of": D(2024, 2, 29)}
    assert q.bind({"as_of": "today"}, today=today)["as_of"] == today
    assert get("colleagues_never_introduced").bind({"include_staff": "No"}) == {"include_staff": False}
    for text, value in (("1", True), ("yes", True), ("TRUE", True), ("0", False), ("false", False)):
        assert get("colleagues_never_introduced").bind({"include_staff": text}) == {"include_staff": value}
    kinds = get("referrers_by_stage_and_kind")
    assert kinds.bind({}) == {"kinds": None}
    assert kinds.bind({"kinds": "clergy, pediatrician,"}) == {"kinds": ["clergy", "pediatrician"]}
    assert get("referrer_timeline").bind({"referrer": "rf2"}) == {"referrer": "rf2"}
    assert get("passes_by_reason_and_clinician").bind({"reason": "null"}, today=today) == {
        "reason": None, "since": None, "until": today}
    # Typed values (JSON) are taken as they are.
    assert q.bind({"stall_days": 30, "as_of": D(2024, 1, 1)}, today=today)["stall_days"] == 30
    floats = AnalystQuery("f", "F", "F?", (Param("share", "float", 0.5, "a share"),), ("x",), "RETURN $share AS x")
    assert floats.bind({}) == {"share": 0.5} and floats.bind({"share": "0.25"}) == {"share": 0.25}
    with pytest.raises(InvalidInput, match=r"parameter 'share' \(float\): '1e3' is not a number in ASCII digits"):
        floats.bind({"share": "1e3"})


@pytest.mark.parametrize("raw, message", [
    ({"stall_days": "9O"}, "parameter 'stall_days' (int): '9O' is not a whole number in ASCII digits, e.g. 180"),
    ({"stall_days": "١٢"}, "parameter 'stall_days' (int): '١٢' is not a whole number in ASCII digits"),
    ({"stall_days": "1.5"}, "parameter 'stall_days' (int): '1.5' is not a whole number"),
    ({"stall_days": True}, "parameter 'stall_days' (int): True is not a whole number"),
    ({"as_of": "2024-13-01"}, "parameter 'as_of' (date): '2024-13-01' is not a date as YYYY-MM-DD, or today"),
    ({"as_of": "31/12/2024"}, "parameter 'as_of' (date): '31/12/2024' is not a date as YYYY-MM-DD"),
    ({"as_of": "2024-1-5"}, "parameter 'as_of' (date): '2024-1-5' is not a date as YYYY-MM-DD"),
    ({"stall": "90"}, "query 'stalled_referrers_by_point_person' has no parameter 'stall' "
                      "(its parameters: stall_days, min_referrals, as_of)"),
])
def test_bind_refuses_a_bad_value_or_an_unknown_name_saying_what_it_accepts(raw, message):
    with pytest.raises(InvalidInput) as refused:
        get("stalled_referrers_by_point_person").bind(raw)
    assert message in str(refused.value)


def test_bind_reports_every_problem_at_once():
    with pytest.raises(InvalidInput) as refused:
        get("colleagues_never_introduced").bind({"include_staff": "maybe", "x": "1"})
    assert refused.value.problems == [
        "parameter 'include_staff' (bool): 'maybe' is not one of 1, 0, true, false, yes, no",
        "query 'colleagues_never_introduced' has no parameter 'x' (its parameters: include_staff)",
    ]
    with pytest.raises(InvalidInput, match=r"has no parameter 'x' \(its parameters: none\)"):
        get("stage_pace_by_kind").bind({"x": "1"})


# -- get: unknown names ----------------------------------------------------------------------------


def test_an_unknown_name_gives_the_close_matches():
    with pytest.raises(NotFound) as refused:
        get("stalled_referers")
    # Best first: the typo of the start of a long name finds it before shorter look-alikes.
    assert str(refused.value) == ("no analyst query named 'stalled_referers'; did you mean "
                                  "stalled_referrers_by_point_person, lapsed_referrers, new_referrers?")
    with pytest.raises(NotFound, match="named 'new_referrer'; did you mean new_referrers, "):
        get("new_referrer")
    for start, name in (("stalled", "stalled_referrers_by_point_person"), ("passes", "passes_by_reason_and_clinician"),
                        ("key_person_risk", "key_person_risk_by_clinician"), ("follow_ups", "follow_ups_due")):
        with pytest.raises(NotFound, match=f"did you mean {name}"):
            get(start)
    with pytest.raises(NotFound, match="the library has: colleagues_never_introduced, follow_ups_due"):
        get("zzz")


# -- the header format ---------------------------------------------------------------------------


GOOD = """\
// title: T
// question: Q?
// note: a note that goes on
//    on the next line
// param: days int = 90 -- how many days
// param: as_of date = today -- the day
// param: kinds list[str] = a,b -- kinds
// columns: n, d
RETURN $days AS n, $as_of - duration({days: $days}) AS d, $kinds AS k;
"""


def test_a_header_is_parsed_into_its_fields(tmp_path):
    path = tmp_path / "q.cypher"
    path.write_text(GOOD)
    q = lib.parse(path)
    assert (q.name, q.title, q.question, q.columns, q.needs_analysis) == ("q", "T", "Q?", ("n", "d"), False)
    assert q.notes == ("a note that goes on on the next line",)
    assert q.params == (Param("days", "int", 90, "how many days"), Param("as_of", "date", TODAY, "the day"),
                        Param("kinds", "list[str]", ("a", "b"), "kinds"))
    assert q.cypher == "RETURN $days AS n, $as_of - duration({days: $days}) AS d, $kinds AS k"


@pytest.mark.parametrize("change, line, message", [
    (("// title: T\n", "// titel: T\n"), 1, "unknown header key 'titel'"),
    (("// title: T\n", "// title:\n"), 1, "header field 'title' is empty"),
    (("// question: Q?\n", "// question: Q?\n// question: again?\n"), 3, "'question' given twice (first on line 2)"),
    (("// title: T\n", "//title T\n"), 1, "expected a header line '// key: value'"),
    (("// param: days int = 90 -- how many days", "// param: days integer = 90 -- how many days"), 5,
     "expected '// param: NAME TYPE = DEFAULT -- DESCRIPTION' with TYPE one of int, float"),
    (("// param: days int = 90 -- how many days", "// param: days int = ninety -- how many days"), 5,
     "bad default: parameter 'days' (int): 'ninety' is not a whole number"),
    (("// param: days int = 90 -- how many days", "// param: days int = today -- how many days"), 5,
     "default 'today' is for date parameters only"),
    (("// param: days int = 90 -- how many days", "// param: days int = 90"), 5, "expected '// param: NAME TYPE"),
    (("// columns: n, d\n", ""), 8, "the header has no '// columns:' line"),
    (("// columns: n, d", "// columns: n, n"), 8, "columns must be distinct names"),
    (("$kinds AS k", "$kind AS k"), 9, "the Cypher uses undeclared parameters: kind"),
    (("// note: a note", "// needs: analyse\n// note: a note"), 3, "'needs' must be 'analysis'"),
])
def test_a_malformed_header_names_the_file_and_line(tmp_path, change, line, message):
    path = tmp_path / "bad.cypher"
    path.write_text(GOOD.replace(*change))
    with pytest.raises(GraphsvcError) as refused:
        lib.parse(path)
    assert str(refused.value).startswith(f"{path}:{line}: ")
    assert message in str(refused.value)


def test_no_cypher_after_the_header_and_unused_params_are_errors(tmp_path):
    path = tmp_path / "bad.cypher"
    path.write_text("".join(GOOD.splitlines(keepends=True)[:8]))  # the header alone
    with pytest.raises(GraphsvcError, match=r"bad\.cypher:\d+: no Cypher after the header"):
        lib.parse(path)
    path.write_text(GOOD.replace("$kinds AS k", "1 AS k"))
    with pytest.raises(GraphsvcError, match="declared parameters the Cypher never uses: kinds"):
        lib.parse(path)


def test_the_library_folder_follows_graphsvc_queries_dir(tmp_path, monkeypatch):
    (tmp_path / "app").mkdir()
    (tmp_path / "analyst").mkdir()
    (tmp_path / "analyst" / "mine.cypher").write_text(GOOD)
    monkeypatch.setenv("GRAPHSVC_QUERIES_DIR", str(tmp_path))
    assert list(library()) == ["mine"]
    assert get("mine").columns == ("n", "d")
    monkeypatch.delenv("GRAPHSVC_QUERIES_DIR")
    assert "mine" not in library() and len(library()) >= 15
