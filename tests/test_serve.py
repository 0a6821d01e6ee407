"""``graphsvc serve``: gunicorn with several workers, each following the change feed; ``--dev`` for Flask's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from graphsvc.accounts import Accounts
from graphsvc.store.reads import changes_since
from tests.conftest import FAST_HASHER, PASSWORD
from tests.helpers import free_port, service_of, someone


def get(url: str, token: str | None = None) -> tuple[int, dict, dict]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            body = answer.read()
            return answer.status, dict(answer.headers), json.loads(body) if "json" in answer.headers.get(
                "Content-Type", "") else {}
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), {}


@pytest.mark.neo4j
@pytest.mark.slow  # a server of its own
def test_serve_runs_gunicorn_workers_that_each_follow_the_change_feed(small, neo4j_env, tmp_path):
    accounts_db = tmp_path / "private" / "accounts.sqlite3"
    accounts = Accounts(accounts_db, hasher=PasswordHasher(**FAST_HASHER))
    accounts.add_user("analyst", "analyst", PASSWORD)
    _, token = accounts.create_token("analyst", "tests")
    port = free_port()
    env = {**os.environ, **neo4j_env, "GRAPHSVC_CONFIG": os.devnull, "GRAPHSVC_DATA_DIR": str(tmp_path),
           "GRAPHSVC_ACCOUNTS_DB": str(accounts_db), "GRAPHSVC_SNAPSHOT_DIR": str(tmp_path / "snapshots"),
           "GRAPHSVC_LOG_FILE": str(tmp_path / "log")}
    server = subprocess.Popen([str(Path(sys.executable).parent / "graphsvc"), "serve", "--port", str(port)],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                status, headers, _ = get(f"{base}/login")
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    server.kill()
                    raise AssertionError(server.communicate()[1]) from None
                time.sleep(0.3)
        assert (status, headers["Server"]) == (200, "gunicorn")
        # Two workers (the default), each a process of its own with its own analysis: ask until each has built
        # one (a request lands on whichever worker accepts it first).
        versions: dict[int, int | None] = {}
        deadline = time.monotonic() + 60
        while not (len(versions) == 2 and None not in versions.values()) and time.monotonic() < deadline:
            assert get(f"{base}/api/referrers/rf1", token)[0] == 200
            answer = get(f"{base}/api/status", token)[2]
            versions[answer["pid"]] = answer["version"]
        assert len(versions) == 2 and None not in versions.values() and server.pid not in versions, versions

        # A write elsewhere (here the service, as the CLI or another worker would): each worker follows the
        # change feed and serves the new version within a few poll periods, without a request building it.
        service_of(small).save("referrer", {"id": "rf9", "name": "Dr. Ode", "kind": "physician",
                                            "point_person_id": "cn2", "since": "2024-01-02"}, by=someone())
        written = changes_since(small).version
        deadline = time.monotonic() + 30
        while min(versions.values()) < written and time.monotonic() < deadline:
            answer = get(f"{base}/api/status", token)[2]
            versions[answer["pid"]] = answer["version"]
        assert list(versions.values()) == [written, written]
        assert get(f"{base}/api/referrers/rf9", token)[2]["name"] == "Dr. Ode"
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=40)
    assert "development server" not in stderr.lower() and "WARNING" not in stderr
    assert f"Serving graphsvc on {base}/ with gunicorn, 2 worker(s) of 4 thread(s)" in stderr
