"""The benchmarks' own Neo4j: started on a free port over a data folder, stopped after."""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from graphsvc.config import Settings
from graphsvc.localdb import LocalServer, discovery
from graphsvc.store.db import Graph
from tests.helpers import free_port


@dataclass
class BenchNeo4j:
    server: LocalServer
    graph: Graph
    env: dict  # for `python -m graphsvc ...` child processes


@contextmanager
def running_neo4j(data_dir: Path, heap: str, pagecache: str):
    settings = Settings.load(environ={k: v for k, v in os.environ.items() if k == "GRAPHSVC_CACHE_DIR"},
                             data_dir=data_dir, bolt_port=free_port(), heap_size=heap, pagecache_size=pagecache,
                             browser=False)
    server = LocalServer(settings)
    server.start(timeout=300, echo=lambda m: print(m, flush=True))
    graph = None
    try:
        password = discovery.password(settings)
        graph = Graph.connect(settings.with_(neo4j_uri=settings.uri, neo4j_password=password))
        yield BenchNeo4j(server, graph, {**os.environ, "NEO4J_URI": settings.uri, "NEO4J_PASSWORD": password})
    finally:
        try:
            if graph is not None:
                graph.close()
        finally:
            server.stop()  # even when closing the driver fails


@contextmanager
def small_practice(work: Path):
    """A benchmark's own Neo4j in ``work`` holding the small fixture practice; yields it and the settings of
    an app against it (its snapshots and log in ``work`` too)."""
    from graphsvc.store.schema import init_schema
    from tests.helpers import fixture_path, import_folder

    with running_neo4j(work / "neo4j", "512m", "64m") as neo4j:
        init_schema(neo4j.graph)
        import_folder(neo4j.graph, fixture_path("small"))
        yield neo4j, neo4j.graph.settings.with_(analysis_snapshot_dir=work / "snapshots",
                                                log_file=work / "graphsvc.log")
