"""The rules that tie records together, shared by the importer and the write API.

A record is checked in isolation by its ``graphsvc.records`` model; this
module checks what a record says about other records: that the ids it refers
to exist (earlier in the same batch of records, or already in the graph), that
they are of the right kind (a point person must be a clinician), and the rules
that tie a referral's addressee, assignee and pass reason together, and a
handoff to the tenure before it. Those hold for the history already stored
too: a handoff must come after the referrer's ``since`` and after the latest
handoff stored for it, and go to someone other than the holder then; one that
restates a stored handoff exactly is accepted and changes nothing.

It knows record kinds (``records.KINDS``), not files: the CSV importer says
which file and line a problem came from, the write API names only the field.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from .batching import batched
from .records import Kind
from .vocabulary import PRACTICE

LOOKUP_CHUNK = 20_000

# Fields that name another record, looked up in the graph when not defined alongside.
REFERENCE_FIELDS = ("referrer_id", "client_id", "point_person_id", "assigned_to", "addressed_to",
                    "introduced_id", "by_id", "member_id", "provider_id")


@dataclass(frozen=True)
class Problem:
    """One reason a record is refused; ``source`` and ``line`` say where it came from, if anywhere."""

    source: str | None
    line: int | None
    message: str

    def __str__(self) -> str:
        if self.source is None:
            return self.message
        where = f"{self.source}:{self.line}" if self.line is not None else self.source
        return f"{where}: {self.message}"


@dataclass
class Batch:
    """Records of one kind to check together: ``(line, record)`` pairs, and which are bad.

    ``source`` names where they came from (a CSV file), or is None for the
    write API, whose records have no line.
    """

    kind: Kind
    source: str | None = None
    rows: list[tuple[int | None, object]] = field(default_factory=list)
    bad_lines: set = field(default_factory=set)
    unreadable: int = 0  # rows refused before they became records

    def good(self) -> Iterable[tuple[int | None, object]]:
        return ((ln, r) for ln, r in self.rows if ln not in self.bad_lines)


class Checker:
    """Checks every reference a record makes, in write order.

    An id is known when a good record earlier in the batches defines it, or
    the graph already holds it. Records found bad here are marked in
    ``bad_lines`` and so are unknown to the records that come after them.
    """

    def __init__(self, batches: Iterable[Batch], problems: list[Problem],
                 lookup: Callable[[list[str]], list[dict]] | None = None):
        self.lookup = lookup  # ids -> rows of queries/app/existing_ids.cypher
        self.batches = list(batches)
        self.problems = problems
        self.members: dict[str, str] = {}        # id -> 'clinician' | 'staff'
        self.referrers: dict[str, object] = {}   # id -> since (None if only in the graph)
        self.holders: dict[str, str] = {}        # referrer id -> latest point person seen
        self.tenures: dict[str, dict] = {}       # referrer id -> stored handoffs kept: {date: point person}
        self.handed: set[str] = set()            # referrers with a new handoff accepted here
        self.clients: set[str] = set()
        self.providers: dict[str, list[str]] = {}  # id -> niches
        self.stored: dict[str, dict] = {}
        self.rules = {
            "clinician": lambda rec: self._new_member(rec, "clinician"),
            "staff": lambda rec: self._new_member(rec, "staff"),
            "external_provider": lambda rec: [],
            "client": lambda rec: [],
            "referrer": self._referrer,
            "handoff": self._handoff,
            "referral": self._referral,
            "introduction": self._introduction,
            "contact": self._contact,
            "referral_out": self._referral_out,
        }

    def check(self) -> None:
        self.stored = self._lookup_stored()
        for batch in self.batches:
            rule = self.rules[batch.kind.name]
            ordered = batch.rows
            if batch.kind.name == "handoff":  # judge each handoff after the ones before it
                ordered = sorted(batch.rows, key=lambda lr: (lr[1].referrer_id, lr[1].date))
            for line, rec in ordered:
                reasons = rule(rec)
                if reasons:
                    batch.bad_lines.add(line)
                    self.problems.extend(Problem(batch.source, line, r) for r in reasons)
                else:
                    self._accept(batch.kind.name, rec)

    # What a good record defines, for the records after it.
    def _accept(self, kind: str, rec) -> None:
        if kind in ("clinician", "staff"):
            self.members[rec.id] = kind
        elif kind == "referrer":
            self.referrers[rec.id] = rec.since
            self.holders[rec.id] = rec.point_person_id
        elif kind == "handoff":
            if self._stored_handoffs(rec.referrer_id).get(rec.date) != rec.point_person_id:
                self.holders[rec.referrer_id] = rec.point_person_id  # a new handoff, the latest so far
                self.handed.add(rec.referrer_id)
        elif kind == "client":
            self.clients.add(rec.id)
        elif kind == "external_provider":
            self.providers[rec.id] = list(rec.niches)

    def _lookup_stored(self) -> dict[str, dict]:
        """The graph's view of every id the batches refer to but do not define."""
        if self.lookup is None:
            return {}
        defined = {rec.id for batch in self.batches if batch.kind.key == ("id",) for _, rec in batch.rows}
        wanted = set()
        for batch in self.batches:
            for _, rec in batch.rows:
                for f in REFERENCE_FIELDS:
                    v = getattr(rec, f, None)
                    if v is not None and v not in defined:
                        wanted.add(v)
            # Members defined here may clash with a member of the other kind stored,
            # and referrers with a stored member or provider (the analysis keys
            # every node by its id, so the two must differ).
            if batch.kind.name in ("clinician", "staff", "referrer"):
                wanted.update(rec.id for _, rec in batch.rows)
            # A handoff is judged against the tenures stored, even for a referrer defined here.
            if batch.kind.name == "handoff":
                wanted.update(rec.referrer_id for _, rec in batch.rows)
        wanted.discard(PRACTICE)
        found = {}
        for chunk in batched(sorted(wanted), LOOKUP_CHUNK):
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

    # One rule per kind: the reasons a record is bad, or [].
    def _new_member(self, rec, kind: str) -> list[str]:
        if rec.id == PRACTICE:
            return [f"id {PRACTICE!r} is reserved for referrals addressed to the practice"]
        other = self.members.get(rec.id) or (self.stored.get(rec.id) or {}).get("member")
        if other and other != kind:
            return [f"duplicate id {rec.id!r}: already a {other} (member ids are shared by clinicians and staff)"]
        return []

    def _referrer(self, rec) -> list[str]:
        out = []
        other = self._member_kind(rec.id) or ("outside provider" if rec.id in self.providers
                                               or (self.stored.get(rec.id) or {}).get("provider") else None)
        if other:
            out.append(f"field 'id': {rec.id!r} is already a {other}'s id; a referrer needs an id of its own")
        return out + self._clinician("point_person_id", rec.point_person_id)

    def _stored_handoffs(self, referrer_id: str) -> dict:
        """The handoffs stored for a referrer that this import keeps: ``{date: point person}``.

        Those are the tenures after the referrer's first, and, when the
        referrer is defined here too, after its ``since`` here (the upsert
        replaces the tenures before it and the old first one).
        """
        kept = self.tenures.get(referrer_id)
        if kept is None:
            stored = self.stored.get(referrer_id) or {}
            first = _native(stored.get("since"))
            after = self.referrers.get(referrer_id)
            kept = {}
            for t in stored.get("tenures") or ():
                since = _native(t["since"])
                if (first is None or since > first) and (after is None or since > after):
                    kept[since] = t["point_person_id"]
            self.tenures[referrer_id] = kept
        return kept

    def _handoff(self, rec) -> list[str]:
        out = self._needs(rec) + self._clinician("point_person_id", rec.point_person_id)
        rid = rec.referrer_id
        stored = self.stored.get(rid) or {}
        defined_here = rid in self.referrers
        kept = self._stored_handoffs(rid)
        if kept.get(rec.date) == rec.point_person_id:
            return out  # already stored as it is: importing it again changes nothing
        since = self.referrers[rid] if defined_here else _native(stored.get("since"))
        if since is not None and rec.date <= since:
            out.append(f"date {rec.date} is not after the referrer's since date {since}")
        elif kept and rec.date <= max(kept):
            latest = max(kept)
            out.append(f"date {rec.date} is not after the latest handoff already stored for {rid!r} "
                       f"({latest}, to {kept[latest]!r}); an import only adds handoffs after it and "
                       "does not rewrite the stored history")
        if rid in self.handed:  # the holder now: the last new handoff's, else the last stored one's, else the first
            holder = self.holders.get(rid)
        elif kept:
            holder = kept[max(kept)]
        else:
            holder = self.holders.get(rid) if defined_here else stored.get("point_person_id")
        if holder == rec.point_person_id:
            out.append(f"hands the role to {rec.point_person_id!r}, who already holds it")
        return out

    def _referral(self, rec) -> list[str]:
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

    def _introduction(self, rec) -> list[str]:
        return (self._needs(rec) + self._member("introduced_id", rec.introduced_id)
                + self._member("by_id", rec.by_id))

    def _contact(self, rec) -> list[str]:
        return self._needs(rec) + self._member("member_id", rec.member_id)

    def _referral_out(self, rec) -> list[str]:
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


def _native(value):
    """A Neo4j date from a lookup as a ``datetime.date`` (None and plain dates pass through)."""
    return value.to_native() if hasattr(value, "to_native") else value
