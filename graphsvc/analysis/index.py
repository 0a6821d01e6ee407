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

from ..vocabulary import PRACTICE
from .referrals import point_person_on, tries_colleague


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
    intro_record: dict = field(default_factory=lambda: defaultdict(lambda: [0, 0]))  # (by, member) -> [made, led]
    addressed_counts: Counter = field(default_factory=Counter)               # member -> referrals addressed to it
    assigned_counts: Counter = field(default_factory=Counter)
    kind_trust: dict = field(default_factory=lambda: defaultdict(Counter))   # referrer kind -> member -> referrers

    def __post_init__(self):
        G, before = self.G, self.before
        self.members = {n: a for n, a in G.nodes(data=True) if a.get("kind") in ("clinician", "staff")}
        intros = []
        for r, m, key, data in G.edges(keys=True, data=True):
            if before is not None and data["date"] >= before:
                continue
            kind = data["type"]
            if kind == "referral":
                self.referrals[r].append((data["date"], key, m, data))
                for member in (m, data["addressed_to"]):
                    if member != PRACTICE:
                        self.referred_to[r].add(member)
                        # Staff stand for the practice as a whole: not a colleague trusted.
                        if G.nodes[member].get("kind") == "clinician":
                            self.trusted[r].add(member)
                            self.trusted_by[member].add(r)
                if data["addressed_to"] != PRACTICE:
                    self.addressed_counts[data["addressed_to"]] += 1
                self.assigned_counts[m] += 1
            elif kind == "introduction":
                self.introduced[r].add(m)
                intros.append((r, m, data["by"], data["date"]))
        for refs in self.referrals.values():
            refs.sort(key=lambda x: (x[0], x[1]))
        for r, members in self.trusted.items():
            self.kind_trust[G.nodes[r]["referrer_kind"]].update(members)
        for r, m, by, day in intros:
            record = self.intro_record[by, m]
            record[0] += 1
            if any(d >= day and (a == m or data["addressed_to"] == m) for d, _, a, data in self.referrals.get(r, ())):
                record[1] += 1

    def tried_colleagues(self, referrer) -> set:
        """Clinicians the referrer addressed other than its point person on the day."""
        tenures = self.G.nodes[referrer]["tenures"]
        return {data["addressed_to"] for _, _, _, data in self.referrals.get(referrer, ())
                if tries_colleague(self.G, tenures, data)}

    def point_person(self, referrer):
        tenures = self.G.nodes[referrer]["tenures"]
        if self.before is None:
            return tenures[-1][2] if tenures else None
        return point_person_on(tenures, self.before)
