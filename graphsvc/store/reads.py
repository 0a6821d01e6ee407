"""The web view's reads: one function per catalog statement it runs.

Pages never name a statement; they call these, which run the statements of
``queries/app/`` by their literal names, always with parameters.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .db import Graph

ORDERS = ("referrals", "last_referral", "name")


@dataclass(frozen=True)
class ReferrerFilter:
    """Which referrers the overview lists; every field ``None`` means "any".

    ``ids`` narrows to the given referrer ids (e.g. those the analysis puts
    in a stage); an empty collection matches no referrer.
    """

    kind: str | None = None
    search: str | None = None
    point_person: str | None = None
    ids: Iterable[str] | None = None

    def params(self) -> dict[str, Any]:
        return {"kind": self.kind, "search": self.search, "point_person": self.point_person,
                "ids": None if self.ids is None else sorted(self.ids)}


def referrer_list(graph: Graph, where: ReferrerFilter = ReferrerFilter(), *, order: str = "referrals",
                  skip: int = 0, limit: int = 50) -> list[dict[str, Any]]:
    """One page of referrers with their current point person and counts."""
    if order not in ORDERS:
        raise ValueError(f"order must be one of {', '.join(ORDERS)}")
    return graph.read("referrer_overview", **where.params(), order=order, skip=skip, limit=limit)


def practice_totals(graph: Graph, where: ReferrerFilter = ReferrerFilter()) -> dict[str, int]:
    """Headline counts, and ``matching``: how many referrers ``where`` matches."""
    return graph.read("practice_totals", **where.params())[0]


def clinician_choices(graph: Graph) -> list[dict[str, str]]:
    """``{"id", "name"}`` of every clinician, by name."""
    return graph.read("clinician_choices")


def client_attributes(graph: Graph, client_id: str) -> dict[str, Any] | None:
    """A client's ``id``, ``needs``, ``population``, ``insurance`` and ``schedule``; None if unknown."""
    rows = graph.read("client_attributes", id=client_id)
    return rows[0] if rows else None
