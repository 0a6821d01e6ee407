"""The suggestion weights in force: the defaults, or those tuned on this practice's history.

``graphsvc evaluate --tune`` (``analysis.tuning.tune``) stores what it learned
on the ``Practice`` node (``store_weights``), with when, on how many cases
and the validation figures, marking a bulk change in the same transaction so
that every live analysis rebuilds with them. ``stored_weights`` reads them back; the
projection puts them in ``G.graph["suggestion_weights"]``, where
``Insights.suggestions`` finds them.
"""

from __future__ import annotations

import json
from typing import Any

from ..analysis.suggestions import DEFAULT_WEIGHTS
from ..vocabulary import PRACTICE_ID
from .db import Graph

DEFAULT_DECAY = 0.85  # suggest_introductions' default


def in_force(stored: dict | None) -> dict:
    """``{"weights": (fit, trust, track), "decay", "source"}``: the stored ones, else the defaults.

    ``source`` says where they come from, as a phrase that stands on its own,
    and ``tuned`` whether this practice's history chose them.

    >>> in_force(None)["source"]
    'the default weights, not tuned on this practice yet (graphsvc evaluate --tune)'
    """
    if not stored:
        return {"weights": tuple(DEFAULT_WEIGHTS), "decay": DEFAULT_DECAY, "tuned": False,
                "source": "the default weights, not tuned on this practice yet (graphsvc evaluate --tune)"}
    when = stored["tuned_at"][:10] if stored.get("tuned_at") else "?"
    cases = f"{stored.get('cases_learn') or 0} learning and {stored.get('cases_validate') or 0} validation cases"
    if stored.get("kept_defaults"):
        source = f"the default weights, kept by graphsvc evaluate --tune on {when} ({cases}): {stored.get('why')}"
    else:
        source = f"weights tuned on {when} from this practice's history ({cases})"
    return {"weights": tuple(stored["weights"]), "decay": stored.get("decay") or DEFAULT_DECAY,
            "tuned": not stored.get("kept_defaults"), "source": source}


def stored_weights(graph: Graph | Any) -> dict | None:
    """What ``store_weights`` stored (weights, decay, tuned_at as ISO text, ...), or None."""
    rows = graph.read("suggestion_weights", practice_id=PRACTICE_ID) if isinstance(graph, Graph) else \
        graph.run(_query("suggestion_weights"), {"practice_id": PRACTICE_ID}).data()
    if not rows:
        return None
    row = dict(rows[0])
    row["weights"] = [float(w) for w in row["weights"]]
    if row.get("tuned_at") is not None:
        row["tuned_at"] = row["tuned_at"].iso_format() if hasattr(row["tuned_at"], "iso_format") else str(row["tuned_at"])
    if row.get("cut") is not None:
        row["cut"] = str(row["cut"])
    row["validation"] = json.loads(row["validation"]) if row.get("validation") else None
    return row


def store_weights(graph: Graph, result: dict) -> None:
    """Store a ``tune`` result's weights to use (the defaults when it kept them), in one transaction
    with a bulk change, so that every live analysis rebuilds with them."""
    w = result["weights"]
    graph.write("store_suggestion_weights", practice_id=PRACTICE_ID,
                weights=[float(w["fit"]), float(w["trust"]), float(w["track"])], decay=float(result["decay"]),
                cut=str(result["cut"]) if result.get("cut") else None,
                cases_learn=int(result["cases"]["learn"]), cases_validate=int(result["cases"]["validate"]),
                kept_defaults=bool(result["kept_defaults"]), why=result.get("why"),
                validation=json.dumps(result.get("validation"), sort_keys=True, default=str))


def _query(name: str) -> str:
    from .catalog import query

    return query(name)
