"""The read-only, bounded console (graphsvc.store.readonly) against the real Neo4j.

Every refused statement is tried on the imported small fixture, and the graph
(every node and relationship with labels and properties), the schema (index
and constraint names, labels, relationship types, property keys) and the
users are compared before and after.
"""

from __future__ import annotations

import re
import threading
import time

import pytest

from graphsvc.errors import InvalidInput, QueryRefused
from graphsvc.store import readonly
from graphsvc.store.readonly import DEEPER, MAX_DEPTH, MAX_QUERY_CHARS, READ_PROCEDURES, run_readonly, to_plain
from tests.helpers import snapshot

WRITES = "; only read-only queries are run, and nothing was written"
SERVER_READS = ("the console reads the graph, not the server's settings, code or sessions "
                "(SHOW INDEXES and SHOW CONSTRAINTS are allowed)")
# Neo4j checks a transaction's timeout between rows, never inside one expression: this one ran 111.5 s
# against a 10 s limit (it builds a 4 MB string by copying it 400,000 times).
LONG_EXPRESSION = "RETURN size(reduce(s='', i IN range(1,400000) | s + 'xxxxxxxxxx'))"

REFUSED = [
    # (statement, reason, message)
    ("CREATE (n:Referrer {id: 'rf9', name: 'Mallory'})", "writes", "this query writes (CREATE)" + WRITES),
    ("MERGE (n:Referrer {id: 'rf9'})", "writes", "this query writes (MERGE)" + WRITES),
    ("MATCH (r:Referrer {id: 'rf1'}) SET r.name = 'Mallory'", "writes", "this query writes (SET)" + WRITES),
    ("MATCH (r:Referrer)-[s:SENT]->() DELETE s", "writes", "this query writes (DELETE)" + WRITES),
    ("MATCH (n) DETACH DELETE n", "writes", "this query writes (DETACH DELETE)" + WRITES),
    ("MATCH (r:Referrer) REMOVE r.name", "writes", "this query writes (REMOVE)" + WRITES),
    ("MATCH (r:Referrer) REMOVE r:Referrer", "writes", "this query writes (REMOVE)" + WRITES),
    ("FOREACH (i IN range(1, 3) | CREATE (:Referrer {id: 'x' + i}))", "writes",
     "this query writes (CREATE, FOREACH)" + WRITES),
    ("MATCH (r:Referrer) CALL (r) { CREATE (:Note {of: r.id}) } RETURN r.id", "writes",
     "this query writes (CREATE)" + WRITES),
    ("MATCH (r:Referrer) CALL { WITH r SET r.flag = true } RETURN r.id", "writes",
     "this query writes (SET)" + WRITES),
    ("MATCH (r:Referrer) CALL (r) { DETACH DELETE r } IN TRANSACTIONS OF 10 ROWS", "writes",
     "this query writes (DETACH DELETE, CALL { … } IN TRANSACTIONS)" + WRITES),
    ("UNWIND range(1, 3) AS i CALL (i) { MERGE (:Tmp {i: i}) } IN TRANSACTIONS", "writes",
     "this query writes (MERGE, CALL { … } IN TRANSACTIONS)" + WRITES),
    ("CALL db.createLabel('X')", "writes", "this query writes (CALL db.createLabel)" + WRITES),
    ("CALL db.createProperty('zz_new_key')", "writes", "this query writes (CALL db.createProperty)" + WRITES),
    ("LOAD CSV FROM 'file:///etc/passwd' AS row RETURN row", "load_csv",
     "LOAD CSV is refused: it reads files and URLs from the Neo4j server"),
    ("load csv with headers from 'https://example.com/referrers.csv' AS row MERGE (:Referrer {id: row.id})",
     "load_csv", "LOAD CSV is refused: it reads files and URLs from the Neo4j server"),
    ("LOAD /* hidden */ CSV FROM 'https://example.com/x.csv' AS row RETURN row", "load_csv",
     "LOAD CSV is refused: it reads files and URLs from the Neo4j server"),
    ("CREATE INDEX mallory FOR (n:Referrer) ON (n.name)", "schema",
     "this query changes the schema (CREATE INDEX); schema commands are refused"),
    ("DROP INDEX referrer_kind", "schema", "this query changes the schema (DROP INDEX); schema commands are refused"),
    ("CREATE CONSTRAINT mallory FOR (n:Referrer) REQUIRE n.name IS UNIQUE", "schema",
     "this query changes the schema (CREATE CONSTRAINT); schema commands are refused"),
    ("DROP CONSTRAINT referrer_id", "schema",
     "this query changes the schema (DROP CONSTRAINT); schema commands are refused"),
    ("CREATE USER mallory SET PASSWORD 'not-a-secret-1' CHANGE NOT REQUIRED", "admin",
     "administration commands are refused (CREATE USER)"),
    ("SHOW USERS", "admin", "administration commands are refused (SHOW USERS)"),
    ("USE system SHOW USERS", "admin", "administration commands are refused (SHOW USERS)"),
    ("ALTER CURRENT USER SET PASSWORD FROM 'a' TO 'bbbbbbbbbbbb'", "admin",
     "administration commands are refused (ALTER CURRENT)"),
    ("CREATE DATABASE mallory", "admin", "administration commands are refused (CREATE DATABASE)"),
    ("SHOW TRANSACTIONS", "admin", "administration commands are refused (SHOW TRANSACTIONS)"),
    ("TERMINATE TRANSACTIONS 'neo4j-transaction-1'", "admin",
     "administration commands are refused (TERMINATE TRANSACTIONS)"),
    ("CALL dbms.listConfig()", "admin",
     "administration commands and DBMS procedures are refused (dbms.listConfig)"),
    ("CALL db.clearQueryCaches()", "admin",
     "administration commands and DBMS procedures are refused (db.clearQueryCaches)"),
    ("CALL db.stats.clear('QUERIES')", "procedure",
     "the procedure db.stats.clear is refused: only these read-only ones may be called: "
     + ", ".join(sorted(READ_PROCEDURES))),
    # The server's own settings, code and sessions: they plan as reads, and are its operators' to read.
    ("SHOW SETTINGS", "admin", "administration commands are refused (SHOW SETTINGS): " + SERVER_READS),
    ("SHOW SETTINGS YIELD name, value WHERE name STARTS WITH 'server.'", "admin",
     "administration commands are refused (SHOW SETTINGS): " + SERVER_READS),
    ("CYPHER 5 USE neo4j SHOW SETTINGS YIELD * RETURN count(*) AS n", "admin",
     "administration commands are refused (SHOW SETTINGS): " + SERVER_READS),
    ("SHOW PROCEDURES EXECUTABLE BY CURRENT USER", "admin",
     "administration commands are refused (SHOW PROCEDURES): " + SERVER_READS),
    ("SHOW FUNCTIONS", "admin", "administration commands are refused (SHOW FUNCTIONS): " + SERVER_READS),
    ("SHOW TRANSACTIONS YIELD currentQuery, parameters", "admin", "administration commands are refused "
                                                                  "(SHOW TRANSACTIONS)"),
    ("SHOW DATABASES", "admin", "administration commands are refused (SHOW DATABASES)"),
    ("SHOW SERVERS", "admin", "administration commands are refused (SHOW SERVERS)"),
    ("SHOW ROLES", "admin", "administration commands are refused (SHOW ROLES)"),
    ("SHOW PRIVILEGES", "admin", "administration commands are refused (SHOW PRIVILEGES)"),
    ("SHOW CURRENT USER", "admin", "administration commands are refused (SHOW CURRENT)"),
    ("CALL dbms.components()", "admin",
     "administration commands and DBMS procedures are refused (dbms.components)"),
    ("CALL dbms.queryJmx('*:*')", "admin",
     "administration commands and DBMS procedures are refused (dbms.queryJmx)"),
]


def state(graph) -> tuple:
    """The whole graph, its schema and the server's users: what no refused query may change."""
    with graph.session() as s:
        schema = tuple(sorted(r[0] for r in s.run(q)) for q in (
            "SHOW INDEXES YIELD name", "SHOW CONSTRAINTS YIELD name", "CALL db.labels()",
            "CALL db.relationshipTypes()", "CALL db.propertyKeys()"))
    users = sorted(r["user"] for r in graph.driver.execute_query("SHOW USERS YIELD user", database_="system").records)
    return snapshot(graph), schema, users


@pytest.mark.parametrize("statement, reason, message", REFUSED, ids=[r[0][:40] for r in REFUSED])
def test_refused_with_the_reason_and_the_graph_unchanged(small, statement, reason, message):
    before = state(small)
    assert before[0][0] and before[0][1], "the fixture is imported"
    with pytest.raises(QueryRefused) as refused:
        run_readonly(small, statement)
    assert (refused.value.reason, str(refused.value)) == (reason, message)
    assert state(small) == before


def test_the_schema_names_in_the_refusals_exist(small):
    """DROP INDEX referrer_kind and DROP CONSTRAINT referrer_id above name real ones: their refusal matters."""
    with small.session() as s:
        assert "referrer_kind" in [r[0] for r in s.run("SHOW INDEXES YIELD name")]
        assert "referrer_id" in [r[0] for r in s.run("SHOW CONSTRAINTS YIELD name")]


def test_what_neo4j_plans_each_kind_of_statement_as(small):
    """The query types the guard relies on (Neo4j 5.26): w, rw and s are refused; LOAD CSV and SHOW/TERMINATE
    TRANSACTIONS plan as reads and are refused by their operators."""
    def kind(text):
        with small.session() as s:
            return s.run("EXPLAIN " + text).consume().query_type

    assert [kind(t) for t in ("CREATE (n)", "MATCH (n) SET n.a = 1", "CALL db.createLabel('X')",
                              "CALL () { CREATE (n) } RETURN 1", "CREATE INDEX x FOR (n:X) ON (n.a)",
                              "CREATE USER x SET PASSWORD 'yyyyyyyyyyyy'", "CALL dbms.listConfig()",
                              "LOAD CSV FROM 'file:///x' AS r RETURN r", "SHOW TRANSACTIONS",
                              "MATCH (n) RETURN n")] == ["w", "w", "w", "rw", "s", "s", "s", "r", "r", "r"]


def test_load_csv_is_refused_by_its_plan_too(small, monkeypatch):
    """The words are only the first line: the plan's LoadCSV operator refuses it when the words slip through."""
    monkeypatch.setattr(readonly, "_LOAD_CSV", re.compile(r"(?!x)x"))  # a check that never matches
    before = state(small)
    with pytest.raises(QueryRefused) as refused:
        run_readonly(small, "LOAD CSV FROM 'file:///etc/passwd' AS row RETURN row")
    assert refused.value.reason == "load_csv"
    assert state(small) == before


def test_the_read_transaction_refuses_a_write_the_plan_check_missed(small, monkeypatch):
    """Defence in depth: with the EXPLAIN check switched off, the READ transaction itself refuses the write."""
    monkeypatch.setattr(readonly, "_check_plan", lambda text, summary: None)
    before = state(small)
    with pytest.raises(QueryRefused) as refused:
        run_readonly(small, "MATCH (r:Referrer) SET r.name = 'Mallory' RETURN r.id")
    assert (refused.value.reason, str(refused.value)) == ("writes", "this query writes" + WRITES)
    assert state(small) == before


def test_words_in_strings_and_comments_are_not_statements(small):
    answer = run_readonly(small, "// LOAD CSV, CREATE\nMATCH (r:Referrer) WHERE r.name <> 'LOAD CSV; CREATE (x)' "
                                 "RETURN r.id AS id ORDER BY id")
    assert answer["rows"] == [["rf1"], ["rf2"], ["rf3"]]


def test_a_runaway_query_is_stopped_by_the_server(small):
    with pytest.raises(QueryRefused) as refused:
        run_readonly(small, "UNWIND range(1, 100000000000) AS x RETURN count(x)", timeout=1)
    assert (refused.value.reason, str(refused.value)) == (
        "timeout", "the query was stopped after 1 s (the console's limit); narrow the query or add a LIMIT")
    # The server is free again.
    assert run_readonly(small, "RETURN 1 AS one")["rows"] == [[1]]


def test_the_timeout_message_gives_the_seconds_as_given(small):
    with pytest.raises(QueryRefused, match=r"^the query was stopped after 1\.5 s "):
        run_readonly(small, "UNWIND range(1, 100000000000) AS x RETURN count(x)", timeout=1.5)


def test_row_cap(small):
    twelve = run_readonly(small, "UNWIND range(1, 12) AS x RETURN x", row_cap=5)
    assert (twelve["columns"], twelve["rows"], twelve["truncated"]) == (["x"], [[1], [2], [3], [4], [5]], True)
    five = run_readonly(small, "UNWIND range(1, 5) AS x RETURN x", row_cap=5)
    assert (five["rows"], five["truncated"]) == ([[1], [2], [3], [4], [5]], False)
    none = run_readonly(small, "MATCH (n:Nothing) RETURN n", row_cap=5)
    assert (none["columns"], none["rows"], none["truncated"]) == (["n"], [], False)
    assert isinstance(five["elapsed_ms"], int)


def test_the_row_cap_stops_a_large_answer_early(small):
    """Only row_cap + 1 records are pulled: a huge answer capped at 3 comes back.

    Pulling all 10^11 rows would hit the 30 s timeout and raise QueryRefused.
    """
    answer = run_readonly(small, "UNWIND range(1, 100000000000) AS x RETURN x", row_cap=3, timeout=30)
    assert (answer["rows"], answer["truncated"]) == ([[1], [2], [3]], True)


def test_nodes_relationships_and_paths_are_plain_data(small):
    ids = small.driver.execute_query(
        "MATCH (r:Referrer {id: 'rf1'})-[p:POINT_PERSON]->(c:Clinician) "
        "RETURN elementId(r) AS r, elementId(p) AS p, elementId(c) AS c").records[0]
    answer = run_readonly(small, "MATCH p = (r:Referrer {id: 'rf1'})-[pp:POINT_PERSON]->(c) "
                                 "RETURN p, r, pp, c.id AS id, [r.since, {n: 1}] AS misc")
    referrer = {"type": "node", "id": ids["r"], "labels": ["Party", "Referrer"],
                "properties": {"id": "rf1", "kind": "pediatrician", "name": "Dr. Hale",
                               "organization": "Northside Pediatrics", "since": "2023-01-10"}}
    clinician = {"type": "node", "id": ids["c"], "labels": ["Clinician", "Member", "Party"],
                 "properties": {"accepting_new": True, "id": "cn1", "insurances": ["medicaid", "bcbs"],
                                "name": "Ana Ruiz", "populations": ["child", "adolescent"],
                                "schedule": ["weekday_day", "weekday_evening"],
                                "specialties": ["anxiety", "adhd"]}}
    point_person = {"type": "relationship", "id": ids["p"], "rel_type": "POINT_PERSON", "start": ids["r"],
                    "end": ids["c"], "properties": {"since": "2023-01-10"}}
    assert answer["columns"] == ["p", "r", "pp", "id", "misc"]
    assert answer["rows"] == [[{"type": "path", "nodes": [referrer, clinician], "relationships": [point_person]},
                               referrer, point_person, "cn1", ["2023-01-10", {"n": 1}]]]


def test_temporal_and_other_values(small):
    row = run_readonly(small, "RETURN datetime('2024-05-01T10:30:00Z') AS dt, localdatetime('2024-05-01T10:30') AS "
                              "ldt, time('10:30:00+01:00') AS t, duration('P1DT2H') AS d, 0.0/0.0 AS nan, "
                              "point({x: 1.5, y: 2}) AS pt, -1.0 / 0.0 AS inf")["rows"][0]
    assert row == ["2024-05-01T10:30:00+00:00", "2024-05-01T10:30:00", "10:30:00+01:00", "P1DT2H", "NaN",
                   {"type": "point", "srid": 7203, "x": 1.5, "y": 2.0}, "-Infinity"]
    assert to_plain(b"\x00\xff") == "AP8="


def test_parameters_are_passed_never_built_into_the_text(small):
    answer = run_readonly(small, "MATCH (r:Referrer {id: $id}) RETURN r.name AS name", {"id": "rf1"})
    assert answer["rows"] == [["Dr. Hale"]]
    sneaky = run_readonly(small, "MATCH (r:Referrer) WHERE r.id = $id RETURN r.name AS name",
                          {"id": "rf1' OR 1=1 //"})
    assert sneaky["rows"] == []
    listed = run_readonly(small, "MATCH (r:Referrer) WHERE r.id IN $ids RETURN r.id ORDER BY r.id",
                          {"ids": ["rf3", "rf1"]})
    assert listed["rows"] == [["rf1"], ["rf3"]]


def test_a_missing_parameter_is_a_clear_error(small):
    with pytest.raises(QueryRefused) as refused:
        run_readonly(small, "MATCH (r:Referrer {id: $who}) RETURN r")
    assert (refused.value.reason, str(refused.value)) == (
        "params", "a parameter is missing: Expected parameter(s): who")


def test_syntax_errors_name_the_position_in_the_text_as_given(small):
    with pytest.raises(QueryRefused) as refused:
        run_readonly(small, "MATCH (n RETURN n")
    assert refused.value.reason == "syntax"
    assert str(refused.value) == ("Cypher syntax error: Invalid input 'RETURN': expected a graph pattern, a parameter, "
                                  "')', ':', 'IS', 'WHERE' or '{' (line 1, column 10, offset 9)")
    with pytest.raises(QueryRefused) as refused:
        run_readonly(small, "MATCH (n)\nRETURN m")
    assert str(refused.value) == "Cypher syntax error: Variable `m` not defined (line 2, column 8, offset 17)"
    with pytest.raises(QueryRefused) as refused:
        run_readonly(small, "MATCH (n) RETURN n; MATCH (m) DETACH DELETE m")
    assert (refused.value.reason, str(refused.value)) == (
        "syntax", "Cypher syntax error: Expected exactly one statement per query but got: 2")


def test_errors_while_running_are_clear(small):
    with pytest.raises(QueryRefused) as refused:
        run_readonly(small, "RETURN 1 / 0 AS x")
    assert (refused.value.reason, str(refused.value)) == ("failed", "Neo4j refused the query: / by zero")
    with pytest.raises(QueryRefused) as refused:
        run_readonly(small, "CALL no.such.procedure()")
    assert refused.value.reason == "invalid"
    assert str(refused.value).startswith("Neo4j refused the query: There is no procedure with the name "
                                         "`no.such.procedure`")
    with pytest.raises(QueryRefused) as refused:
        run_readonly(small, "PROFILE MATCH (n) RETURN n")
    assert refused.value.reason == "invalid"


@pytest.mark.parametrize("text, reason, message", [
    ("", "empty", "the query is empty"),
    ("  \n ", "empty", "the query is empty"),
    (None, "not_text", "a query is text (got NoneType)"),
    (b"MATCH (n) RETURN n", "not_text", "a query is text (got bytes)"),
    ("RETURN 1 " + " " * MAX_QUERY_CHARS, "too_long", "the query is 20,009 characters long; the most is 20,000"),
])
def test_text_checks(small, text, reason, message):
    with pytest.raises(QueryRefused) as refused:
        run_readonly(small, text)
    assert (refused.value.reason, str(refused.value)) == (reason, message)
    assert isinstance(refused.value, InvalidInput)


def test_reads_that_are_allowed(small):
    assert run_readonly(small, "CALL db.labels() YIELD label RETURN label ORDER BY label")["rows"][:2] == [
        ["Client"], ["Clinician"]]
    assert ["referrer_id"] in run_readonly(small, "SHOW CONSTRAINTS YIELD name RETURN name")["rows"]
    answer = run_readonly(small, "CYPHER 5 MATCH (r:Referrer)-[:SENT]->(x:Referral) "
                                 "RETURN r.id AS referrer, count(x) AS referrals ORDER BY referrer")
    assert answer == {**answer, "columns": ["referrer", "referrals"],
                      "rows": [["rf1", 2], ["rf2", 3], ["rf3", 1]], "truncated": False}


def test_the_schema_shows_stay_allowed(small):
    assert ["referrer_kind"] in run_readonly(small, "SHOW INDEXES YIELD name RETURN name")["rows"]
    assert run_readonly(small, "SHOW CONSTRAINTS YIELD name WHERE name = 'referrer_id' RETURN name")["rows"] == [
        ["referrer_id"]]


# -- bounded whatever the query --------------------------------------------------------


def lingering(graph) -> list[str]:
    """The statuses of the console's transactions still on the server (none running but the caller's)."""
    with graph.session() as s:
        return [r["status"] for r in s.run("SHOW TRANSACTIONS YIELD status, metaData "
                                           "WHERE metaData.graphsvc = 'console' RETURN status")]


def wait_until_no_console_transactions(graph, seconds: float) -> None:
    """Until the server has finished the console's transactions (at most ``seconds``)."""
    deadline = time.monotonic() + seconds
    while lingering(graph) and time.monotonic() < deadline:
        time.sleep(0.5)


def test_the_answer_is_cut_by_bytes_between_rows(small):
    answer = run_readonly(small, "UNWIND range(1, 1000) AS x RETURN x, 'abc' AS s", max_bytes=100)
    # each row is [n,"abc"] and a separator: 10 bytes for 1..9, 11 for 10..99
    assert answer["rows"] == [[n, "abc"] for n in range(1, 10)]
    assert (answer["truncated"], answer["truncated_by"], answer["bytes"]) == (True, "bytes", 90)
    rows_first = run_readonly(small, "UNWIND range(1, 1000) AS x RETURN x", row_cap=3, max_bytes=100)
    assert (rows_first["rows"], rows_first["truncated_by"]) == ([[1], [2], [3]], "rows")
    whole = run_readonly(small, "UNWIND range(1, 3) AS x RETURN x")
    assert (whole["truncated"], whole["truncated_by"], whole["bytes"]) == (False, None, 12)


def test_one_huge_value_is_never_taken_whole(small, monkeypatch):
    """``RETURN range(1, 20000000)`` once sent a 169 MB answer: the bytes are counted as they come, and the
    connection is shut past 3 x max_bytes, before the value is read whole."""
    meters = []
    install = readonly._WireMeter.install.__func__

    def spy(cls, session, limit):
        meters.append(install(cls, session, limit))
        return meters[-1]

    monkeypatch.setattr(readonly._WireMeter, "install", classmethod(spy))
    started = time.monotonic()
    answer = run_readonly(small, "RETURN 1 AS one UNION ALL RETURN size(range(1, 10)) AS one "
                                 "UNION ALL RETURN size(range(1, 20000000)) AS one")
    assert answer["rows"] == [[1], [10], [20000000]] and answer["truncated"] is False
    answer = run_readonly(small, "RETURN range(1, 20000000) AS big")
    assert (answer["rows"], answer["truncated"], answer["truncated_by"]) == ([], True, "bytes")
    assert time.monotonic() - started < 30
    assert meters[-1] is not None, "the driver's connection is shaped as _WireMeter expects"
    assert meters[-1].tripped and meters[-1].count <= 3 * readonly.DEFAULT_MAX_BYTES + readonly.WIRE_SLACK + 65_536
    assert run_readonly(small, "RETURN 1 AS one")["rows"] == [[1]]  # the next run has a sound connection


def test_any_depth_of_nesting_is_shown_to_a_point(small):
    """``RETURN reduce(l=[], i IN range(1,1500) | [l])`` was a 500 on /console and a traceback from the CLI."""
    answer = run_readonly(small, "RETURN reduce(l = [], i IN range(1, 1500) | [l]) AS x, "
                                 "reduce(m = {}, i IN range(1, 300) | {a: m}) AS y")
    (x, y), = answer["rows"]
    for value, step in ((x, lambda v: v[0]), (y, lambda v: v["a"])):
        depth = 0
        while value != DEEPER:
            value, depth = step(value), depth + 1
        assert depth == MAX_DEPTH
    assert to_plain([[["a"]]], MAX_DEPTH - 2) == [[DEEPER]]


def test_a_value_the_server_never_sends_is_stopped_at_the_deadline(small):
    """A deeply nested map overflows the server's stack while it writes the answer, and it never answers."""
    started = time.monotonic()
    with pytest.raises(QueryRefused) as refused:
        run_readonly(small, "RETURN reduce(m = {}, i IN range(1, 50000) | {a: m}) AS x", timeout=1)
    assert time.monotonic() - started < 1 + 2
    assert (refused.value.reason, str(refused.value)) == (
        "timeout", "the query was stopped after 1 s (the console's limit); narrow the query or add a LIMIT")
    assert run_readonly(small, "RETURN 1 AS one")["rows"] == [[1]]


def test_one_long_expression_is_stopped_at_the_deadline_and_leftovers_are_bounded(small, monkeypatch):
    """The server's timeout is not checked inside one expression: the call still returns within timeout + 2 s,
    the transaction is terminated on the server, and while stopped ones still run there, new runs wait."""
    wait_until_no_console_transactions(small, 60)
    started = time.monotonic()
    with pytest.raises(QueryRefused) as refused:
        run_readonly(small, LONG_EXPRESSION, timeout=1)
    took = time.monotonic() - started
    assert took < 1 + 2, took
    assert (refused.value.reason, str(refused.value)) == (
        "timeout", "the query was stopped after 1 s (the console's limit); narrow the query or add a LIMIT")
    statuses = lingering(small)
    assert statuses and all(status.startswith("Terminated") for status in statuses), statuses
    monkeypatch.setattr(readonly, "MAX_LINGERING", 1)
    with pytest.raises(QueryRefused) as busy:
        run_readonly(small, "RETURN 1 AS one")
    assert (busy.value.reason, str(busy.value)) == (
        "busy", "the Neo4j server is still finishing 1 console query that was stopped (Neo4j cannot "
                "interrupt one long expression, e.g. reduce() over a large list); try again in a minute")
    monkeypatch.setattr(readonly, "MAX_LINGERING", 2)
    assert run_readonly(small, "RETURN 1 AS one")["rows"] == [[1]]


def test_runs_sent_together_past_the_bound_are_busy_at_once_and_each_run_frees_its_place(small, monkeypatch):
    """A burst of runs all started before any could be seen on the server (a probe: 3 left running): one
    process runs at most MAX_RUNNING at once; the next is refused as busy without reaching Neo4j."""
    places = threading.BoundedSemaphore(readonly.MAX_RUNNING)
    monkeypatch.setattr(readonly, "_running", places)
    assert [places.acquire(blocking=False) for _ in range(readonly.MAX_RUNNING)] == [True, True]  # two running
    with pytest.raises(QueryRefused) as busy:
        run_readonly(small, "RETURN 1 AS one")
    assert (busy.value.reason, str(busy.value)) == (
        "busy", "2 console queries are running here already; try again when one has answered")
    places.release()
    assert run_readonly(small, "RETURN 1 AS one")["rows"] == [[1]]
    for _ in range(50):  # the worker thread gives its place back as it ends, just after the answer
        if places.acquire(blocking=False):
            break
        time.sleep(0.01)
    else:
        raise AssertionError("the run kept its place")
