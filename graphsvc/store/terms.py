"""The vocabularies' stored words (``(:Term {vocabulary, value})``): read, add, and adopt the words in use.

``graphsvc.vocabularies`` says what the words mean; this module only reads
and writes them, with parameters, returning plain values.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date

from ..vocabularies import BUILT_IN
from ..vocabulary import PRACTICE_ID
from .catalog import query
from .db import Graph

log = logging.getLogger(__name__)


def added_words(rows: Iterable[dict]) -> dict[str, list[str]]:
    """``terms`` rows as ``{vocabulary: [word, ...]}``."""
    out: dict[str, list[str]] = {}
    for row in rows:
        out.setdefault(row["vocabulary"], []).append(row["value"])
    return out


def stored_words(db: Graph) -> dict[str, list[str]]:
    """The words managers added, per vocabulary (the built-in ones are the code's)."""
    return added_words(db.read("terms"))


def add_words(db_or_tx, rows: list[dict], day: date) -> list[dict]:
    """Add ``rows`` (``{"vocabulary", "value"}``) to the vocabularies, in a transaction of its own (given a
    ``Graph``) or the one given; returns each row with ``added`` (False: it was there already)."""
    if not rows:
        return []
    if isinstance(db_or_tx, Graph):
        return db_or_tx.write("add_terms", rows=rows, added_on=day)
    return db_or_tx.run(query("add_terms"), rows=rows, added_on=day).data()


def practice_in_use(db: Graph) -> bool:
    """Whether the practice holds any party or client yet (an empty one adopts an import's words)."""
    return bool(db.read("practice_in_use")[0]["in_use"])


def adopt_values_in_use(db: Graph, day: date) -> list[dict]:
    """Once per database: the words its records use become its vocabularies (a database made before
    graphsvc kept vocabularies keeps working). Returns the words added (none the second time)."""
    if db.read("vocabularies_adopted", practice_id=PRACTICE_ID) == [{"adopted": True}]:
        return []
    rows = db.read("values_in_use")
    rows = [r for r in rows if r["value"] not in BUILT_IN[r["vocabulary"]]]
    added = [r for r in add_words(db, rows, day) if r["added"]]
    db.write("mark_vocabularies_adopted", practice_id=PRACTICE_ID, day=day)
    if added:
        log.info("vocabularies: %d word(s) in use adopted", len(added))
    return added
