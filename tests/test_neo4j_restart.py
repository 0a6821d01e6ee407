"""Writes while Neo4j restarts: each answers at once, a 201 or a clear 503, never a long wait.

An attacker's probe found writes waiting 12.6-15.6 s while the server
restarted. The web's driver now has short connection and acquisition
timeouts and a short retry budget (``graphsvc.web.http``), so a write that
cannot reach Neo4j is a 503 saying so within ``WEB_WRITE_DEADLINE`` seconds.
"""

from __future__ import annotations

import threading
import time
from datetime import date, timedelta

import pytest
from argon2 import PasswordHasher

from graphsvc.accounts import Accounts
from graphsvc.config import Settings
from graphsvc.localdb import LocalServer
from graphsvc.store.db import Graph
from graphsvc.web import create_app
from graphsvc.web.http import WEB_WAIT_SECONDS
from tests.conftest import FAST_HASHER, PASSWORD, USERS
from tests.helpers import TEST_QUERIES, fixture_path, import_folder, own_server_environ

# The promise is an answer within 3 s: the web starts no statement 1 s after a write began, and cuts off one a
# starting server holds 0.8 s past that (graphsvc.web.http, store.db._Watchdog); 1.84 s at most, measured in
# docs/performance.md. Here the bound has 2 s of room for a loaded test machine (two Neo4j servers, the
# suite) and still fails the 12-26 s waits this test was written for.
WITHIN_SECONDS = 3.0 + 2.0
FIRST_DAY = date(2024, 9, 1)  # one contact a day: the same contact twice would be refused


@pytest.fixture
def own_server(tmp_path):
    settings = Settings.load(environ=own_server_environ(tmp_path))
    server = LocalServer(settings)
    server.start(timeout=180, echo=lambda m: None)
    try:
        yield server, settings
    finally:
        server.stop()


@pytest.mark.neo4j  # starts, stops and starts a server of its own
@pytest.mark.slow
def test_writes_while_neo4j_restarts_answer_201_or_a_clear_503_at_once(own_server, tmp_path):
    server, settings = own_server
    import_folder(Graph.connect(settings), fixture_path("small"))
    accounts = Accounts(tmp_path / "accounts.sqlite3", hasher=PasswordHasher(**FAST_HASHER))
    accounts.add_user("manager", *USERS["manager"][:1], PASSWORD)
    _, token = accounts.create_token("manager", "tests")
    app = create_app({"TESTING": True, "SECRET_KEY": "k" * 32}, settings=settings, accounts=accounts)
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"

    answers: list[tuple[int, float, str]] = []
    timeline: list = []
    t0 = time.monotonic()
    stop = threading.Event()

    def write(n: int):
        started = time.monotonic()
        answer = client.post("/api/contacts", json={"id": f"ct-r{n}", "date": str(FIRST_DAY + timedelta(n)),
                                                     "referrer_id": "rf3", "member_id": "cn1", "kind": "talk"})
        answers.append((answer.status_code, time.monotonic() - started, answer.get_data(as_text=True)))
        timeline.append((round(started - t0, 2), answer.status_code, round(answers[-1][1], 2)))

    def writer():
        n = 0
        while not stop.is_set():
            n += 1
            write(n)
            time.sleep(0.2)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        time.sleep(1)
        server.stop()
        timeline.append(("stopped", round(time.monotonic() - t0, 2)))
        time.sleep(3)
        server.start(timeout=180, echo=lambda m: None)
        timeline.append(("started", round(time.monotonic() - t0, 2)))
        back = len(answers)
        while not any(status == 201 for status, _, _ in answers[back:]) and time.monotonic() - t0 < 240:
            time.sleep(0.5)  # the first writes after a start plan their statements afresh
    finally:
        stop.set()
        thread.join()
    statuses = [status for status, _, _ in answers]
    assert set(statuses) <= {201, 503}, [a for a in answers if a[0] not in (201, 503)][:3]
    assert 503 in statuses and 201 in statuses[statuses.index(503):], timeline  # down a while, then writing again
    for status, seconds, body in answers:
        if status == 503:
            assert seconds < WITHIN_SECONDS, (seconds, body, timeline)
            late = f'{{"error":"Neo4j at {settings.uri} did not answer within {WEB_WAIT_SECONDS:g} s'
            assert body.startswith((late, f'{{"error":"Cannot reach Neo4j at {settings.uri}')), body
    # Nothing lost, nothing half-written: exactly the writes answered 201 are stored.
    stored = {row["id"] for row in Graph.connect(settings).read("export_contacts")}
    assert {f"ct-r{n + 1}" for n, status in enumerate(statuses) if status == 201} == {
        i for i in stored if i.startswith("ct-r")}


@pytest.mark.neo4j
def test_a_statement_unanswered_past_the_bound_is_cut_off_and_its_transaction_commits_nothing(graph,
                                                                                               neo4j_settings):
    """The watchdog shuts a bounded write's connection 0.8 s past its bound while a statement runs: the caller
    hears at once, and what the transaction had written is rolled back by the server."""
    from graphsvc.errors import Neo4jUnavailable

    bounded = Graph.connect(neo4j_settings, retry_seconds=1, wait_seconds=0.2)
    try:
        def work(tx):
            tx.run("CREATE (:WatchdogProbe {n: 1})").consume()
            # One statement that takes seconds on any machine: a count over 200 million generated rows.
            tx.run("UNWIND range(1, 200000000) AS n WITH n WHERE n < 0 RETURN count(n) AS none").consume()

        started = time.monotonic()
        with pytest.raises(Neo4jUnavailable) as refused:
            bounded.write_tx(work)
        took = time.monotonic() - started
        assert str(refused.value).startswith(f"Neo4j at {neo4j_settings.uri} did not answer within 0.2 s")
        assert took < WITHIN_SECONDS, took
        left = graph.read("graph_snapshot", catalog=TEST_QUERIES)
        assert "WatchdogProbe" not in str(left)
        assert bounded.write_tx(lambda tx: tx.run("RETURN 1 AS one").single()["one"]) == 1  # the graph goes on
    finally:
        bounded.close()
