"""Reference checks shared by the importer and the write API.

A row is checked in isolation by its ``graphsvc.records`` model; this module
checks what a row says about other records: that the ids it refers to exist
(earlier in the same import, or already in the graph), that they are of the
right kind (a point person must be a clinician), and the rules that tie a
referral's addressee, assignee and pass reason together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable

from .csvformat import CsvFile
from .vocabulary import PRACTICE

LOOKUP_CHUNK = 20_000


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.message}"


@dataclass
class ParsedFile:
    """The parsed rows of one file: (line, record) pairs, and which are bad."""

    spec: CsvFile
    rows: list[tuple[int, object]] = field(default_factory=list)
    bad_lines: set[int] = field(default_factory=set)
    unreadable: int = 0  # rows refused before they became records

    def good(self) -> Iterable[tuple[int, object]]:
        return ((ln, r) for ln, r in self.rows if ln not in self.bad_lines)


class Checker:
    """Checks every reference a row makes, in write order.

    An id is known when a good row earlier in the folder defines it, or the
    graph already holds it. Rows found bad here are marked in ``bad_lines``
    and so are unknown to the rows that come after them.
    """

    def __init__(self, parsed: dict[str, ParsedFile], problems: list[Problem],
                 lookup: Callable[[list[str]], list[dict]] | None = None):
        self.lookup = lookup  # ids -> rows of queries/existing_ids.cypher
        self.parsed = parsed
        self.problems = problems
        self.members: dict[str, str] = {}        # id -> 'clinician' | 'staff'
        self.referrers: dict[str, object] = {}   # id -> since (None if only in the graph)
        self.holders: dict[str, str] = {}        # referrer id -> latest point person seen
        self.clients: set[str] = set()
        self.providers: dict[str, list[str]] = {}  # id -> niches
        self.stored: dict[str, dict] = {}

    def check(self) -> None:
        self.stored = self._lookup_stored()
        for name, rows in self.parsed.items():
            handler = getattr(self, "_" + rows.spec.stem)
            ordered = rows.rows
            if rows.spec.name == "handoffs.csv":  # judge each handoff after the ones before it
                ordered = sorted(rows.rows, key=lambda lr: (lr[1].referrer_id, lr[1].date))
            for line, rec in ordered:
                reasons = handler(rec)
                if reasons:
                    rows.bad_lines.add(line)
                    self.problems.extend(Problem(name, line, r) for r in reasons)
                else:
                    self._accept(rows.spec.stem, rec)

    # What a good row defines, for the rows after it.
    def _accept(self, stem: str, rec) -> None:
        if stem in ("clinicians", "staff"):
            self.members[rec.id] = "clinician" if stem == "clinicians" else "staff"
        elif stem == "referrers":
            self.referrers[rec.id] = rec.since
            self.holders[rec.id] = rec.point_person_id
        elif stem == "handoffs":
            self.holders[rec.referrer_id] = rec.point_person_id
        elif stem == "clients":
            self.clients.add(rec.id)
        elif stem == "external_providers":
            self.providers[rec.id] = list(rec.niches)

    def _lookup_stored(self) -> dict[str, dict]:
        """The graph's view of every id the folder refers to but does not define."""
        if self.lookup is None:
            return {}
        defined = {rec.id for rows in self.parsed.values() if rows.spec.key == ("id",)
                   for _, rec in rows.rows}
        wanted = set()
        for rows in self.parsed.values():
            for _, rec in rows.rows:
                for f in ("referrer_id", "client_id", "point_person_id", "assigned_to",
                          "addressed_to", "introduced_id", "by_id", "member_id", "provider_id"):
                    v = getattr(rec, f, None)
                    if v is not None and v not in defined:
                        wanted.add(v)
        # Members and referrers defined here may clash with a different kind stored.
        for name in ("clinicians.csv", "staff.csv"):
            if name in self.parsed:
                wanted.update(rec.id for _, rec in self.parsed[name].rows)
        wanted.discard(PRACTICE)
        found = {}
        for chunk in chunks(sorted(wanted), LOOKUP_CHUNK):
            for row in self.lookup(chunk):
                found[row["id"]] = row
        return found

    def _member_kind(self, member_id: str) -> str | None:
        kind = self.members.get(member_id)
        if kind is None and member_id in self.stored:
            kind = self.stored[member_id]["member"]
        return kind

    def _known_referrer(self, referrer_id: str) -> bool:
        return referrer_id in self.referrers or bool(self.stored.get(referrer_id, {}).get("referrer"))

    def _known_client(self, client_id: str) -> bool:
        return client_id in self.clients or bool(self.stored.get(client_id, {}).get("client"))

    def _needs(self, rec, *, referrer=True, client=False) -> list[str]:
        out = []
        if referrer and not self._known_referrer(rec.referrer_id):
            out.append(f"unknown referrer_id {rec.referrer_id!r}")
        if client and not self._known_client(rec.client_id):
            out.append(f"unknown client_id {rec.client_id!r}")
        return out

    def _clinician(self, field: str, member_id: str) -> list[str]:
        kind = self._member_kind(member_id)
        if kind is None:
            return [f"unknown {field} {member_id!r}"]
        if kind != "clinician":
            return [f"{field} {member_id!r} is a staff member, not a clinician"]
        return []

    def _member(self, field: str, member_id: str) -> list[str]:
        return [] if self._member_kind(member_id) else [f"unknown {field} {member_id!r}"]

    # One method per file: the reasons a parsed row is bad, or [].
    def _clinicians(self, rec) -> list[str]:
        return self._new_member(rec, "clinician")

    def _staff(self, rec) -> list[str]:
        return self._new_member(rec, "staff")

    def _new_member(self, rec, kind: str) -> list[str]:
        if rec.id == PRACTICE:
            return [f"id {PRACTICE!r} is reserved for referrals addressed to the practice"]
        other = self.members.get(rec.id) or (self.stored.get(rec.id) or {}).get("member")
        if other and other != kind:
            return [f"duplicate id {rec.id!r}: already a {other} (member ids are shared by clinicians and staff)"]
        return []

    def _external_providers(self, rec) -> list[str]:
        return []

    def _clients(self, rec) -> list[str]:
        return []

    def _referrers(self, rec) -> list[str]:
        return self._clinician("point_person_id", rec.point_person_id)

    def _handoffs(self, rec) -> list[str]:
        out = self._needs(rec) + self._clinician("point_person_id", rec.point_person_id)
        since = self.referrers.get(rec.referrer_id)
        if since is not None and rec.date <= since:
            out.append(f"date {rec.date} is not after the referrer's since date {since}")
        if self.holders.get(rec.referrer_id) == rec.point_person_id:
            out.append(f"hands the role to {rec.point_person_id!r}, who already holds it")
        return out

    def _referrals(self, rec) -> list[str]:
        out = self._needs(rec, client=True) + self._clinician("assigned_to", rec.assigned_to)
        if rec.addressed_to != PRACTICE:
            kind = self._member_kind(rec.addressed_to)
            if kind is None:
                out.append(f"unknown addressed_to {rec.addressed_to!r} (a member id or 'practice')")
            elif kind == "staff" and rec.pass_reason:
                out.append("pass_reason given, but only a referral addressed to a clinician is passed")
            elif kind == "clinician" and rec.assigned_to != rec.addressed_to and not rec.pass_reason:
                out.append(f"assigned_to {rec.assigned_to!r} differs from addressed_to "
                           f"{rec.addressed_to!r}: a pass needs a pass_reason")
        return out

    def _introductions(self, rec) -> list[str]:
        return (self._needs(rec) + self._member("introduced_id", rec.introduced_id)
                + self._member("by_id", rec.by_id))

    def _contacts(self, rec) -> list[str]:
        return self._needs(rec) + self._member("member_id", rec.member_id)

    def _referrals_out(self, rec) -> list[str]:
        out = self._needs(rec, client=True)
        niches = self.providers.get(rec.provider_id)
        if niches is None and (self.stored.get(rec.provider_id) or {}).get("provider"):
            niches = self.stored[rec.provider_id]["niches"] or []
        if niches is None:
            out.append(f"unknown provider_id {rec.provider_id!r}")
        elif rec.niche not in niches:
            out.append(f"niche {rec.niche!r} is not one of provider {rec.provider_id!r}'s niches "
                       f"({';'.join(niches) or 'none'})")
        return out


def chunks(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i:i + size]
