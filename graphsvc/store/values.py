"""Neo4j's values as plain Python ones: nothing of the driver's types leaves ``graphsvc.store``.

Neo4j hands back dates and datetimes as ``neo4j.time`` objects; everything
above the store works with ``datetime.date`` and ``datetime.datetime``.
"""

from __future__ import annotations

from typing import Any


def native(value: Any) -> Any:
    """A value as Python's own type: ``neo4j.time`` dates and times to ``datetime``'s, lists and maps
    item by item, anything else as it is."""
    if hasattr(value, "to_native"):
        return value.to_native()
    if isinstance(value, list):
        return [native(v) for v in value]
    if isinstance(value, dict):
        return {k: native(v) for k, v in value.items()}
    return value


def native_rows(rows: list[dict]) -> list[dict]:
    """Rows of a result (``Result.data()``) with every value ``native``."""
    return [{k: native(v) for k, v in row.items()} for row in rows]
