"""Readers over a referral graph, and the stage rules every analysis module shares.

The two rules that define the stages live here once, used by stages,
suggestions, practice and metrics alike:

* ``to_practice``: a referral addressed to the practice as a whole (the
  practice itself, or a staff member such as the intake coordinator);
* ``tries_colleague``: a referral addressed to a clinician other than the
  referrer's point person **on that referral's date** (handoffs respected).
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import date

from ..vocabulary import PRACTICE


def referral_edges(G, referrer) -> list[tuple]:
    """The referrer's referrals as ``(referrer, assigned, key, data)``, by date then id."""
    edges = [e for e in G.out_edges(referrer, keys=True, data=True) if e[3]["type"] == "referral"]
    edges.sort(key=lambda e: (e[3]["date"], e[2]))
    return edges


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


def tries_colleague(G, tenures: list[tuple], referral: dict) -> bool:
    """Whether a referral (edge data) names a colleague of the point person that day.

    Neither addressed to the practice (or staff) nor to whoever was point
    person on the referral's date.
    """
    addressed = referral["addressed_to"]
    return not to_practice(G, addressed) and addressed != point_person_on(tenures, referral["date"])
