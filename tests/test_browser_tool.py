"""Neo4j Browser, served by the local Neo4j (issue 10 §4): its two settings, and a real server serving it.

The suite turns the browser off for its own servers (``GRAPHSVC_BROWSER=false``
in tests/conftest.py, ``browser=False`` for the session server); the one test
here that asks for it starts a server of its own on free ports.
"""

from __future__ import annotations

import json
import os
import socket
import urllib.error
import urllib.request

import pytest
from click.testing import CliRunner

from graphsvc.cli import main
from graphsvc.config import Settings
from graphsvc.errors import GraphsvcError
from graphsvc.localdb import LocalServer
from tests.helpers import free_port

# It starts a Neo4j server with Neo4j Browser of its own.
pytestmark = pytest.mark.slow

# -- the settings ---------------------------------------------------------------


def test_browser_settings_defaults_environment_file_and_bad_values(tmp_path):
    s = Settings.load(environ={})
    assert (s.browser, s.http_port, s.source("browser")) == (True, 7474, "default")
    assert s.explain()["local.browser"]["env"] == "GRAPHSVC_BROWSER"

    s = Settings.load(environ={"GRAPHSVC_BROWSER": "off", "GRAPHSVC_HTTP_PORT": "8474"})
    assert (s.browser, s.http_port, s.source("http_port")) == (False, 8474, "environment GRAPHSVC_HTTP_PORT")
    assert Settings.load(environ={"GRAPHSVC_BROWSER": "yes"}).browser is True
    f = tmp_path / "graphsvc.toml"
    f.write_text("[local]\nbrowser = false\nhttp_port = 7575\n")
    s = Settings.load(environ={"GRAPHSVC_CONFIG": str(f)})
    assert (s.browser, s.http_port, s.source("browser")) == (False, 7575, f"file {f}")
    assert Settings.load(environ={"GRAPHSVC_CONFIG": str(f)}, browser=True).browser is True

    for environ, message in [
        ({"GRAPHSVC_BROWSER": "maybe"}, "GRAPHSVC_BROWSER must be true or false, got 'maybe'"),
        ({"GRAPHSVC_HTTP_PORT": "http"}, "GRAPHSVC_HTTP_PORT must be a whole number, got 'http'"),
        ({"GRAPHSVC_HTTP_PORT": "0"}, "GRAPHSVC_HTTP_PORT must be at least 1, got 0"),
        ({"GRAPHSVC_HTTP_PORT": "70000"}, "GRAPHSVC_HTTP_PORT must be at most 65535, got 70000"),
    ]:
        with pytest.raises(GraphsvcError, match=message):
            Settings.load(environ=environ)
    f.write_text('[local]\nbrowser = "yes"\n')
    with pytest.raises(GraphsvcError, match=r"\[local\] browser must be true or false, got string 'yes'"):
        Settings.load(environ={"GRAPHSVC_CONFIG": str(f)})


def test_without_the_browser_there_is_no_http_connector_and_a_busy_http_port_is_a_clear_error(tmp_path):
    settings = Settings.load(environ={}, data_dir=tmp_path / "neo4j", bolt_port=free_port(), browser=False)
    server = LocalServer(settings)
    server.conf_dir.mkdir(parents=True)
    server._write_conf()
    conf = (server.conf_dir / "neo4j.conf").read_text().splitlines()
    assert "server.http.enabled=false" in conf and not [c for c in conf if c.startswith("server.http.listen")]

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        server = LocalServer(settings.with_(browser=True, http_port=port))
        with pytest.raises(GraphsvcError, match=f"Port {port} on 127.0.0.1 \\(Neo4j Browser\\) is already in use"):
            server.start()
    with pytest.raises(GraphsvcError, match="HTTP port must be another one"):
        LocalServer(settings.with_(browser=True, http_port=settings.bolt_port)).start()


# -- a real server --------------------------------------------------------------


def listening_addresses(port: int) -> set[str]:
    """The local addresses of the sockets listening on TCP ``port`` (from /proc/net/tcp and tcp6)."""
    found = set()
    for name in ("tcp", "tcp6"):
        try:
            with open(f"/proc/net/{name}") as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            local, state = row.split()[1], row.split()[3]
            address, hex_port = local.rsplit(":", 1)
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                raw = bytes.fromhex(address)
                # /proc prints each 32-bit word in host (little-endian) order.
                raw = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
                found.add(socket.inet_ntop(socket.AF_INET if len(raw) == 4 else socket.AF_INET6, raw))
    return found


def get(url: str):
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, answer.headers.get("Content-Type", ""), answer.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, "", ""


@pytest.mark.neo4j  # starts a server of its own
def test_the_local_server_serves_neo4j_browser_on_127_0_0_1_only(tmp_path):
    bolt_port, http_port = free_port(), free_port()
    env = {"GRAPHSVC_DATA_DIR": str(tmp_path / "neo4j"), "GRAPHSVC_BOLT_PORT": str(bolt_port),
           "GRAPHSVC_BROWSER": "true", "GRAPHSVC_HTTP_PORT": str(http_port),
           "GRAPHSVC_NEO4J_HEAP": "512m", "GRAPHSVC_NEO4J_PAGECACHE": "64m",
           "NEO4J_URI": "", "NEO4J_PASSWORD": "",
           "GRAPHSVC_CONFIG": os.devnull, "GRAPHSVC_LOG_FILE": str(tmp_path / "graphsvc.log")}
    if os.environ.get("GRAPHSVC_CACHE_DIR"):
        env["GRAPHSVC_CACHE_DIR"] = os.environ["GRAPHSVC_CACHE_DIR"]
    runner = CliRunner()
    url = f"http://127.0.0.1:{http_port}/browser/"
    password_file = tmp_path / "neo4j" / "graphsvc-password"
    try:
        # --new: the suite's own Neo4j may be running; this one is meant to be a second, empty one.
        started = runner.invoke(main, ["db", "start", "--new"], env=env)
        assert started.exit_code == 0, started.output
        assert f"Neo4j Browser: {url} (user neo4j, password in {password_file})" in started.stdout

        status, kind, page = get(url)
        assert (status, kind.split(";")[0]) == (200, "text/html")
        assert "<title>Neo4j Browser</title>" in page
        # Browser finds Bolt through the discovery document: our port, not Neo4j's default.
        status, _, discovery = get(f"http://127.0.0.1:{http_port}/")
        assert status == 200 and json.loads(discovery)["bolt_direct"] == f"bolt://127.0.0.1:{bolt_port}"
        # Only the browser module: no Cypher over HTTP.
        assert get(f"http://127.0.0.1:{http_port}/db/neo4j/tx")[0] == 404
        assert listening_addresses(http_port) in ({"127.0.0.1"}, {"::ffff:127.0.0.1"})

        shown = runner.invoke(main, ["db", "status", "--json"], env=env)
        assert shown.exit_code == 0 and json.loads(shown.stdout)["browser_url"] == url
    finally:
        runner.invoke(main, ["db", "stop"], env=env)
