"""Fixtures: a real Neo4j for the whole test session, and Flask's app and client.

The app signs in against ``web_accounts``, an accounts database of the test's
own with one user per role (``USERS``, password ``PASSWORD``, cheap argon2
parameters). ``client`` is signed in as the manager, ``client_as(role)`` as
any role, ``anon`` is nobody; ``sign_in(app, role)`` signs a new client of
any app in through its login form.

The suite starts its own Neo4j Community server (the same one `graphsvc db
start` runs) on a free port with a fresh data folder, and stops it at the end.
It never touches another database unless told to: set GRAPHSVC_TEST_NEO4J_URI
(with GRAPHSVC_TEST_NEO4J_PASSWORD, and optionally _USER and _DATABASE) to run
against a server of your own, whose graph the tests will wipe.
"""

from __future__ import annotations

import os
import re
import secrets
from datetime import date

import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner

from graphsvc.config import Settings
from graphsvc.localdb import LocalServer
from graphsvc.store.db import Graph
from graphsvc.store.schema import init_schema
from tests.helpers import TEST_QUERIES, fixture_path, free_port, import_folder
from tests.helpers import small_graph as build_small_graph

# Fixtures that reach the test Neo4j: a test using any of them is marked
# ``neo4j``, so ``pytest -m "not neo4j"`` runs the pure tests without a server.
NEO4J_FIXTURES = {"neo4j_settings", "session_graph", "graph", "small", "neo4j_env", "cli", "app", "client"}

# One account per role; the clinician is cn1 of the small fixture (Dr. Ana Ruiz).
PASSWORD = "correct horse battery"
USERS = {"manager": ("manager", None), "intake": ("intake", None), "clinician": ("clinician", "cn1"),
         "analyst": ("analyst", None)}
# Cheap argon2 parameters: the tests sign in hundreds of times.
FAST_HASHER = dict(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture(autouse=True)
def no_settings_file(monkeypatch, tmp_path):
    """graphsvc reads ./graphsvc.toml and logs to the user's log file; a
    developer's own settings (e.g. from `make run`) must not change the tests,
    nor the tests write to the developer's log."""
    monkeypatch.setenv("GRAPHSVC_CONFIG", os.devnull)
    # No Neo4j Browser (an HTTP connector on port 7474) for the servers tests start, unless a test asks.
    monkeypatch.setenv("GRAPHSVC_BROWSER", "false")
    monkeypatch.setenv("GRAPHSVC_LOG_FILE", str(tmp_path / "graphsvc.log"))


@pytest.fixture
def small_graph():
    """The small fixture practice as a NetworkX graph, no database (``tests.helpers.small_graph``)."""
    return build_small_graph()


def pytest_collection_modifyitems(config, items):
    for item in items:
        if NEO4J_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.neo4j)


@pytest.fixture(scope="session")
def neo4j_settings(tmp_path_factory) -> Settings:
    """Settings that reach the test Neo4j as an external server (NEO4J_URI)."""
    told = os.environ.get("GRAPHSVC_TEST_NEO4J_URI")
    if told:
        yield Settings.load(
            environ={},
            neo4j_uri=told,
            neo4j_user=os.environ.get("GRAPHSVC_TEST_NEO4J_USER", "neo4j"),
            neo4j_password=os.environ["GRAPHSVC_TEST_NEO4J_PASSWORD"],
            neo4j_database=os.environ.get("GRAPHSVC_TEST_NEO4J_DATABASE", "neo4j"),
        )
        return
    local = Settings.load(
        environ={k: v for k, v in os.environ.items() if k == "GRAPHSVC_CACHE_DIR"},
        data_dir=tmp_path_factory.mktemp("neo4j"),
        bolt_port=free_port(),
        neo4j_password=secrets.token_urlsafe(12),
        heap_size="512m",
        pagecache_size="128m",
        browser=False,
        analysis_snapshot_dir=tmp_path_factory.mktemp("snapshots"),
    )
    server = LocalServer(local)
    server.start(timeout=180, echo=lambda m: None)
    try:
        yield local.with_(neo4j_uri=local.uri)
    finally:
        server.stop()


@pytest.fixture(scope="session")
def session_graph(neo4j_settings) -> Graph:
    graph = Graph.connect(neo4j_settings)
    init_schema(graph)
    yield graph
    graph.close()


@pytest.fixture
def graph(session_graph) -> Graph:
    """The test graph, emptied before each test: its constraints and indexes stay, the Practice node is
    made again as the schema makes it."""
    session_graph.write("wipe_graph", catalog=TEST_QUERIES)
    session_graph.write("practice_node", catalog=TEST_QUERIES)
    return session_graph


@pytest.fixture
def small(graph) -> Graph:
    """The test graph holding the small fixture practice (``tests/fixtures/small``), imported as
    ``graphsvc import`` would (``tests.helpers.small_graph`` is the same practice without a database)."""
    import_folder(graph, fixture_path("small"))
    return graph


# The day the web's analysis judges on in the tests: stalled, lapsed, trends and monthly counts stay put.
AS_OF = date(2024, 12, 31)


@pytest.fixture
def neo4j_env(neo4j_settings) -> dict:
    """Environment variables that point the CLI at the test Neo4j."""
    return {
        "NEO4J_URI": neo4j_settings.uri,
        "NEO4J_USER": neo4j_settings.neo4j_user,
        "NEO4J_PASSWORD": neo4j_settings.neo4j_password,
        "NEO4J_DATABASE": neo4j_settings.neo4j_database,
    }


@pytest.fixture
def cli(neo4j_env, tmp_path):
    """Run the ``graphsvc`` CLI in-process against the test Neo4j.

    Its accounts database (where imports and exports are audited) is the test's own
    ``cli-accounts.sqlite3`` unless the test sets ``GRAPHSVC_ACCOUNTS_DB``, and its data folder (where the
    keys graphsvc generates live: the client-id key of a FHIR import, ...) the test's own ``cli-data``
    unless it sets ``GRAPHSVC_DATA_DIR``: never the developer's.
    """
    from graphsvc.cli import main

    runner = CliRunner()
    own = str(tmp_path / "cli-private" / "cli-accounts.sqlite3")
    own_data = str(tmp_path / "cli-data")

    def invoke(*args, env=None):
        accounts_db = {} if os.environ.get("GRAPHSVC_ACCOUNTS_DB") else {"GRAPHSVC_ACCOUNTS_DB": own}
        data_dir = {} if os.environ.get("GRAPHSVC_DATA_DIR") else {"GRAPHSVC_DATA_DIR": own_data}
        return runner.invoke(main, list(args), env={**neo4j_env, **data_dir, **accounts_db, **(env or {})},
                             catch_exceptions=False)

    return invoke


@pytest.fixture
def web_accounts(tmp_path):
    """An accounts database in the test's own folder, one user per role (``USERS``), password ``PASSWORD``."""
    from graphsvc.accounts import Accounts

    accounts = Accounts(tmp_path / "private" / "accounts.sqlite3", hasher=PasswordHasher(**FAST_HASHER))
    for name, (role, clinician_id) in USERS.items():
        accounts.add_user(name, role, PASSWORD, clinician_id)
    return accounts


@pytest.fixture
def app(graph, neo4j_settings, web_accounts):
    from graphsvc.web import create_app

    # A fixed "today" keeps stalled, lapsed, trends and monthly counts reproducible.
    return create_app({"TESTING": True, "SECRET_KEY": secrets.token_hex(16)}, graph=graph,
                      settings=neo4j_settings.with_(analysis={"as_of": AS_OF}), accounts=web_accounts)


def csrf_token_of(html: str) -> str:
    """The CSRF token of the (first) form in a page."""
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def sign_in_client(app, username: str, password: str = PASSWORD, **client_kwargs):
    """A new test client of ``app``, signed in through the login form as ``username``."""
    client = app.test_client(**client_kwargs)
    token = csrf_token_of(client.get("/login").get_data(as_text=True))
    answer = client.post("/login", data={"username": username, "password": password, "csrf_token": token})
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return client


@pytest.fixture
def sign_in():
    """``sign_in(app, role_or_username, password=PASSWORD)``: a new client of ``app``, signed in."""
    return sign_in_client


@pytest.fixture
def client(app):
    """A client signed in as the manager."""
    return sign_in_client(app, "manager")


@pytest.fixture
def client_as(app):
    """``client_as(role)``: a client signed in as that role's user (``USERS``)."""
    return lambda role: sign_in_client(app, role)


@pytest.fixture
def as_role(app, web_accounts):
    """``as_role(role)``: a test client whose every request carries that role's API token (the API's writes
    take the token only)."""
    def make(role: str):
        _, token = web_accounts.create_token(role, "tests")
        client = app.test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        return client

    return make


@pytest.fixture
def anon(app):
    """A client that has not signed in."""
    return app.test_client()


