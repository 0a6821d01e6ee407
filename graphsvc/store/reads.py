"""The web view's reads of Neo4j itself: one function per catalog statement it runs.

Pages never name a statement; they call these, which run the statements of
``queries/app/`` by their literal names, always with parameters. Most pages
need none: they are answered from the live analysis (``graphsvc.live``), the
referrer list included.
"""

from __future__ import annotations

from typing import Any

from .db import Graph


def client_attributes(graph: Graph, client_id: str) -> dict[str, Any] | None:
    """A client's ``id``, ``needs``, ``population``, ``insurance`` and ``schedule``; None if unknown."""
    rows = graph.read("client_attributes", id=client_id)
    return rows[0] if rows else None


def referrer_of_referral(graph: Graph, referral_id: str) -> str | None:
    """The id of the referrer that sent referral ``referral_id``; None if there is no such referral."""
    rows = graph.read("referrer_of_referral", id=referral_id)
    return rows[0]["referrer_id"] if rows else None
