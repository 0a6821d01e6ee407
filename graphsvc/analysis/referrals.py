"""Readers over a referral graph for the practice's rules (``graphsvc.rules``).

The rules themselves (the point person on a day, a colleague tried, stage 3,
ready for stage 3) are ``graphsvc.rules``'; this module reads what they
need from a graph built by ``analysis.graph``:

* ``referral_edges``: a referrer's referrals in date order;
* ``to_practice`` (``PracticeFlags``): a referral addressed to the practice as
  a whole (the practice itself, or a staff member such as the intake
  coordinator);
* ``current_point_person``, ``colleague_tried``;
* ``stage_3_introduction``: whom to introduce a referrer ready for stage 3
  to, the one reading of that rule for suggestions and the ready worklist.
"""

from __future__ import annotations

from collections import Counter

from ..config import DEFAULT_ANALYSIS
from ..rules import (
    READY_AFTER,
    coordinator_to_introduce,
    in_whole_practice,
    point_person_finder,
    point_person_on,
    ready_for_stage_3,
    tries_colleague,
)
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


def current_point_person(G, referrer):
    """The referrer's point person now (``rules.point_person_on``)."""
    return point_person_on(G.nodes[referrer]["tenures"])


def colleague_tried(G, tenures: list[tuple], referral: dict) -> bool:
    """Whether a referral (edge data) tries a colleague (``rules.tries_colleague``, on its date)."""
    addressed = referral["addressed_to"]
    return tries_colleague(addressed, to_practice=to_practice(G, addressed),
                           point_person=point_person_on(tenures, referral["date"]))


class StaffPool:
    """The practice's staff and how many referrals each was addressed, for ``rules.coordinator_to_introduce``.

    ``members``: the practice's members by id (an ``index.Index``'s, to spare
    a walk over every node); the counts need a pass over every referral: taken
    from ``counts`` when given (the index's ``addressed_counts``), else counted
    the first time two staff members are left to choose from.
    """

    def __init__(self, G, members=None, counts=None):
        self.G = G
        members = members if members is not None else {n: a for n, a in G.nodes(data=True)
                                                        if a.get("kind") in ("clinician", "staff")}
        self.roles = {m: members[m].get("role") for m in sorted(members) if members[m].get("kind") == "staff"}
        self._counts = counts

    def __bool__(self) -> bool:
        return bool(self.roles)

    def pick(self, met: set):
        """The staff member to introduce to a referrer that has met ``met``, or None."""
        left = [m for m in self.roles if m not in met]
        if len(left) <= 1:  # nobody to break a tie between: no need to count
            counts = {}
        else:
            counts = self.addressed_counts()
        return coordinator_to_introduce(self.roles, met, counts)

    def addressed_counts(self):
        if self._counts is None:
            counts: Counter = Counter()
            for r, kind in self.G.nodes(data="kind"):
                if kind != "referrer":
                    continue
                for keyed in self.G._adj[r].values():
                    for data in keyed.values():
                        if data["type"] == "referral" and data["addressed_to"] in self.roles:
                            counts[data["addressed_to"]] += 1
            self._counts = counts
        return self._counts


def stage_3_introduction(G, referrer, referrals, introduced, *, staff: StaffPool, practice=None,
                         ready_after: int = READY_AFTER, window: int = DEFAULT_ANALYSIS.window):
    """``(staff member, colleagues tried)`` when a referrer is ready for stage 3, else None.

    ``referrals``: the referrer's referrals as ``(date, id, assigned, data)``
    in date order (ties by id); ``introduced``: the members introduced to it.
    Ready by ``rules.ready_for_stage_3``; the staff member by
    ``rules.coordinator_to_introduce`` among those it has not met (introduced
    to it, or named on one of its referrals); colleagues tried in the order
    first tried. The one rule for suggestions and the ready worklist.
    """
    practice = practice if practice is not None else PracticeFlags(G)
    on = point_person_finder(G.nodes[referrer]["tenures"])
    tried: dict = {}  # colleague -> None, in the order first tried
    flags = []
    for day, _, _, data in referrals:
        addressed = data["addressed_to"]
        flag = practice[addressed]
        flags.append(flag)
        if tries_colleague(addressed, to_practice=flag, point_person=on(day)):
            tried.setdefault(addressed, None)
    if not ready_for_stage_3(len(tried), in_stage_3=in_whole_practice(flags, window), ready_after=ready_after):
        return None
    met = set(introduced)
    for _, _, assigned, data in referrals:
        met.add(assigned)
        met.add(data["addressed_to"])
    coordinator = staff.pick(met)
    return None if coordinator is None else (coordinator, list(tried))
