"""The suggestion weights tuned on this practice's history, stored on the Practice node.

``graphsvc evaluate --tune`` (``analysis.tuning.tune``) stores what it learned
(``store_weights``), with when, on how many cases and the validation
figures, marking a bulk change in the same transaction so that every live
analysis rebuilds with them. ``stored_weights`` reads them back; the
projection puts them in ``G.graph["stored_weights"]``, and
``analysis.tuning.in_force`` says which weights are in force.
"""

from __future__ import annotations

import json
from typing import Any

from ..vocabulary import PRACTICE_ID
from .catalog import query
from .db import Graph


def stored_weights(source: Graph | Any) -> dict | None:
    """What ``store_weights`` stored (weights, decay, tuned_at as ISO text, ...), or None.

    ``source`` is a ``Graph`` or an open transaction.
    """
    if isinstance(source, Graph):
        rows = source.read("suggestion_weights", practice_id=PRACTICE_ID)
    else:
        rows = source.run(query("suggestion_weights"), {"practice_id": PRACTICE_ID}).data()
    if not rows:
        return None
    row = dict(rows[0])
    row["weights"] = [float(w) for w in row["weights"]]
    tuned_at = row.get("tuned_at")
    if tuned_at is not None:
        row["tuned_at"] = tuned_at.iso_format() if hasattr(tuned_at, "iso_format") else str(tuned_at)
    if row.get("cut") is not None:
        row["cut"] = str(row["cut"])
    row["validation"] = json.loads(row["validation"]) if row.get("validation") else None
    return row


def store_weights(db: Graph, result: dict) -> None:
    """Store a ``tune`` result's weights to use (the defaults when it kept them), in one transaction
    with a bulk change, so that every live analysis rebuilds with them."""
    w = result["weights"]
    db.write("store_suggestion_weights", practice_id=PRACTICE_ID,
             weights=[float(w["fit"]), float(w["trust"]), float(w["track"])], decay=float(result["decay"]),
             cut=str(result["cut"]) if result.get("cut") else None,
             cases_learn=int(result["cases"]["learn"]), cases_validate=int(result["cases"]["validate"]),
             kept_defaults=bool(result["kept_defaults"]), why=result.get("why"),
             validation=json.dumps(result.get("validation"), sort_keys=True, default=str))
