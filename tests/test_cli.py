"""The graphsvc command, end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date

from tests.helpers import TEST_QUERIES, fixture_path, free_port, service_of, someone

SMALL = fixture_path("small")
AS_OF = "2024-12-31"


def test_import_prints_a_summary_and_export_writes_the_folder(cli, graph, tmp_path):
    result = cli("import", SMALL)
    assert result.exit_code == 0, result.output
    assert "referrals.csv" in result.output and "29 rows written" in result.output
    result = cli("export", str(tmp_path / "out"), "--json")
    assert result.exit_code == 0
    summary = json.loads(result.output)
    # The folder's 29 rows, and the 12 words its first import adopted (vocabularies.csv).
    assert (summary["rows"], summary["files"]["handoffs.csv"], summary["files"]["vocabularies.csv"]) == (41, 1, 12)


def test_imports_and_exports_are_audited(cli, graph, tmp_path):
    import getpass

    from graphsvc.accounts import Accounts

    assert cli("import", SMALL).exit_code == 0
    assert cli("export", str(tmp_path / "out")).exit_code == 0
    entries = Accounts(tmp_path / "cli-private" / "cli-accounts.sqlite3").entries()
    # The first import into an empty practice adopted the words it brought: one entry per vocabulary.
    assert sorted((e["detail"]["vocabulary"], e["detail"]["via"]) for e in entries
                  if e["action"] == "vocabulary add") == [
        (name, f"import {os.path.abspath(SMALL)}") for name in ("insurances", "needs", "niches")]
    log = [e for e in entries if e["action"] != "vocabulary add"]
    assert [(e["action"], e["user"], e["ids"]) for e in log] == [
        ("export", f"cli:{getpass.getuser()}", []), ("import", f"cli:{getpass.getuser()}", [])]
    exported, imported = log[0]["detail"], log[1]["detail"]
    assert exported["folder"] == str(tmp_path / "out") and imported["folder"] == os.path.abspath(SMALL)
    assert sum(exported["rows"].values()) == 41 and exported["rows"]["vocabularies.csv"] == 12  # its words too
    assert imported["rows"]["referrals.csv"] == 6 and sum(imported["rows"].values()) == 29


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
        f"Error: 1 problem in {folder}; nothing was written (use --skip-bad to write the good rows):",
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
    (folder / "staff.csv").write_text("id,name,role\nst1,Dee,intake_coordinator\nst2,Eli,janitor\nst3,Fay,cook\n")
    assert cli("import", str(folder)).output.startswith(f"Error: 2 problems in {folder}; nothing was written")


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


def test_export_summary_says_rows_once(cli, graph, tmp_path):
    assert cli("import", SMALL).exit_code == 0
    result = cli("export", str(tmp_path / "out"))
    total = result.output.splitlines()[-1]
    assert total.split()[:3] == ["total", "41", "rows"] and "rows rows" not in result.output  # 12 of them words


# -- graphsvc stage: one referrer, by id or name ---------------------------------


def test_stage_finds_a_referrer_by_unique_name_and_names_the_point_person(cli, graph):
    assert cli("import", SMALL).exit_code == 0
    by_id = cli("stage", "rf2", "--as-of", AS_OF)
    assert by_id.exit_code == 0, by_id.output
    assert by_id.output.splitlines() == [
        "Ms. Vega (rf2, school counselor): stage 1 · point person, as of 2024-12-31",
        "  point person: Ben Okafor (cn2); 3 referrals, first 2023-06-20, last 2024-05-01",
        "  2023-06-20  stage 1 · point person  (after referral r3)",
        "  reached 3 members; breadth 2 clinicians; point-person share 67%; practice share 33%",
        "  pace from the first referral: stage 2 not reached, stage 3 not reached",
        "  trend: 2 referrals in the last 12 months, 1 more than the 12 months before",
        "  stalled in stage 1 (over 180 days); lapsed: no referral since 2024-05-01 (over 180 days)"]
    for typed in ("Ms. Vega", "ms. vega", "  MS. VEGA "):
        assert cli("stage", typed, "--as-of", AS_OF).output == by_id.output
    info = json.loads(cli("stage", "ms. vega", "--as-of", AS_OF, "--json").output)
    assert (info["id"], info["metrics"]["point_person"], info["point_person_name"]) == ("rf2", "cn2", "Ben Okafor")
    # suggest takes a name the same way.
    assert json.loads(cli("suggest", "Dr. Hale", "--json").output)["referrer"] == "rf1"


def test_stage_text_has_no_python_none_and_words_the_pace(cli, graph):
    assert cli("import", SMALL).exit_code == 0
    # rf3 on 2024-02-15: started 2024-02-01, one talk with cn2 (2024-02-10), no referral yet.
    assert cli("stage", "rf3", "--as-of", "2024-02-15").output.splitlines() == [
        "Rev. Stone (rf3, clergy): stage 0 · new, as of 2024-02-15",
        "  point person: Ben Okafor (cn2); no referral yet",
        "  reached 1 member; breadth 0 clinicians; point-person share —; practice share —",
        "  pace from the first referral: stage 2 not reached, stage 3 not reached",
        "  trend: 0 referrals in the last 12 months, as many as the 12 months before"]
    # rf3 at the end of 2024: straight to stage 3 on its first referral (to the practice).
    assert cli("stage", "rf3", "--as-of", AS_OF).output.splitlines() == [
        "Rev. Stone (rf3, clergy): stage 3 · whole practice, as of 2024-12-31",
        "  point person: Ben Okafor (cn2); 1 referral, first 2024-04-01, last 2024-04-01",
        "  2024-04-01  stage 3 · whole practice  (after referral r5)",
        "  reached 1 member; breadth 1 clinician; point-person share 0%; practice share 100%",
        "  pace from the first referral: stage 2 not reached, stage 3 after 0 days",
        "  trend: 1 referral in the last 12 months, 1 more than the 12 months before",
        "  jumped to stage 3 (never in stage 2)"]
    assert "None" not in cli("stage", "rf3").output  # today, no --as-of: no date in the first line
    assert cli("stage", "rf3").output.splitlines()[0] == "Rev. Stone (rf3, clergy): stage 3 · whole practice"


def test_suggest_names_the_referrer_it_resolved(cli, graph):
    assert cli("import", SMALL).exit_code == 0
    assert cli("suggest", "dr. hale", "--as-of", AS_OF).output.splitlines() == [
        "Suggestions for Dr. Hale (rf1, pediatrician; point person Ana Ruiz, stage 1 · point person):",
        "  (With these weights, what similar referrers trust weighs most: the default weights, not tuned on this "
        "practice yet (graphsvc evaluate --tune).)",
        "  1. Ben Okafor (cn2)  score 0.266",
        "       - has weekday evening openings, which 1 of its last 2 clients wanted",
        "       - 1 referrer similar to this one refers to Ben Okafor"]
    out = json.loads(cli("suggest", "rf1", "--as-of", AS_OF, "--json").output)
    assert ({k: v for k, v in out.items() if k not in ("suggestions", "weights")}) == {
        "referrer": "rf1", "referrer_name": "Dr. Hale", "point_person": "cn1", "point_person_name": "Ana Ruiz",
        "stage": 1}
    assert out["weights"] == {"fit": 0.3, "trust": 0.5, "track": 0.2, "decay": 0.85, "tuned": False,
                              "source": "the default weights, not tuned on this practice yet (graphsvc evaluate "
                                        "--tune)", "weighs_most": "with these weights, what similar referrers "
                                                                  "trust weighs most"}
    result = cli("suggest", "rf3", "--as-of", "2024-01-31")
    assert (result.exit_code, result.output) == (
        1, "Error: referrer 'rf3' had not started by 2024-01-31 (its relationship began on 2024-02-01)\n")


def test_evaluate_as_of_replays_only_the_history_up_to_that_day(cli, graph):
    assert cli("import", SMALL).exit_code == 0
    # cn3's introduction to rf1 (2023-04-01, then r2 on 2023-05-02) is the one case by mid-2023;
    # st1's to rf2 (2023-09-01, then r6 on 2024-05-01) comes later.
    assert cli("evaluate", "--as-of", "2023-06-01").output.splitlines()[0] == (
        "1 introduction followed by a referral (0 skipped: already referred to before the introduction)")
    assert json.loads(cli("evaluate", "--as-of", AS_OF, "--json").output)["cases"] == 2


def test_stage_lists_the_candidates_when_a_name_is_ambiguous_or_unknown(cli, graph):

    assert cli("import", SMALL).exit_code == 0
    service_of(graph).save("referrer", {"id": "rf9", "name": "Dr. Hale", "kind": "physician",
                                        "organization": "Hale Family Medicine", "point_person_id": "cn2",
                                        "since": "2024-01-02"}, by=someone())
    result = cli("stage", "dr. hale")
    assert (result.exit_code, result.output) == (1, (
        "Error: 2 referrers are named 'dr. hale'; give one of their ids:\n"
        "  rf1  Dr. Hale  Northside Pediatrics\n"
        "  rf9  Dr. Hale  Hale Family Medicine\n"))
    assert cli("stage", "rf9").exit_code == 0  # an id is never ambiguous
    result = cli("stage", "Dr. Hail")
    assert (result.exit_code, result.output) == (1, (
        "Error: unknown referrer 'Dr. Hail' (no referrer has that id or name); did you mean:\n"
        "  rf1  Dr. Hale  Northside Pediatrics\n"
        "  rf9  Dr. Hale  Hale Family Medicine\n"))
    assert cli("stage", "Zed").output == "Error: unknown referrer 'Zed'\n"
    assert cli("suggest", "Dr. Hail").output.startswith("Error: unknown referrer 'Dr. Hail'")


def test_stage_reads_one_referrer_and_agrees_with_the_whole_graph(cli, graph):
    from graphsvc.config import AnalysisOptions
    from graphsvc.live import build
    from graphsvc.store.projection import project

    assert cli("import", SMALL).exit_code == 0
    whole = build(graph, AnalysisOptions(as_of=date.fromisoformat(AS_OF)))
    for rid in ("rf1", "rf2", "rf3"):
        G = project(graph, referrers=[rid])
        assert [n for n, kind in G.nodes(data="kind") if kind == "referrer"] == [rid]
        assert sorted(G.edges(rid, keys=True, data=True), key=repr) == sorted(
            whole.G.edges(rid, keys=True, data=True), key=repr)
        assert G.nodes[rid] == whole.G.nodes[rid]
        shown = json.loads(cli("stage", rid, "--as-of", AS_OF, "--json").output)
        expected = json.loads(json.dumps(whole.referrer(rid), default=str))
        assert {k: v for k, v in shown.items() if k != "point_person_name"} == expected


def test_analysis_options_default_to_the_settings_and_write_back_stores_them(cli, graph):
    assert cli("import", SMALL).exit_code == 0
    with_option = cli("stage", "rf3", "--as-of", AS_OF, "--window", "2", "--json").output
    from_settings = cli("stage", "rf3", "--json",
                        env={"GRAPHSVC_ANALYSIS_AS_OF": AS_OF, "GRAPHSVC_ANALYSIS_WINDOW": "2"}).output
    assert with_option == from_settings
    for command in (["suggest", "rf1"], ["evaluate"],
                    ["match", "--needs", "adhd", "--population", "child", "--insurance", "medicaid"]):
        result = cli(*command, "--window", "3", "--stall-days", "30", "--lapse-days", "40", "--as-of", AS_OF)
        assert result.exit_code == 0, result.output
    assert json.loads(cli("evaluate", "--window", "3", "--json").output)["options"]["window"] == 3

    result = cli("analyze", "--window", "4", "--stall-days", "30", env={
        "GRAPHSVC_ANALYSIS_AS_OF": AS_OF, "GRAPHSVC_BATCH_SIZE": "1", "GRAPHSVC_IMPORT_WORKERS": "2"})
    assert result.exit_code == 0, result.output
    referrers = [n["props"] for n in graph.read("graph_snapshot", catalog=TEST_QUERIES)[0]["nodes"]
                 if "Referrer" in n["labels"]]
    assert len(referrers) == 3
    for props in referrers:
        assert (props["analysis_window"], props["analysis_stall_days"], props["analysis_lapse_days"],
                str(props["analysis_as_of"])) == (4, 30, 180, AS_OF)
        assert props["analysed_at"] is not None and "stage" in props

