"""The analysis cache against a Neo4j that goes away and comes back (forced rebuilds: tests/test_live.py)."""

from __future__ import annotations

import pytest

from graphsvc import live
from graphsvc.config import Settings
from graphsvc.errors import Neo4jUnavailable
from graphsvc.live import InsightsCache
from graphsvc.localdb import LocalServer
from graphsvc.store.db import Graph
from graphsvc.store.reads import changes_since
from tests.helpers import fixture_path, import_folder, own_server_environ


@pytest.mark.neo4j  # starts and stops a server of its own
@pytest.mark.slow
def test_the_last_analysis_is_served_while_neo4j_is_down_and_recovery_needs_no_restart(tmp_path, monkeypatch):
    settings = Settings.load(environ=own_server_environ(tmp_path))
    server = LocalServer(settings)
    server.start(timeout=180, echo=lambda m: None)
    try:
        graph = Graph.connect(settings, retry_seconds=1)
        import_folder(graph, fixture_path("small"))
        cache = InsightsCache(graph, graph.settings.analysis, check_seconds=0, retry_down_seconds=60)
        first = cache.get()
        assert (first.histories["rf3"]["stage"], cache.unreachable_since) == (3, None)

        server.stop()
        asked = []
        monkeypatch.setattr(live, "changes_since", lambda *a, **k: asked.append(a) or changes_since(*a, **k))
        assert cache.get() is first  # served, not an error
        assert cache.unreachable_since is not None
        for _ in range(20):  # asked again at most every retry_down_seconds: nobody waits
            assert cache.get() is first
        assert len(asked) == 1
        monkeypatch.undo()

        # A full rebuild asked for meanwhile fails in the background; the last analysis stays.
        assert cache.refresh() and cache.wait_for_rebuild(timeout=60)
        assert (cache.served, cache.full_builds, cache.rebuilding) == (first, 1, False)
        assert cache.update() == "unreachable"

        # With no analysis to fall back on, the error is the caller's.
        with pytest.raises(Neo4jUnavailable):
            InsightsCache(graph, graph.settings.analysis).get()

        server.start(timeout=180, echo=lambda m: None)
        cache.retry_down_seconds = 0
        again = cache.get()
        assert cache.unreachable_since is None
        assert again is first  # same graph version: nothing to rebuild
    finally:
        server.stop()
