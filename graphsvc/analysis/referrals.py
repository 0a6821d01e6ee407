"""Small readers over a referral graph shared by the analysis modules."""

from __future__ import annotations

from bisect import bisect_right
from datetime import date

from ..vocabulary import PRACTICE


def referral_edges(G, referrer) -> list[tuple]:
    """The referrer's referrals as ``(referrer, assigned, key, data)``, by date then id."""
    edges = [e for e in G.out_edges(referrer, keys=True, data=True) if e[3]["type"] == "referral"]
    edges.sort(key=lambda e: (e[3]["date"], e[2]))
    return edges


def events(G, referrer, kind: str) -> list[tuple]:
    """The referrer's events of one ``type`` as ``(referrer, member, key, data)``."""
    return [e for e in G.out_edges(referrer, keys=True, data=True) if e[3]["type"] == kind]


def to_practice(G, addressed_to) -> bool:
    """Addressed to the practice as a whole: the practice itself, or a staff member."""
    return addressed_to == PRACTICE or G.nodes[addressed_to].get("kind") == "staff"


def point_person_on(tenures: list[tuple], day: date):
    """The point person on ``day``: the tenure that had begun by then.

    A referral dated before the relationship's first tenure is credited to
    the first point person.
    """
    if not tenures:
        return None
    starts = [t[0] for t in tenures]
    i = bisect_right(starts, day) - 1
    return tenures[max(i, 0)][2]


def current_point_person(G, referrer):
    tenures = G.nodes[referrer]["tenures"]
    return tenures[-1][2] if tenures else None
