"""Readers over a referral graph, and the stage rules every analysis module shares.

The rules that define the stages live here once, used by stages,
suggestions, practice and metrics alike:

* ``to_practice``: a referral addressed to the practice as a whole (the
  practice itself, or a staff member such as the intake coordinator);
* ``tries_colleague``: a referral addressed to a clinician other than the
  referrer's point person **on that referral's date** (handoffs respected);
* ``whole_practice``: whether a referrer is in stage 3 after its latest
  referral. It enters when at least half of its last ``window`` referrals (all
  of them while it has fewer) were addressed to the practice, and leaves only
  when none of them was, so one referral naming a clinician does not throw
  it out. ``in_whole_practice`` replays that rule over a whole run.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import deque
from collections.abc import Iterable, Sequence
from datetime import date

from ..vocabulary import PRACTICE


def referral_edges(G, referrer) -> list[tuple]:
    """The referrer's referrals as ``(referrer, assigned, key, data)``, by date then id."""
    # The adjacency dicts themselves: the views (out_edges, succ) cost more than the walk.
    edges = [(referrer, v, k, d) for v, keyed in G._adj[referrer].items() for k, d in keyed.items()
             if d["type"] == "referral"]
    edges.sort(key=lambda e: (e[3]["date"], e[2]))
    return edges


def to_practice(G, addressed_to) -> bool:
    """Addressed to the practice as a whole: the practice itself, or a staff member."""
    return addressed_to == PRACTICE or G.nodes[addressed_to].get("kind") == "staff"


class PracticeFlags(dict):
    """``to_practice`` by addressee, each asked once: a few hundred addressees, a million referrals."""

    def __init__(self, G):
        super().__init__()
        self.G = G

    def __missing__(self, addressed_to) -> bool:
        flag = self[addressed_to] = to_practice(self.G, addressed_to)
        return flag


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


def point_person_finder(tenures: list[tuple]):
    """``point_person_on(tenures, day)`` as a function of ``day``, for many days of one referrer."""
    if len(tenures) < 2:  # most referrers: one point person whatever the day
        only = tenures[0][2] if tenures else None
        return lambda day: only
    starts = [t[0] for t in tenures]
    return lambda day: tenures[max(bisect_right(starts, day) - 1, 0)][2]


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


def whole_practice(recent: Sequence[bool], in_stage_3: bool) -> bool:
    """Whether a referrer is in stage 3 (whole practice) after its latest referral.

    Parameters
    ----------
    recent : sequence of bool
        ``to_practice`` of its last ``window`` referrals (all of them while it
        has fewer), the latest included.
    in_stage_3 : bool
        Whether it was in stage 3 before the latest referral.

    Returns
    -------
    bool
        Outside stage 3: whether at least half of ``recent`` went to the
        practice (it enters). In stage 3: whether any of ``recent`` did (it
        leaves only when none did).

    Examples
    --------
    >>> whole_practice([True, False], in_stage_3=False)   # half: enters
    True
    >>> whole_practice([True, False, False], in_stage_3=False)
    False
    >>> whole_practice([True, False, False], in_stage_3=True)  # one is enough to stay
    True
    >>> whole_practice([False, False, False], in_stage_3=True)
    False
    """
    hits = sum(map(bool, recent))
    if in_stage_3:
        return hits > 0
    return bool(recent) and 2 * hits >= len(recent)


def in_whole_practice(flags: Iterable[bool], window: int) -> bool:
    """Whether a referrer is in stage 3 after all its referrals (``whole_practice`` replayed).

    ``flags``: ``to_practice`` of each of its referrals in date order (ties by id).

    Examples
    --------
    >>> in_whole_practice([True, True, False, False, False], window=3)  # one left in the last 3
    False
    >>> in_whole_practice([True, True, False, False], window=3)  # 1 of the last 3: stays
    True
    >>> in_whole_practice([False, False, True], window=3)  # 1 of 3: never entered
    False
    """
    recent: deque = deque(maxlen=window)
    state = False
    for flag in flags:
        recent.append(flag)
        state = whole_practice(recent, state)
    return state
