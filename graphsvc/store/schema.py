"""Constraints and indexes (``queries/app/schema.cypher``), created idempotently.

One constraint may not be makeable on an older database: ``party_id`` (one
id space for clinicians, staff members, referrers and outside providers)
when two parties already share an id. ``init_schema`` (``graphsvc db init``)
then says which ids; ``ensure_schema``, run before the first write of a
process, logs it and carries on: every write is still checked for clashes
(``graphsvc.checks``), the constraint only guards against races.
"""

from __future__ import annotations

import logging
import time
from datetime import date

from neo4j.exceptions import ClientError, TransientError

from ..errors import GraphsvcError
from .catalog import statements
from .db import Graph, translate_errors
from .terms import adopt_values_in_use

log = logging.getLogger(__name__)

_ready: set[tuple[str, str]] = set()


def init_schema(graph: Graph) -> None:
    """Create every constraint and index that is missing, and the Practice node; on a database made
    before graphsvc kept vocabularies, adopt the words in use as its vocabularies (once).

    ``GraphsvcError`` naming the ids when two kinds of party share one (the
    rest of the schema is made all the same).
    """
    clash = None
    with translate_errors(graph.settings), graph.session(write=True) as s:
        for text in statements("schema"):
            try:
                _run_retried(s, text)
            except ClientError as e:
                if "party_id" not in text or not e.code.startswith("Neo.ClientError.Schema"):
                    raise
                clash = party_clashes(graph)
    # A database made before vocabularies were kept: the words its records use become its lists (once).
    adopt_values_in_use(graph, date.today())
    _ready.add((graph.settings.uri, graph.database))
    if clash:
        raise GraphsvcError(clash)


def _run_retried(session, text: str, attempts: int = 20) -> None:
    """Run one schema statement, again after a transient error: the Practice node's MERGE can meet a
    deadlock with the writes of a web view that is already serving (``graphsvc db start`` while people
    write). The statements are idempotent (``IF NOT EXISTS``, ``MERGE``)."""
    for attempt in range(attempts):
        try:
            session.run(text).consume()
            return
        except TransientError:
            if attempt == attempts - 1:
                raise
            time.sleep(min(2.0, 0.1 * 2 ** attempt))


def ensure_schema(graph: Graph) -> None:
    """``init_schema`` once per process and database (an id clash is logged, not raised)."""
    if (graph.settings.uri, graph.database) in _ready:
        return
    try:
        init_schema(graph)
    except GraphsvcError as e:
        if not str(e).startswith("Ids held by two kinds of party"):
            raise
        log.warning("%s", e)


def party_clashes(graph: Graph) -> str:
    """The ids two kinds of party share, as a message saying what to do."""
    rows = graph.read("party_id_clashes")
    listed = ", ".join(f"{r['id']!r} ({' and '.join(r['kinds'])})" for r in rows)
    return (f"Ids held by two kinds of party: {listed}. The analysis keys every party by its id, so "
            "give one of each an id of its own (in Cypher), then run `graphsvc db init` again to make "
            "the party_id constraint.")
