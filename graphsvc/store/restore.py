"""Emptying the graph for ``graphsvc restore --force``: every node but the Practice node, in batches.

Each batch is its own transaction (a graph of millions of nodes would not
fit in one), so a wipe cut short leaves part of the graph: run the restore
again. The change counter is bumped as a bulk change before and after, so
every live analysis rebuilds.
"""

from __future__ import annotations

from ..vocabulary import PRACTICE_ID
from .db import Graph

WIPE_BATCH = 10_000


def wipe_graph(db: Graph, batch: int = WIPE_BATCH) -> int:
    """Delete every node except the Practice node, and their relationships; how many nodes were deleted."""
    db.write("mark_bulk_change", practice_id=PRACTICE_ID)
    deleted = 0
    while True:
        n = db.write("wipe_batch", batch=batch)[0]["deleted"]
        deleted += n
        if n == 0:
            break
    db.write("mark_bulk_change", practice_id=PRACTICE_ID)
    return deleted
