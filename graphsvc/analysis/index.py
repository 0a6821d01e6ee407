"""Neighbourhoods of the referral graph that suggestions and matching read.

``Index`` walks the graph's edges once (optionally only those dated before a
day, for backtests) and keeps, per referrer, its referrals in order, the
members it referred to and was introduced to; per clinician, the referrers
that trust it; per referrer kind, how many referrers of that kind refer to
each member; and each member's introduction track record.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date

from ..rules import point_person_on
from ..vocabulary import PRACTICE
from .referrals import colleague_tried


@dataclass
class Index:
    """Neighbourhoods of the referral graph, built once (optionally as of a day).

    ``before``: ignore every event dated on or after it (for backtests).
    """

    G: object
    before: date | None = None
    members: dict = field(default_factory=dict)
    referrals: dict = field(default_factory=lambda: defaultdict(list))      # referrer -> [(date, id, assigned, data)]
    referred_to: dict = field(default_factory=lambda: defaultdict(set))     # referrer -> members it referred to
    trusted: dict = field(default_factory=lambda: defaultdict(set))         # the same, clinicians only
    trusted_by: dict = field(default_factory=lambda: defaultdict(set))      # clinician -> referrers
    introduced: dict = field(default_factory=lambda: defaultdict(set))      # referrer -> members introduced
    intro_record: dict = field(default_factory=lambda: defaultdict(_made_and_led))  # (by, member) -> [made, led]
    addressed_counts: Counter = field(default_factory=Counter)               # member -> referrals addressed to it
    assigned_counts: Counter = field(default_factory=Counter)
    kind_trust: dict = field(default_factory=lambda: defaultdict(Counter))   # referrer kind -> member -> referrers

    def __post_init__(self):
        G = self.G
        self.members = {n: a for n, a in G.nodes(data=True) if a.get("kind") in ("clinician", "staff")}
        for r, a in G.nodes(data=True):
            if a.get("kind") == "referrer":
                self.learn(r)

    def learn(self, r) -> None:
        """Add referrer ``r``'s events (as ``G`` holds them now) to every table.

        ``learn`` and ``forget`` are each other's inverse, so a live analysis
        can replace one referrer's part of the index after a write without
        rebuilding the rest (``graphsvc.live.apply_change``).
        """
        G, before = self.G, self.before
        refs, intros = [], []
        for _, m, key, data in G.out_edges(r, keys=True, data=True):
            if before is not None and data["date"] >= before:
                continue
            if data["type"] == "referral":
                refs.append((data["date"], key, m, data))
            elif data["type"] == "introduction":
                intros.append((m, data["by"], data["date"]))
        if refs:
            refs.sort(key=lambda x: (x[0], x[1]))
            self.referrals[r] = refs
        trusted = set()
        for _, _, m, data in refs:
            for member in (m, data["addressed_to"]):
                if member != PRACTICE:
                    self.referred_to[r].add(member)
                    # Staff stand for the practice as a whole: not a colleague trusted.
                    if G.nodes[member].get("kind") == "clinician":
                        trusted.add(member)
            if data["addressed_to"] != PRACTICE:
                self.addressed_counts[data["addressed_to"]] += 1
            self.assigned_counts[m] += 1
        if trusted:
            self.trusted[r] = trusted
            for m in trusted:
                self.trusted_by[m].add(r)
            self.kind_trust[G.nodes[r]["referrer_kind"]].update(trusted)
        for m, by, day in intros:
            self.introduced[r].add(m)
            record = self.intro_record[by, m]
            record[0] += 1
            if any(d >= day and (a == m or data["addressed_to"] == m) for d, _, a, data in refs):
                record[1] += 1

    def forget(self, r) -> None:
        """Take referrer ``r``'s events out of every table (``learn`` undone); call before ``G`` changes."""
        G, before = self.G, self.before
        refs = self.referrals.pop(r, [])
        for _, _, m, data in refs:
            if data["addressed_to"] != PRACTICE:
                _decrement(self.addressed_counts, data["addressed_to"])
            _decrement(self.assigned_counts, m)
        self.referred_to.pop(r, None)
        self.introduced.pop(r, None)
        trusted = self.trusted.pop(r, set())
        for m in trusted:
            self.trusted_by[m].discard(r)
            if not self.trusted_by[m]:
                del self.trusted_by[m]
        if trusted:
            kind = G.nodes[r]["referrer_kind"]
            for m in trusted:
                _decrement(self.kind_trust[kind], m)
            if not self.kind_trust[kind]:
                del self.kind_trust[kind]
        for _, m, data in G.out_edges(r, data=True):
            if data["type"] != "introduction" or (before is not None and data["date"] >= before):
                continue
            key = (data["by"], m)
            record = self.intro_record[key]
            record[0] -= 1
            if any(d >= data["date"] and (a == m or x["addressed_to"] == m) for d, _, a, x in refs):
                record[1] -= 1
            if record[0] == 0:
                del self.intro_record[key]

    def tried_colleagues(self, referrer) -> set:
        """Clinicians the referrer addressed other than its point person on the day."""
        tenures = self.G.nodes[referrer]["tenures"]
        return {data["addressed_to"] for _, _, _, data in self.referrals.get(referrer, ())
                if colleague_tried(self.G, tenures, data)}

    def point_person(self, referrer):
        tenures = self.G.nodes[referrer]["tenures"]
        if self.before is None:
            return tenures[-1][2] if tenures else None
        return point_person_on(tenures, self.before)


def _made_and_led() -> list:
    """A new introduction record, [made, led]: a module function, so an index can be pickled (snapshots)."""
    return [0, 0]


def _decrement(counter: Counter, key) -> None:
    counter[key] -= 1
    if counter[key] <= 0:
        del counter[key]
