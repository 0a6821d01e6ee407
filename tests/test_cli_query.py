"""``graphsvc query``: saved queries and --cypher, read-only and bounded, end to end on the real Neo4j."""

from __future__ import annotations

import csv
import getpass
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from graphsvc.accounts import Accounts
from graphsvc.store.catalog import queries_dir
from graphsvc.store.readonly import DEEPER, MAX_DEPTH
from tests.helpers import fixture_path, free_port, snapshot
from tests.test_console import LONG_EXPRESSION
from tests.test_readonly import wait_until_no_console_transactions

SMALL = fixture_path("small")
USER = f"cli:{getpass.getuser()}"

KIND_QUERY = """\
// title: Referrers of a kind
// question: Which referrers of this kind came since a day?
// param: kind str = pediatrician -- the kind of referrer
// param: since date = 2020-01-01 -- the first day
// columns: id, name, since
MATCH (r:Referrer) WHERE r.kind = $kind AND r.since >= $since
RETURN r.id AS id, r.name AS name, r.since AS since ORDER BY id
"""

COUNT_QUERY = """\
// title: Referrals by referrer
// question: How many referrals did each referrer send?
// columns: referrer, referrals
MATCH (r:Referrer)-[:SENT]->(x:Referral)
RETURN r.id AS referrer, count(x) AS referrals ORDER BY referrer
"""


@pytest.fixture
def library_dir(tmp_path) -> dict:
    """A tiny analysts' library of the test's own (GRAPHSVC_QUERIES_DIR); the service's app/ statements kept."""
    folder = tmp_path / "queries"
    (folder / "analyst").mkdir(parents=True)
    (folder / "app").symlink_to(Path(queries_dir()) / "app")
    (folder / "analyst" / "referrers_of_kind.cypher").write_text(KIND_QUERY)
    (folder / "analyst" / "referrals_by_referrer.cypher").write_text(COUNT_QUERY)
    return {"GRAPHSVC_QUERIES_DIR": str(folder)}


@pytest.fixture
def loaded(cli, graph):
    assert cli("import", SMALL).exit_code == 0
    return cli


def audit(tmp_path) -> list[dict]:
    """The query entries of the CLI's audit log, oldest first: (user, detail)."""
    entries = Accounts(tmp_path / "cli-private" / "cli-accounts.sqlite3").entries(action="query")
    return [(e["user"], e["detail"]) for e in reversed(entries)]


# -- the library ----------------------------------------------------------------


def test_list_shows_the_saved_queries(cli, library_dir):
    result = cli("query", "--list", env=library_dir)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "name                   title                  parameters (default)",
        "---------------------  ---------------------  -----------------------------------",
        "referrals_by_referrer  Referrals by referrer",
        "referrers_of_kind      Referrers of a kind    kind=pediatrician, since=2020-01-01",
        "2 saved queries; run one with: graphsvc query NAME [--param KEY=VALUE ...]",
    ]
    listed = json.loads(cli("query", "--list", "--format", "json", env=library_dir).output)
    assert listed == [
        {"name": "referrals_by_referrer", "title": "Referrals by referrer",
         "question": "How many referrals did each referrer send?", "columns": ["referrer", "referrals"],
         "needs_analysis": False, "params": []},
        {"name": "referrers_of_kind", "title": "Referrers of a kind",
         "question": "Which referrers of this kind came since a day?", "columns": ["id", "name", "since"],
         "needs_analysis": False,
         "params": [{"name": "kind", "type": "str", "default": "pediatrician", "description": "the kind of referrer"},
                    {"name": "since", "type": "date", "default": "2020-01-01", "description": "the first day"}]},
    ]


def test_list_needs_no_neo4j(library_dir):
    env = {**os.environ, "NEO4J_URI": f"bolt://127.0.0.1:{free_port()}", "NEO4J_PASSWORD": "x", **library_dir}
    proc = subprocess.run([sys.executable, "-m", "graphsvc", "query", "--list"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[2].startswith("referrals_by_referrer")


def test_a_saved_query_in_each_format(loaded, library_dir, tmp_path):
    table = loaded("query", "referrers_of_kind", env=library_dir)
    assert table.exit_code == 0, table.output
    assert table.output == ("id   name      since\n"
                            "---  --------  ----------\n"
                            "rf1  Dr. Hale  2023-01-10\n"
                            "1 row\n")
    given = ("query", "referrers_of_kind", "--param", "kind=school_counselor", "--param", "since=2023-01-01")
    assert json.loads(loaded(*given, "--format", "json", env=library_dir).output) == {
        "columns": ["id", "name", "since"], "rows": [["rf2", "Ms. Vega", "2023-03-01"]], "truncated": False,
        "truncated_by": None}
    assert loaded(*given, "--format", "csv", env=library_dir).output == "id,name,since\nrf2,Ms. Vega,2023-03-01\n"
    counts = loaded("query", "referrals_by_referrer", env=library_dir)
    assert counts.output == ("referrer  referrals\n"
                             "--------  ---------\n"
                             "rf1               2\n"
                             "rf2               3\n"
                             "rf3               1\n"
                             "3 rows\n")
    assert audit(tmp_path) == [
        (USER, {"name": "referrers_of_kind", "params": {"kind": "pediatrician", "since": "2020-01-01"},
                "rows": 1, "truncated": False}),
        (USER, {"name": "referrers_of_kind", "params": {"kind": "school_counselor", "since": "2023-01-01"},
                "rows": 1, "truncated": False}),
        (USER, {"name": "referrers_of_kind", "params": {"kind": "school_counselor", "since": "2023-01-01"},
                "rows": 1, "truncated": False}),
        (USER, {"name": "referrals_by_referrer", "params": {}, "rows": 3, "truncated": False}),
    ]


def test_the_json_is_exactly_columns_rows_truncated_and_by_what(loaded, library_dir):
    result = loaded("query", "referrals_by_referrer", "--format", "json", env=library_dir)
    assert result.output == ('{\n'
                             '  "columns": ["referrer", "referrals"],\n'
                             '  "rows": [\n'
                             '    ["rf1", 2],\n'
                             '    ["rf2", 3],\n'
                             '    ["rf3", 1]\n'
                             '  ],\n'
                             '  "truncated": false,\n'
                             '  "truncated_by": null\n'
                             '}\n')


def test_bad_parameters_and_names_are_clear_errors(loaded, library_dir, tmp_path):
    bad = loaded("query", "referrers_of_kind", "--param", "since=yesterday", "--param", "colour=red", env=library_dir)
    assert (bad.exit_code, bad.output) == (1, "Error: parameter 'since' (date): 'yesterday' is not a date as "
                                              "YYYY-MM-DD, or today\nquery 'referrers_of_kind' has no parameter "
                                              "'colour' (its parameters: kind, since)\n")
    unknown = loaded("query", "referrers_of_kin", env=library_dir)
    assert (unknown.exit_code, unknown.output) == (
        1, "Error: no analyst query named 'referrers_of_kin'; did you mean referrers_of_kind?\n")
    shapeless = loaded("query", "referrers_of_kind", "--param", "kind", env=library_dir)
    assert (shapeless.exit_code, shapeless.output) == (1, "Error: --param must be KEY=VALUE (got 'kind')\n")
    assert audit(tmp_path) == [
        (USER, {"name": "referrers_of_kind", "refused": "input"}),
        (USER, {"name": "referrers_of_kin", "refused": "input"}),
        (USER, {"name": "referrers_of_kind", "refused": "input"}),
    ]


def test_every_saved_query_of_the_real_library_passes_the_guard(loaded):
    from graphsvc.store.library import library

    for query in library().values():
        result = loaded("query", query.name, "--format", "json")
        assert result.exit_code == 0, (query.name, result.output)
        assert json.loads(result.output)["columns"] == list(query.columns), query.name


# -- --cypher -----------------------------------------------------------------------


def test_cypher_in_each_format(loaded):
    text = "MATCH (r:Referrer) RETURN r.id AS id, r.name AS name, r.since AS since ORDER BY id"
    table = loaded("query", "--cypher", text)
    assert (table.exit_code, table.output) == (0, "id   name        since\n"
                                                  "---  ----------  ----------\n"
                                                  "rf1  Dr. Hale    2023-01-10\n"
                                                  "rf2  Ms. Vega    2023-03-01\n"
                                                  "rf3  Rev. Stone  2024-02-01\n"
                                                  "3 rows\n")
    assert loaded("query", "--cypher", text, "--format", "csv").output == (
        "id,name,since\nrf1,Dr. Hale,2023-01-10\nrf2,Ms. Vega,2023-03-01\nrf3,Rev. Stone,2024-02-01\n")
    assert json.loads(loaded("query", "--cypher", text, "--format", "json").output)["rows"][2] == [
        "rf3", "Rev. Stone", "2024-02-01"]


def test_cypher_parameters_are_json_when_they_parse(loaded, tmp_path):
    result = loaded("query", "--cypher", "MATCH (r:Referrer) WHERE r.id IN $ids AND $n = 2 AND $s = '42' "
                                         "RETURN r.id AS id ORDER BY id",
                    "--param", 'ids=["rf3", "rf1"]', "--param", "n=2", "--param", 's="42"', "--format", "json")
    assert json.loads(result.output)["rows"] == [["rf1"], ["rf3"]]
    text = loaded("query", "--cypher", "RETURN $who AS who, $when AS when", "--param", "who=rf1' OR 1=1",
                  "--param", "when=2024-01-01", "--format", "json")
    assert json.loads(text.output)["rows"] == [["rf1' OR 1=1", "2024-01-01"]]
    assert audit(tmp_path)[0][1] == {"cypher": "MATCH (r:Referrer) WHERE r.id IN $ids AND $n = 2 AND $s = '42' "
                                               "RETURN r.id AS id ORDER BY id",
                                     "params": {"ids": ["rf3", "rf1"], "n": 2, "s": "42"},
                                     "rows": 2, "truncated": False}


def test_max_rows_cuts_the_answer_and_says_so(loaded, tmp_path):
    twelve = "UNWIND range(1, 12) AS x RETURN x"
    table = loaded("query", "--cypher", twelve, "--max-rows", "5")
    assert (table.exit_code, table.output) == (0, "x\n-\n1\n2\n3\n4\n5\n"
                                                  "5 rows shown; the answer was cut at --max-rows\n")
    assert json.loads(loaded("query", "--cypher", twelve, "--max-rows", "5", "--format", "json").output) == {
        "columns": ["x"], "rows": [[1], [2], [3], [4], [5]], "truncated": True, "truncated_by": "rows"}
    exactly = loaded("query", "--cypher", "UNWIND range(1, 5) AS x RETURN x", "--max-rows", "5")
    assert exactly.output.splitlines()[-1] == "5 rows"
    big = loaded("query", "--cypher", "UNWIND range(1, 6000) AS x RETURN x")
    assert big.output.splitlines()[-1] == "5,000 rows shown; the answer was cut at --max-rows"
    assert len(big.output.splitlines()) == 2 + 5000 + 1
    assert [d["truncated"] for _, d in audit(tmp_path)] == [True, True, False, True]
    assert [d.get("truncated_by") for _, d in audit(tmp_path)] == ["rows", "rows", None, "rows"]
    assert audit(tmp_path)[0][1]["rows"] == 5


def test_csv_cells_are_formula_safe_and_nodes_are_json(loaded):
    result = loaded("query", "--cypher", "RETURN '=HYPERLINK(\"http://x\")' AS f, '@Home' AS g, -5 AS n, "
                                         "['a', 'b'] AS l, null AS none, true AS yes", "--format", "csv")
    assert result.output == 'f,g,n,l,none,yes\n"\'=HYPERLINK(""http://x"")",\'@Home,-5,"[""a"",""b""]",,true\n'
    node = loaded("query", "--cypher", "MATCH (r:Referrer {id: 'rf3'}) RETURN r", "--format", "csv")
    header, cell = node.output.splitlines()
    parsed = json.loads(next(csv.reader([cell]))[0])
    assert header == "r" and parsed["type"] == "node" and parsed["labels"] == ["Party", "Referrer"]
    assert parsed["properties"] == {"id": "rf3", "kind": "clergy", "name": "Rev. Stone",
                                    "organization": "First Community Church", "since": "2024-02-01"}


def test_the_table_shows_nodes_and_paths_like_cypher(loaded):
    result = loaded("query", "--cypher", "MATCH p = (r:Referrer {id: 'rf3'})-[:POINT_PERSON]->(c) "
                                         "RETURN r.id AS id, p")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[2].startswith('rf3  (:Party:Referrer {id: "rf3", kind: "clergy", name: "Rev. Stone", ')
    assert lines[2].endswith("…") and len(lines[2]) == len("rf3  ") + 100
    back = loaded("query", "--cypher", "MATCH p = (c:Clinician {id: 'cn2'})<-[:POINT_PERSON]-(r {id: 'rf3'}) "
                                       "RETURN [n IN nodes(p) | n.id] AS ids, relationships(p)[0] AS rel")
    assert back.output.splitlines()[2] == '["cn2", "rf3"]  [:POINT_PERSON {since: "2024-02-01"}]'


# -- refusals ------------------------------------------------------------------------


@pytest.mark.parametrize("statement, reason, message", [
    ("MATCH (n) DETACH DELETE n", "writes",
     "this query writes (DETACH DELETE); only read-only queries are run, and nothing was written"),
    ("LOAD CSV FROM 'file:///etc/passwd' AS row RETURN row", "load_csv",
     "LOAD CSV is refused: it reads files and URLs from the Neo4j server"),
    ("CREATE USER mallory SET PASSWORD 'not-a-secret-1'", "admin", "administration commands are refused (CREATE USER)"),
    ("DROP INDEX referrer_kind", "schema", "this query changes the schema (DROP INDEX); schema commands are refused"),
    ("CALL db.createLabel('X')", "writes",
     "this query writes (CALL db.createLabel); only read-only queries are run, and nothing was written"),
    ("MATCH (n RETURN n", "syntax", "Cypher syntax error: Invalid input 'RETURN': expected a graph pattern, a "
                                    "parameter, ')', ':', 'IS', 'WHERE' or '{' (line 1, column 10, offset 9)"),
    ("MATCH (r {id: $who}) RETURN r", "params", "a parameter is missing: Expected parameter(s): who"),
])
def test_refusals_are_one_clear_line_and_audited(loaded, graph, tmp_path, statement, reason, message):
    before = snapshot(graph)
    result = loaded("query", "--cypher", statement)
    assert (result.exit_code, result.output) == (1, f"Error: {message}\n")
    assert audit(tmp_path) == [(USER, {"cypher": statement, "params": {}, "refused": reason})]
    assert snapshot(graph) == before and before[0]


def test_a_runaway_query_is_stopped_with_a_clear_message(loaded, tmp_path):
    result = loaded("query", "--cypher", "UNWIND range(1, 100000000000) AS x RETURN count(x)", "--timeout", "1")
    assert (result.exit_code, result.output) == (
        1, "Error: the query was stopped after 1 s (the console's limit); narrow the query or add a LIMIT\n")
    assert audit(tmp_path)[0][1]["refused"] == "timeout"


def test_long_cypher_is_audited_by_its_first_500_characters(loaded, tmp_path):
    text = "RETURN 1 AS one " + "/* padding */ " * 60
    assert loaded("query", "--cypher", text).exit_code == 0
    assert audit(tmp_path)[0][1]["cypher"] == text[:500]


def test_usage_errors(cli):
    for args, message in [
        ((), "give a saved query NAME or --cypher TEXT (one of them), or --list"),
        (("x", "--cypher", "RETURN 1"), "give a saved query NAME or --cypher TEXT (one of them), or --list"),
        (("--list", "x"), "--list takes no NAME, --cypher or --param"),
        (("--list", "--format", "csv"), "--list prints a table or json"),
    ]:
        result = cli("query", *args)
        assert result.exit_code == 2 and f"Error: {message}" in result.output, (args, result.output)
    assert "Invalid value for '--timeout'" in cli("query", "--cypher", "RETURN 1", "--timeout", "0").output
    assert "Invalid value for '--max-rows'" in cli("query", "--cypher", "RETURN 1", "--max-rows", "0").output


def test_unreachable_neo4j_names_the_uri(tmp_path):
    uri = f"bolt://127.0.0.1:{free_port()}"
    env = {**os.environ, "NEO4J_URI": uri, "NEO4J_PASSWORD": "x",
           "GRAPHSVC_ACCOUNTS_DB": str(tmp_path / "private" / "a.sqlite3")}
    proc = subprocess.run([sys.executable, "-m", "graphsvc", "query", "--cypher", "RETURN 1"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert (proc.returncode, proc.stdout) == (1, "")
    assert proc.stderr == (f"Error: Cannot reach Neo4j at {uri} (Connection refused); "
                           "check NEO4J_URI and that the server is running\n")
    entry, = Accounts(tmp_path / "private" / "a.sqlite3").entries(action="query")
    assert entry["detail"] == {"cypher": "RETURN 1", "params": {}, "refused": "unavailable"}


# -- bounded whatever the query -------------------------------------------------------


def test_a_long_expression_is_stopped_within_its_timeout(loaded, graph, tmp_path):
    """Neo4j does not check the timeout inside one expression; the command still ends by --timeout + 2 s."""
    wait_until_no_console_transactions(graph, 60)
    started = time.monotonic()
    result = loaded("query", "--cypher", LONG_EXPRESSION, "--timeout", "1")
    took = time.monotonic() - started
    assert (result.exit_code, result.output) == (
        1, "Error: the query was stopped after 1 s (the console's limit); narrow the query or add a LIMIT\n")
    assert took < 1 + 2, took
    assert audit(tmp_path) == [(USER, {"cypher": LONG_EXPRESSION, "params": {}, "refused": "timeout"})]
    wait_until_no_console_transactions(graph, 60)


def test_a_huge_value_is_cut_by_bytes(loaded, tmp_path):
    result = loaded("query", "--cypher", "RETURN range(1,20000000) AS big")
    assert (result.exit_code, result.output) == (0, "big\n---\n0 rows shown; the answer was cut at --max-bytes "
                                                    "(5,000,000 bytes) (the first row alone is larger)\n")
    small = loaded("query", "--cypher", "UNWIND range(1, 5000) AS n RETURN n", "--max-bytes", "1000",
                   "--format", "json")
    answer = json.loads(small.output)
    assert (len(answer["rows"]), answer["truncated"], answer["truncated_by"]) == (184, True, "bytes")
    table = loaded("query", "--cypher", "UNWIND range(1, 5000) AS n RETURN n", "--max-bytes", "1000")
    assert table.output.splitlines()[-1] == "184 rows shown; the answer was cut at --max-bytes (1,000 bytes)"
    assert [d.get("truncated_by") for _, d in audit(tmp_path)] == ["bytes", "bytes", "bytes"]


def test_a_deeply_nested_value_is_shown_not_a_traceback(loaded, tmp_path):
    cypher = "RETURN reduce(l=[], i IN range(1,1500) | [l]) AS deep"
    shown = "[" * MAX_DEPTH + json.dumps(DEEPER, ensure_ascii=False) + "]" * MAX_DEPTH
    as_json = loaded("query", "--cypher", cypher, "--format", "json")
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.output)["rows"] == [[json.loads(shown)]]
    table = loaded("query", "--cypher", cypher)
    assert table.exit_code == 0 and table.output.splitlines()[2].startswith("[[[[")
    as_csv = loaded("query", "--cypher", cypher, "--format", "csv")
    assert as_csv.exit_code == 0 and DEEPER in as_csv.output
    assert [d["rows"] for _, d in audit(tmp_path)] == [1, 1, 1]


def test_the_servers_settings_are_refused(loaded, tmp_path):
    result = loaded("query", "--cypher", "SHOW SETTINGS YIELD name, value")
    assert (result.exit_code, result.output) == (
        1, "Error: administration commands are refused (SHOW SETTINGS): the console reads the graph, not the "
           "server's settings, code or sessions (SHOW INDEXES and SHOW CONSTRAINTS are allowed)\n")
    assert audit(tmp_path) == [(USER, {"cypher": "SHOW SETTINGS YIELD name, value", "params": {},
                                       "refused": "admin"})]


def test_the_defaults_come_from_the_settings(loaded):
    result = loaded("query", "--cypher", "UNWIND range(1, 5) AS n RETURN n",
                    env={"GRAPHSVC_CONSOLE_MAX_ROWS": "2"})
    assert result.output.splitlines()[-1] == "2 rows shown; the answer was cut at --max-rows"
    assert loaded("query", "--cypher", "UNWIND range(1, 5) AS n RETURN n", "--max-rows", "3",
                  env={"GRAPHSVC_CONSOLE_MAX_ROWS": "2"}).output.splitlines()[-1].startswith("3 rows shown")
