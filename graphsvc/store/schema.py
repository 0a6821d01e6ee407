"""Constraints and indexes (``queries/schema.cypher``), created idempotently."""

from __future__ import annotations

from .db import Graph

_ready: set[tuple[str, str]] = set()


def init_schema(graph: Graph) -> None:
    """Create every constraint and index that is missing, and the Practice node."""
    graph.run_script("schema")
    _ready.add((graph.settings.uri, graph.database))


def ensure_schema(graph: Graph) -> None:
    """``init_schema`` once per process and database."""
    if (graph.settings.uri, graph.database) not in _ready:
        init_schema(graph)
