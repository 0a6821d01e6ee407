"""Fixtures: a real Neo4j for the whole test session, and Flask's app and client.

The suite starts its own Neo4j Community server (the same one `graphsvc db
start` runs) on a free port with a fresh data folder, and stops it at the end.
It never touches another database unless told to: set GRAPHSVC_TEST_NEO4J_URI
(with GRAPHSVC_TEST_NEO4J_PASSWORD, and optionally _USER and _DATABASE) to run
against a server of your own, whose graph the tests will wipe.
"""

from __future__ import annotations

import os
import secrets

import pytest
from click.testing import CliRunner

from graphsvc.config import Settings
from graphsvc.store.db import Graph
from graphsvc.localdb import LocalServer
from graphsvc.store.schema import init_schema

from tests.helpers import TEST_QUERIES, free_port, small_graph as build_small_graph

# Fixtures that reach the test Neo4j: a test using any of them is marked
# ``neo4j``, so ``pytest -m "not neo4j"`` runs the pure tests without a server.
NEO4J_FIXTURES = {"neo4j_settings", "session_graph", "graph", "neo4j_env", "cli", "app", "client"}


@pytest.fixture(autouse=True)
def no_settings_file(monkeypatch, tmp_path):
    """graphsvc reads ./graphsvc.toml and logs to the user's log file; a
    developer's own settings (e.g. from `make run`) must not change the tests,
    nor the tests write to the developer's log."""
    monkeypatch.setenv("GRAPHSVC_CONFIG", os.devnull)
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
    yield graph
    graph.close()


@pytest.fixture
def graph(session_graph) -> Graph:
    """The test graph, emptied (schema kept) before each test."""
    session_graph.write("wipe_graph", catalog=TEST_QUERIES)
    init_schema(session_graph)
    return session_graph


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
def cli(neo4j_env):
    """Run the ``graphsvc`` CLI in-process against the test Neo4j."""
    from graphsvc.cli import main

    runner = CliRunner()

    def invoke(*args, env=None):
        return runner.invoke(main, list(args), env={**neo4j_env, **(env or {})}, catch_exceptions=False)

    return invoke


@pytest.fixture
def app(graph, neo4j_settings):
    from graphsvc.web import create_app

    # A fixed "today" keeps stalled, lapsed, trends and monthly counts reproducible.
    return create_app({"TESTING": True, "ANALYSIS_AS_OF": "2024-12-31"}, graph=graph, settings=neo4j_settings)


@pytest.fixture
def client(app):
    return app.test_client()


