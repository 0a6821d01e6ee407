"""Settings from one place: the settings file, the environment, overrides; `graphsvc config`; logging.

No test here needs Neo4j.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from graphsvc.cli import main
from graphsvc.config import AnalysisOptions, Settings
from graphsvc.errors import GraphsvcError
from graphsvc.localdb.discovery import password
from tests.helpers import free_port

FILE = """\
[neo4j]
user = "analyst"

[local]
bolt_port = 7700
data_dir = "neo"

[import]
batch_size = 1000

[analysis]
window = 7
stall_days = 90
as_of = 2024-12-31

[log]
level = "warning"
"""


def settings_file(tmp_path: Path, text: str = FILE, name: str = "graphsvc.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def clean_env(**given) -> dict:
    """For CliRunner: every graphsvc variable removed (None), then ``given``."""
    env = {var: None for var in Settings.ENV}
    env["GRAPHSVC_CONFIG"] = None
    env.update(given)
    return env


# -- precedence ----------------------------------------------------------------


def test_default_then_file_then_environment_then_override(tmp_path):
    f = settings_file(tmp_path)
    s = Settings.load(environ={})
    assert (s.bolt_port, s.neo4j_user, s.analysis.window, s.analysis.stall_days, s.analysis.as_of,
            s.batch_size, s.log_level) == (7687, "neo4j", 5, 180, None, 5000, "INFO")
    assert s.config_file is None and s.source("bolt_port") == "default"

    s = Settings.load(environ={}, config_file=f)
    assert (s.bolt_port, s.neo4j_user, s.data_dir, s.analysis.window, s.analysis.stall_days,
            s.analysis.lapse_days, s.analysis.as_of, s.batch_size, s.log_level) == (
        7700, "analyst", tmp_path / "neo", 7, 90, 180, date(2024, 12, 31), 1000, "WARNING")
    assert s.config_file == f and s.source("analysis.window") == f"file {f}"
    assert s.source("analysis.lapse_days") == "default"

    env = {"GRAPHSVC_CONFIG": str(f), "GRAPHSVC_ANALYSIS_WINDOW": "9", "GRAPHSVC_BOLT_PORT": "7701",
           "GRAPHSVC_ANALYSIS_AS_OF": "today"}
    s = Settings.load(environ=env)
    assert (s.bolt_port, s.analysis.window, s.analysis.stall_days, s.analysis.as_of, s.neo4j_user) == (
        7701, 9, 90, None, "analyst")
    assert s.source("analysis.window") == "environment GRAPHSVC_ANALYSIS_WINDOW"
    assert s.source("analysis.stall_days") == f"file {f}"

    s = Settings.load(environ=env, analysis={"window": 11, "as_of": "2025-01-31"}, bolt_port=None)
    assert (s.bolt_port, s.analysis.window, s.analysis.as_of) == (7701, 11, date(2025, 1, 31))
    assert s.source("analysis.window") == "override" and s.source("bolt_port") == "environment GRAPHSVC_BOLT_PORT"
    assert s.with_(analysis={"window": 3}).source("analysis.window") == "override"


def test_analysis_options_come_from_the_settings(tmp_path):
    s = Settings.load(environ={"GRAPHSVC_CONFIG": str(settings_file(tmp_path)),
                               "GRAPHSVC_ANALYSIS_LAPSE_DAYS": "30"})
    assert s.analysis == AnalysisOptions(window=7, stall_days=90, lapse_days=30, as_of=date(2024, 12, 31))
    assert Settings.load(environ={}).analysis == AnalysisOptions()


def test_old_web_names_still_work_and_the_new_name_wins():
    old = {"GRAPHSVC_WEB_ANALYSIS_WINDOW": "4", "GRAPHSVC_WEB_ANALYSIS_STALL_DAYS": "20",
           "GRAPHSVC_WEB_ANALYSIS_LAPSE_DAYS": "21", "GRAPHSVC_WEB_ANALYSIS_AS_OF": "2024-06-30"}
    s = Settings.load(environ=old)
    assert s.analysis == AnalysisOptions(window=4, stall_days=20, lapse_days=21, as_of=date(2024, 6, 30))
    assert s.source("analysis.window") == "environment GRAPHSVC_WEB_ANALYSIS_WINDOW"
    s = Settings.load(environ={**old, "GRAPHSVC_ANALYSIS_WINDOW": "6"})
    assert (s.analysis.window, s.source("analysis.window")) == (6, "environment GRAPHSVC_ANALYSIS_WINDOW")


def test_the_working_directory_file_is_read_and_graphsvc_config_wins(tmp_path, monkeypatch):
    for var in [*Settings.ENV, "GRAPHSVC_CONFIG"]:
        monkeypatch.delenv(var, raising=False)
    here = tmp_path / "checkout"
    here.mkdir()
    settings_file(here, "[local]\nbolt_port = 7710\n")
    monkeypatch.chdir(here)
    s = Settings.load()
    assert (s.bolt_port, s.config_file) == (7710, here / "graphsvc.toml")
    other = settings_file(tmp_path, "[local]\nbolt_port = 7720\n", name="other.toml")
    monkeypatch.setenv("GRAPHSVC_CONFIG", str(other))
    assert Settings.load().bolt_port == 7720
    # An explicit environ (as the tests pass) never reads the working directory's file.
    assert Settings.load(environ={}).bolt_port == 7687


# -- a bad file ------------------------------------------------------------------


@pytest.mark.parametrize("text, message", [
    ("[analysis]\nwindw = 5\n", "unknown key 'windw' in [analysis] (known: window, stall_days, lapse_days, as_of, "
                                "snapshot_dir, follow_up_days, unseen_days)"),
    ("[local]\nbolt_port = \"7700\"\n", "[local] bolt_port must be a whole number, got string '7700'"),
    ("[analysis]\nwindow = 0\n", "[analysis] window must be at least 1, got 0"),
    ("[analysis]\nas_of = 2024-13-01\n", "not valid TOML"),
    ("[analysis]\nas_of = \"soon\"\n", "[analysis] as_of must be a date YYYY-MM-DD (or \"today\"), got 'soon'"),
    ("[log]\necho = \"yes\"\n", "[log] echo must be true or false, got string 'yes'"),
    ("[log]\nlevel = \"loud\"\n", "[log] level must be one of DEBUG, INFO, WARNING, ERROR, got 'loud'"),
    ("[neo4jj]\nuri = \"bolt://x\"\n", "unknown section 'neo4jj'"),
    ("window = 5\n", "unknown key 'window'"),
    ("[analysis\n", "not valid TOML"),
])
def test_a_bad_file_names_the_file_and_the_key(tmp_path, text, message):
    f = settings_file(tmp_path, text)
    with pytest.raises(GraphsvcError) as e:
        Settings.load(environ={"GRAPHSVC_CONFIG": str(f)})
    assert str(e.value).startswith(f"{f}: ") and message in str(e.value)


def test_a_bad_file_is_a_clear_cli_error(tmp_path):
    f = settings_file(tmp_path, "[analysis]\nwindw = 5\n")
    result = CliRunner().invoke(main, ["config", "show"], env=clean_env(GRAPHSVC_CONFIG=str(f)))
    assert (result.exit_code, result.output) == (
        1, f"Error: {f}: unknown key 'windw' in [analysis] (known: window, stall_days, lapse_days, as_of, "
           "snapshot_dir, follow_up_days, unseen_days)\n")
    missing = tmp_path / "nope.toml"
    result = CliRunner().invoke(main, ["config", "show"], env=clean_env(GRAPHSVC_CONFIG=str(missing)))
    assert (result.exit_code, result.output) == (1, f"Error: GRAPHSVC_CONFIG names {missing}, which is not a file\n")


def test_a_bad_environment_value_names_the_variable():
    with pytest.raises(GraphsvcError, match="GRAPHSVC_ANALYSIS_AS_OF must be a date YYYY-MM-DD"):
        Settings.load(environ={"GRAPHSVC_ANALYSIS_AS_OF": "31/12/2024"})
    with pytest.raises(GraphsvcError, match="GRAPHSVC_WEB_ANALYSIS_WINDOW must be at least 1, got 0"):
        Settings.load(environ={"GRAPHSVC_WEB_ANALYSIS_WINDOW": "0"})


# -- the password ---------------------------------------------------------------


def test_no_password_names_the_password_file_and_the_settings_file(tmp_path):
    f = settings_file(tmp_path, f'[local]\ndata_dir = "{tmp_path / "neo4j"}"\n')
    s = Settings.load(environ={"GRAPHSVC_CONFIG": str(f)})
    with pytest.raises(GraphsvcError) as e:
        password(s)
    message = str(e.value)
    assert f"there is no {tmp_path / 'neo4j' / 'graphsvc-password'} (data_dir from file {f})" in message
    assert f"Settings file: {f}." in message
    s = Settings.load(environ={})
    with pytest.raises(GraphsvcError, match=r"No settings file \(GRAPHSVC_CONFIG is unset\)"):
        password(s.with_(data_dir=tmp_path / "empty"))


# -- graphsvc config show / init ------------------------------------------------


def test_config_show_json_gives_each_value_and_its_source(tmp_path):
    f = settings_file(tmp_path)
    env = clean_env(GRAPHSVC_CONFIG=str(f), GRAPHSVC_ANALYSIS_WINDOW="9", NEO4J_PASSWORD="s3cret-pass",
                    GRAPHSVC_LOG_FILE=str(tmp_path / "log" / "graphsvc.log"))
    result = CliRunner().invoke(main, ["config", "show", "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert "s3cret-pass" not in result.output
    shown = json.loads(result.output)
    assert shown["file"] == str(f)
    rows = shown["settings"]
    assert rows["analysis.window"] == {"value": 9, "source": "environment GRAPHSVC_ANALYSIS_WINDOW",
                                       "env": "GRAPHSVC_ANALYSIS_WINDOW", "field": "analysis.window"}
    assert (rows["local.bolt_port"]["value"], rows["local.bolt_port"]["source"]) == (7700, f"file {f}")
    assert (rows["local.data_dir"]["value"], rows["local.data_dir"]["source"]) == (str(tmp_path / "neo"), f"file {f}")
    assert (rows["analysis.as_of"]["value"], rows["analysis.lapse_days"]["source"]) == ("2024-12-31", "default")
    assert (rows["neo4j.password"]["value"], rows["neo4j.password"]["source"]) == (
        "(hidden)", "environment NEO4J_PASSWORD")
    assert rows["web.page_size"] == {"value": 50, "source": "default", "env": "GRAPHSVC_WEB_PAGE_SIZE",
                                     "field": "web_page_size"}

    # The local server's generated password is shown as where it is, never its value.
    (tmp_path / "neo").mkdir()
    (tmp_path / "neo" / "graphsvc-password").write_text("generated-secret\n")
    env["NEO4J_PASSWORD"] = None
    result = CliRunner().invoke(main, ["config", "show"], env=env)
    assert result.exit_code == 0 and "generated-secret" not in result.output
    assert f"(generated, in {tmp_path / 'neo' / 'graphsvc-password'})" in result.output
    assert f"Settings file: {f}." in result.output.splitlines()[0]
    line = next(x for x in result.output.splitlines() if "analysis.window" in x)
    assert line.split() == ["analysis.window", "9", "environment", "GRAPHSVC_ANALYSIS_WINDOW"]


def test_config_init_writes_the_local_server_settings_and_keeps_a_users_edits(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "data"
    env = clean_env(GRAPHSVC_DATA_DIR=str(data), GRAPHSVC_BOLT_PORT="7801", NEO4J_PASSWORD="not-in-the-file",
                    GRAPHSVC_LOG_FILE=str(tmp_path / "graphsvc.log"))
    runner = CliRunner()
    result = runner.invoke(main, ["config", "init"], env=env)
    assert result.exit_code == 0, result.output
    f = tmp_path / "graphsvc.toml"
    assert f"Wrote {f}" in result.output
    assert "not-in-the-file" not in f.read_text()
    # A second shell in this folder, with no environment variables, gets the same server.
    s = Settings.load(environ={}, config_file=f)
    assert (s.data_dir, s.bolt_port, s.neo4j_password) == (data, 7801, None)

    result = runner.invoke(main, ["config", "init"], env=env)
    assert result.exit_code == 0 and "already gives these settings; left it as it is" in result.output

    edited = f.read_text().replace("bolt_port = 7801", "bolt_port = 7802")
    f.write_text(edited)
    result = runner.invoke(main, ["config", "init"], env=env)  # this shell says 7801, the file 7802
    assert result.exit_code == 0
    assert "exists and says otherwise; kept it" in result.output
    assert "local.bolt_port: 7802 in the file, 7801 here (environment GRAPHSVC_BOLT_PORT)" in result.output
    assert f.read_text() == edited

    result = runner.invoke(main, ["config", "init", "--force", "--json"], env=env)
    out = json.loads(result.output)
    assert (out["written"], out["backup"]) == (True, str(f) + ".bak")
    assert Path(out["backup"]).read_text() == edited
    assert Settings.load(environ={}, config_file=f).bolt_port == 7801


# -- logging ----------------------------------------------------------------------

EMIT_NEO4J_WARNING = """\
import logging, sys
import click
from graphsvc.cli import main

@main.command("emit-warning")
def emit_warning():
    logging.getLogger("neo4j").warning("Transaction failed and will be retried in 1.1s (test)")
    click.echo("done")

main(prog_name="graphsvc")
"""


def run_graphsvc(args, env, code=None):
    base = {k: v for k, v in os.environ.items() if k not in Settings.ENV and k != "GRAPHSVC_CONFIG"}
    command = [sys.executable, "-c", code, *args] if code else [sys.executable, "-m", "graphsvc", *args]
    return subprocess.run(command, env={**base, **env}, capture_output=True, text=True, timeout=60)


def test_neo4j_driver_warnings_go_to_the_log_file_not_the_terminal(tmp_path):
    log = tmp_path / "state" / "graphsvc.log"
    env = {"GRAPHSVC_CONFIG": os.devnull, "GRAPHSVC_LOG_FILE": str(log)}
    proc = run_graphsvc(["emit-warning"], env, code=EMIT_NEO4J_WARNING)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "done\n", "")
    assert "WARNING neo4j: Transaction failed and will be retried in 1.1s (test)" in log.read_text()

    # -v also echoes the log on stderr.
    proc = run_graphsvc(["-v", "emit-warning"], env, code=EMIT_NEO4J_WARNING)
    assert "Transaction failed and will be retried" in proc.stderr

    # The real driver: a neo4j:// URI nobody answers logs an error on a "neo4j" logger.
    uri = f"neo4j://127.0.0.1:{free_port()}"
    proc = run_graphsvc(["db", "init"], {**env, "NEO4J_URI": uri, "NEO4J_PASSWORD": "x"})
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        f"Error: Cannot reach Neo4j at {uri} (Unable to retrieve routing information); "
        "check NEO4J_URI and that the server is running"]
    text = log.read_text()
    assert "ERROR neo4j.pool: Unable to retrieve routing information" in text
    assert f"ERROR graphsvc.cli: graphsvc db init: Cannot reach Neo4j at {uri}" in text


def test_an_unwritable_log_file_falls_back_to_stderr(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    env = {"GRAPHSVC_CONFIG": os.devnull, "GRAPHSVC_LOG_FILE": str(blocker / "graphsvc.log")}
    proc = run_graphsvc(["emit-warning"], env, code=EMIT_NEO4J_WARNING)
    assert proc.returncode == 0
    assert proc.stderr.startswith(f"graphsvc: cannot write the log file {blocker / 'graphsvc.log'}")
    assert "Transaction failed and will be retried" in proc.stderr


def test_the_fhir_settings_are_read_and_the_client_id_key_is_never_shown(tmp_path):
    settings = Settings.load({"GRAPHSVC_PRACTICE_NPI": "1234567893", "GRAPHSVC_CLIENT_ID_KEY": "s3cret-key",
                              "GRAPHSVC_FHIR_ROLE_KINDS": "kinds.csv", "GRAPHSVC_DATA_DIR": str(tmp_path)})
    assert (settings.practice_npi, settings.fhir_client_id_key, settings.fhir_role_kinds) == (
        "1234567893", "s3cret-key", "kinds.csv")
    shown = settings.explain()
    assert shown["fhir.client_id_key"]["value"] == "(hidden)"
    assert "s3cret-key" not in repr(shown)
    generated = Settings.load({"GRAPHSVC_DATA_DIR": str(tmp_path)})
    assert generated.explain()["fhir.client_id_key"]["value"] == (
        f"(not generated yet: the first FHIR import writes {tmp_path / 'graphsvc-client-id-key'})")
