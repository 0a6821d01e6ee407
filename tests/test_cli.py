"""The graphsvc command, end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from graphsvc.localdb import free_port
from tests.helpers import fixture_path

SMALL = fixture_path("small")


def test_import_prints_a_summary_and_export_writes_the_folder(cli, graph, tmp_path):
    result = cli("import", SMALL)
    assert result.exit_code == 0, result.output
    assert "referrals.csv" in result.output and "29 rows written" in result.output
    result = cli("export", str(tmp_path / "out"), "--json")
    assert result.exit_code == 0
    summary = json.loads(result.output)
    assert summary["rows"] == 29 and summary["files"]["handoffs.csv"] == 1


def test_import_json_summary(cli, graph):
    result = cli("import", SMALL, "--json")
    summary = json.loads(result.output)
    assert summary["ok"] is True and summary["written"] == 29 and summary["bad"] == 0
    referrals = summary["files"]["referrals.csv"]
    assert (referrals["rows"], referrals["written"], referrals["bad"]) == (6, 6, 0)


def test_bad_folder_lists_every_problem_and_exits_1(cli, graph, tmp_path):
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "staff.csv").write_text("id,name,role\nst1,Dee,intake_coordinator\nst2,Eli,janitor\n")
    result = cli("import", str(folder))
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"Error: 1 problem(s) in {folder}; nothing was written (use --skip-bad to write the good rows):",
        "staff.csv:3: field 'role': must be one of 'intake_coordinator', 'office_manager', "
        "'billing' or 'other' (got 'janitor')",
    ]
    result = cli("import", str(folder), "--json")
    assert json.loads(result.output)["problems"] == [
        "staff.csv:3: field 'role': must be one of 'intake_coordinator', 'office_manager', "
        "'billing' or 'other' (got 'janitor')"]
    result = cli("import", str(folder), "--skip-bad")
    assert result.exit_code == 0
    assert "skipped staff.csv:3" in result.output
    assert [r["id"] for r in graph.read("export_staff")] == ["st1"]


def test_missing_folder_is_a_clear_error(cli, graph, tmp_path):
    result = cli("import", str(tmp_path / "nope"))
    assert (result.exit_code, result.output) == (1, f"Error: {tmp_path / 'nope'}: no such folder\n")


def test_unreachable_neo4j_names_the_uri_without_a_traceback(tmp_path):
    uri = f"bolt://127.0.0.1:{free_port()}"
    env = {**os.environ, "NEO4J_URI": uri, "NEO4J_PASSWORD": "x"}
    for args in (["import", SMALL], ["export", str(tmp_path)], ["db", "init"]):
        proc = subprocess.run([sys.executable, "-m", "graphsvc", *args], env=env,
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 1
        assert proc.stderr == (f"Error: Cannot reach Neo4j at {uri} (Connection refused); "
                               "check NEO4J_URI and that the server is running\n")
        assert proc.stdout == ""


def test_wrong_password_is_a_clear_error(neo4j_settings):
    env = {**os.environ, "NEO4J_URI": neo4j_settings.uri, "NEO4J_PASSWORD": "wrong-password"}
    proc = subprocess.run([sys.executable, "-m", "graphsvc", "db", "init"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"Error: Neo4j at {neo4j_settings.uri} rejected user 'neo4j'")
    assert "Traceback" not in proc.stderr


def test_db_commands_refuse_to_manage_an_external_server(cli):
    result = cli("db", "start")
    assert result.exit_code == 1
    assert "NEO4J_URI is set" in result.output and "does not start or stop one" in result.output
