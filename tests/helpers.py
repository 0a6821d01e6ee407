"""Helpers shared by the tests (import them from here, not from conftest)."""

from __future__ import annotations

import os
from pathlib import Path

from graphsvc.store.catalog import Catalog

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")

# Statements only the tests run (wiping the graph, a snapshot of everything).
TEST_QUERIES = Catalog(Path(__file__).parent / "queries")


def snapshot(graph) -> tuple:
    """Everything in the graph, in a canonical order (for 'nothing changed' checks)."""
    row = graph.read("graph_snapshot", catalog=TEST_QUERIES)[0]
    # The Practice node's change counter is bookkeeping for the analysis cache, not data.
    skip = {"version", "changed_at"}
    nodes = sorted(repr((sorted(n["labels"]), sorted((k, v) for k, v in n["props"].items() if k not in skip)))
                   for n in row["nodes"])
    rels = sorted(repr((r["type"], r["start"], r["end"], sorted(r["props"].items())))
                  for r in row["relationships"])
    return tuple(nodes), tuple(rels)


def fixture_path(name: str) -> str:
    return os.path.join(FIXTURES, name)
