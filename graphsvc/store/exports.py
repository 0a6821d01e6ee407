"""Reading the whole graph as records, for ``graphsvc export``: every kind in one transaction.

The transaction first takes the lock on the Practice node. Neo4j's isolation
is read-committed, so one transaction alone is not a snapshot; but every
single write (``store.writes.run_write``) bumps the Practice node's change
counter inside its own transaction, so while the export holds that lock no
such write can commit (it waits, and commits after), and any that committed
before has been applied in full. An import's batches do not take that lock
(they would run one at a time); they write kinds in dependency order and
never delete a node, so the export reads the kinds the other way round
(events first, members last): a row read can only name a record that was
already committed and is read later. Together: no referral names a client
missing from the clients read, whatever runs at the same time. The price:
single writes wait while an export runs (a few seconds for the demo
practice), and exporting needs a Neo4j user allowed to write (the lock
changes nothing).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from ..vocabulary import PRACTICE_ID
from .catalog import query
from .db import Graph
from .values import native
from .weights import stored_weights

# The read statement of each kind of record, rows in key order.
EXPORT = {
    "term": "export_terms",
    "clinician": "export_clinicians",
    "staff": "export_staff",
    "external_provider": "export_external_providers",
    "client": "export_clients",
    "referrer": "export_referrers",
    "merged_referrer": "export_merged_referrers",
    "handoff": "export_handoffs",
    "referral": "export_referrals",
    "referral_status": "export_referral_statuses",
    "introduction": "export_introductions",
    "contact": "export_contacts",
    "referral_out": "export_referrals_out",
    "task": "export_tasks",
}


def read_all(db: Graph, kinds: list[str], write: Callable[[str, Iterator[list]], int],
             columns: Callable[[str], tuple[str, ...]], *, state: dict | None = None) -> dict[str, int]:
    """Hand ``write(kind, rows)`` each kind's rows, in the order of ``kinds``, all in one transaction.

    Each row is a list of plain values in the order ``columns(kind)`` gives.
    ``write`` returns how many rows it took; a retried transaction calls it
    again from the first kind, so it must start its output afresh each time.
    ``state`` (a dict) is filled, in the same transaction and after the lock,
    with ``graph_state``'s answer and the stored suggestion weights
    (``suggestion_weights``, ``store.weights.stored_weights``' answer): what a
    backup records.
    """

    def transaction(tx) -> dict[str, int]:
        tx.run(query("lock_practice"), practice_id=PRACTICE_ID).consume()
        if state is not None:
            state.clear()
            state.update(graph_state(tx))
            state["suggestion_weights"] = stored_weights(tx)
        counts = {}
        for kind in kinds:
            names = columns(kind)
            rows = ([native(record[c]) for c in names] for record in tx.run(query(EXPORT[kind])))
            counts[kind] = write(kind, rows)
        return counts

    return db.write_tx(transaction)


def graph_state(db_or_tx) -> dict:
    """Nodes per label and relationships per type (each sorted by name), and the Practice node's change
    counter (``version``, ``bulk_version``) and ``instance``; in ``db_or_tx``'s transaction if one."""
    if isinstance(db_or_tx, Graph):
        row = db_or_tx.read("graph_counts", practice_id=PRACTICE_ID)[0]
    else:
        row = db_or_tx.run(query("graph_counts"), practice_id=PRACTICE_ID).single().data()
    return {"labels": {label: n for label, n in row["labels"]},
            "relationships": {kind: n for kind, n in row["relationships"]},
            "version": row["version"], "bulk_version": row["bulk_version"], "instance": row["instance"]}
