"""The local Neo4j server graphsvc manages: start, status, stop, restart keeps data."""

from __future__ import annotations

import os
import socket
import threading
import time

import pytest
from click.testing import CliRunner

from graphsvc.cli import main
from graphsvc.config import Settings
from graphsvc.errors import GraphsvcError
from graphsvc.localdb import LocalServer
from graphsvc.localdb.discovery import password
from graphsvc.store.db import Graph
from tests.helpers import free_port

# Each test starts and stops a Neo4j server of its own.
pytestmark = pytest.mark.slow


def local_env(tmp_path, port) -> dict:
    env = {"GRAPHSVC_DATA_DIR": str(tmp_path / "neo4j"), "GRAPHSVC_BOLT_PORT": str(port),
           "GRAPHSVC_NEO4J_HEAP": "512m", "GRAPHSVC_NEO4J_PAGECACHE": "64m",
           "NEO4J_URI": "", "NEO4J_PASSWORD": "",
           # Not the developer's ./graphsvc.toml, nor their log file.
           "GRAPHSVC_CONFIG": os.devnull, "GRAPHSVC_LOG_FILE": str(tmp_path / "graphsvc.log"),
           "GRAPHSVC_BROWSER": "false"}
    if os.environ.get("GRAPHSVC_CACHE_DIR"):
        env["GRAPHSVC_CACHE_DIR"] = os.environ["GRAPHSVC_CACHE_DIR"]
    return env


class CommandLines:
    """Every process's command line seen in /proc while it runs (polled every few ms in a thread)."""

    def __init__(self):
        self.seen: set[bytes] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self):
        while not self._stop.is_set():
            for entry in os.listdir("/proc"):
                if entry.isdigit():
                    try:
                        with open(f"/proc/{entry}/cmdline", "rb") as f:
                            self.seen.add(f.read())
                    except OSError:
                        pass
            time.sleep(0.005)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


@pytest.mark.neo4j  # starts a server of its own
def test_start_status_stop_and_data_survives_a_restart(tmp_path):
    env = local_env(tmp_path, free_port())
    # A password may begin with "-" (a generated one does, one time in 64): the
    # admin tool must not take it for an option.
    password_file = Settings.load(environ=env).password_file
    password_file.parent.mkdir(mode=0o755)
    os.chmod(password_file.parent, 0o755)  # looser than it should be: start tightens it
    password_file.touch(mode=0o600)
    password_file.write_text("-starts-with-a-dash\n")
    runner = CliRunner()
    assert runner.invoke(main, ["db", "status"], env=env).exit_code == 3  # not running yet
    data_dir = tmp_path / "neo4j"
    try:
        # --new: the suite's own Neo4j may be running, and this one is meant to be a second, empty one.
        with CommandLines() as commands:
            started = runner.invoke(main, ["db", "start", "--new", "--json"], env=env)
        assert started.exit_code == 0, started.output
        assert data_dir.stat().st_mode & 0o777 == 0o700
        settings = Settings.load(environ=env)
        # The initial password never was on a command line (the admin tool read it from an @file, now gone).
        secret = password(settings).encode()
        admin = [c for c in commands.seen if b"org.neo4j.cli.AdminTool" in c and bytes(data_dir) in c]
        assert len(admin) == 1 and b"\0@" + bytes(data_dir / ".graphsvc-admin-") in admin[0], admin
        assert not [c for c in commands.seen if secret in c]
        assert not list(data_dir.glob(".graphsvc-admin-*"))
        status = runner.invoke(main, ["db", "status", "--json"], env=env)
        assert status.exit_code == 0 and '"running": true' in status.output
        graph = Graph.connect(settings)
        graph.write("upsert_staff", rows=[{"id": "st1", "name": "Dee", "role": "other"}], practice_id="practice")
        graph.close()
        assert runner.invoke(main, ["db", "stop"], env=env).output == "Neo4j stopped.\n"
        assert runner.invoke(main, ["db", "status"], env=env).exit_code == 3
        assert runner.invoke(main, ["db", "start"], env=env).exit_code == 0
        graph = Graph.connect(settings)
        assert graph.read("export_staff") == [{"id": "st1", "name": "Dee", "role": "other", "npi": None}]
        graph.close()
    finally:
        runner.invoke(main, ["db", "stop"], env=env)
    assert (tmp_path / "neo4j" / "graphsvc-password").stat().st_mode & 0o777 == 0o600


def test_a_busy_port_is_a_clear_error(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        server = LocalServer(Settings.load(environ=local_env(tmp_path, port)))
        with pytest.raises(GraphsvcError, match=f"Port {port} on 127.0.0.1 is already in use"):
            server.start()


def test_an_external_uri_is_never_managed():
    with pytest.raises(GraphsvcError, match="NEO4J_URI is set"):
        LocalServer(Settings.load(environ={"NEO4J_URI": "bolt://example:7687"}))


def local_session_server(neo4j_settings) -> Settings:
    """The suite's own Neo4j, if this run started it (not one given by GRAPHSVC_TEST_NEO4J_URI)."""
    if not (neo4j_settings.data_dir / "data" / "dbms").exists():
        pytest.skip("the test Neo4j is an external server")
    return neo4j_settings


def test_start_never_creates_a_second_empty_database_by_accident(tmp_path, neo4j_settings):
    running = local_session_server(neo4j_settings)
    env = local_env(tmp_path, free_port())
    result = CliRunner().invoke(main, ["db", "start"], env=env)
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: There is no database in {tmp_path / 'neo4j'} "
                                    "(data_dir from environment GRAPHSVC_DATA_DIR).\n")
    assert "A graphsvc Neo4j is running (pid " in result.output
    assert f"with its data in {running.data_dir}, Bolt port {running.bolt_port}" in result.output
    assert "graphsvc db start --new" in result.output
    assert not (tmp_path / "neo4j").exists()


def test_no_password_points_at_the_running_server(tmp_path, neo4j_settings):
    running = local_session_server(neo4j_settings)
    settings = Settings.load(environ={}, data_dir=tmp_path / "elsewhere")
    with pytest.raises(GraphsvcError) as e:
        password(settings)
    message = str(e.value)
    assert message.startswith(f"No Neo4j password for bolt://127.0.0.1:7687: NEO4J_PASSWORD is not set and "
                              f"there is no {tmp_path / 'elsewhere' / 'graphsvc-password'} (data_dir from override).")
    assert f"with its data in {running.data_dir}, Bolt port {running.bolt_port}" in message
    assert "`graphsvc db start` here would start a second, empty database" in message

