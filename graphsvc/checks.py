"""Checking records against each other and the stored graph: the one place a write's rules are applied.

A record is checked in isolation by its ``graphsvc.records`` model; the
``Checker`` here checks what a record says about other records, for every
path that writes (``graphsvc.service``: the forms, the JSON API, the CLI and
the importer alike):

* the ids it refers to exist (earlier in the same batches of records, or
  already in the graph) and are of the right kind (a point person must be a
  clinician);
* a party's id is its own (``rules.party_id_problem``): clinicians, staff
  members, referrers and outside providers share one id space; adding a
  record whose id is taken, or changing one that does not exist, is refused
  (``Batch.mode``);
* an NPI (a clinician's, staff member's or referrer's ``npi``) belongs to one
  party (``rules.npi_holder_problem``): one another party holds, earlier in
  the batches or in the graph (``npis``), is refused naming that party;
* a referral's addressee, assignee and pass reason go together;
* every word a vocabulary keeps (needs, insurances, kinds, ...) is on the
  practice's list (``graphsvc.vocabularies``); refused naming the closest
  known words, or, when adopting (a first import, ``--add-values``), added;
* an event (referral, introduction, contact, referral out) is not dated
  before its referrer's relationship began; the same introduction or
  contact twice (another id, but the same referrer, day and people, and a
  contact's kind) is refused naming the first;
* a handoff comes after the current tenure's start and goes to someone
  other than the holder then; one that restates a stored handoff exactly
  is accepted and changes nothing (so an import is idempotent).

It knows record kinds (``records.KINDS``), not files: the CSV importer says
which file and line a problem came from, a single write names only the
field. Each problem says whether it is about an id that names nothing
(``Problem.unknown``: a 404 for the API).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from .batching import batched
from .records import NPI_KINDS, Kind
from .rules import PARTY_KINDS, npi_holder_problem, party_id_problem, status_problem
from .vocabularies import FIELDS, Vocabularies, unknown_message, values_of
from .vocabulary import PRACTICE, REFERRAL_STATUSES

LOOKUP_CHUNK = 20_000
VOCABULARY_KINDS = frozenset(FIELDS)
# What makes two introductions or two contacts the same record (besides the referrer), and its words.
SAME = {"introduction": (("date", "introduced_id", "by_id"), "same referrer, colleague, introducer and day"),
        "contact": (("date", "member_id", "kind"), "same referrer, member, kind and day")}
STATUS_ORDER = {status: i for i, status in enumerate(REFERRAL_STATUSES)}

# Fields that name another record, looked up in the graph when not defined alongside.
REFERENCE_FIELDS = ("referrer_id", "client_id", "point_person_id", "assigned_to", "addressed_to",
                    "introduced_id", "by_id", "member_id", "provider_id", "referral_id", "into")
# How "already exists" names each kind of record.
LABEL = {"clinician": "Clinician", "staff": "Staff member", "referrer": "Referrer", "client": "Client",
         "external_provider": "Outside provider", "referral": "Referral", "introduction": "Introduction",
         "contact": "Contact", "referral_out": "ReferralOut", "task": "Task", "referral_status": "Status",
         "merged_referrer": "Merged referrer"}


@dataclass(frozen=True)
class Problem:
    """One reason a record is refused; ``source`` and ``line`` say where it came from, if anywhere.

    ``unknown``: the record names an id that names nothing (nothing else is wrong with it).
    ``word``: a word no vocabulary holds, ``{"field", "value", "vocabulary", "did_you_mean"}``.
    """

    source: str | None
    line: int | None
    message: str
    unknown: bool = False
    word: dict | None = None

    def __str__(self) -> str:
        if self.source is None:
            return self.message
        where = f"{self.source}:{self.line}" if self.line is not None else self.source
        return f"{where}: {self.message}"


class _Unknown(str):
    """A reason about an id that names nothing (``Problem.unknown``)."""


class _UnknownWord(str):
    """A reason about a word no vocabulary holds (``Problem.word``)."""

    word: dict


@dataclass
class Batch:
    """Records of one kind to check together: ``(line, record)`` pairs, and which are bad.

    ``source`` names where they came from (a CSV file), or is None for a
    single write, whose records have no line. ``mode``: None adds or updates
    each record by its id (an import); ``"add"`` refuses an id already taken
    by a record of the kind; ``"update"`` refuses one that names none.
    """

    kind: Kind
    source: str | None = None
    rows: list[tuple[int | None, object]] = field(default_factory=list)
    bad_lines: set = field(default_factory=set)
    unreadable: int = 0  # rows refused before they became records
    mode: str | None = None
    prefix: str = ""  # how the request names the record's fields: "client." for a referral's new client

    def good(self) -> Iterable[tuple[int | None, object]]:
        return ((ln, r) for ln, r in self.rows if ln not in self.bad_lines)


class Checker:
    """Checks every record of ``batches`` in write order, adding what is wrong to ``problems``.

    An id is known when a good record earlier in the batches defines it, or
    the graph already holds it (``lookup``: ids -> rows of
    ``queries/app/existing_ids.cypher``, as ``graphsvc.store`` reads them).
    Records found bad here are marked in ``bad_lines`` and so are unknown to
    the records that come after them.
    """

    def __init__(self, batches: Iterable[Batch], problems: list[Problem],
                 lookup: Callable[[list[str]], list[dict]] | None = None,
                 words: Vocabularies | None = None, adopt: bool = False,
                 events: Callable[[list[str]], list[dict]] | None = None,
                 npis: Callable[[list[str]], list[dict]] | None = None):
        self.lookup = lookup
        # Who holds each NPI the batches carry in the graph (``queries/app/npi_holders.cypher``: ``{"npi",
        # "id", "kind"}`` rows); None: not asked (an NPI is then checked within the batches only).
        self.npis = npis
        self.npi_holders: dict[str, tuple] = {}  # npi -> (party id, kind, source, line): stored, then here
        # The stored introductions and contacts of referrers (``queries/app/event_keys.cypher``), to refuse
        # a duplicate; asked only for the referrers the batches do not define (a folder that carries a
        # referrer carries its events: an import of its folder again is not checked against itself).
        self.events = events
        self.first: dict[str, dict[tuple, tuple]] = {kind: {} for kind in SAME}  # key -> (line, id)
        # The vocabularies the words of the records must be on (None: not checked); ``adopt``: a word
        # not on them is added (to ``self.adopted``: vocabulary -> words, in the order first met).
        self.words = words
        self.adopt = adopt
        self.adopted: dict[str, list[str]] = {}
        self.batches = list(batches)
        self.problems = problems
        self.parties: dict[str, str] = {}        # id -> party kind, defined here
        self.referrers: dict[str, object] = {}   # id -> since
        self.holders: dict[str, str] = {}        # referrer id -> latest point person seen
        self.tenures: dict[str, dict] = {}       # referrer id -> stored handoffs kept: {date: point person}
        self.handed: set[str] = set()            # referrers with a new handoff accepted here
        self.clients: set[str] = set()
        self.providers: dict[str, list[str]] = {}  # id -> niches
        self.stored: dict[str, dict] = {}
        # Referral ids defined here, kept only when records that name one are checked too (tasks,
        # statuses, an update's contact): a folder's million referrals are not held for nothing.
        self.keep_referrals = any(b.kind.name in ("task", "referral_status") or (
            b.kind.name == "contact" and any(getattr(rec, "covers", None) for _, rec in b.rows))
            for b in self.batches)
        self.referrals: dict[str, tuple] = {}  # referral id -> (its referrer, its date)
        self.statuses: dict[str, dict] = {}   # referral id -> {status: date}: stored, then accepted here
        self.rules = {
            "term": lambda rec, batch: [],  # a word of vocabularies.csv: its own model checked it
            "clinician": self._member,
            "staff": self._member,
            "external_provider": self._party,
            "client": self._client,
            "referrer": self._referrer,
            "merged_referrer": self._merged_referrer,
            "handoff": self._handoff,
            "referral": self._referral,
            "referral_status": self._referral_status,
            "introduction": self._introduction,
            "contact": self._contact,
            "referral_out": self._referral_out,
            "task": self._task,
        }

    def check(self) -> None:
        self.stored = self._lookup_stored()
        self._lookup_events()
        self._lookup_npis()
        for batch in self.batches:
            rule = self.rules[batch.kind.name]
            ordered = batch.rows
            if batch.kind.name == "handoff":  # judge each handoff after the ones before it
                ordered = sorted(batch.rows, key=lambda lr: (lr[1].referrer_id, lr[1].date))
            elif batch.kind.name == "referral_status":  # each status after the ones before it
                ordered = sorted(batch.rows, key=lambda lr: (lr[1].referral_id, STATUS_ORDER[lr[1].status]))
            vocabulary_fields = self.words is not None and batch.kind.name in VOCABULARY_KINDS
            for line, rec in ordered:
                reasons = rule(rec, batch)
                if vocabulary_fields:
                    reasons += self._words(batch, rec, learn=not reasons)
                if reasons:
                    batch.bad_lines.add(line)
                    self.problems.extend(Problem(batch.source, line, str(r), isinstance(r, _Unknown),
                                                 getattr(r, "word", None))
                                         for r in reasons)
                    if batch.prefix:  # a record made with the write (a referral's new client): its own
                        # problems said, not "unknown" again after
                        self._accept(batch.kind.name, rec, line, batch.source)
                else:
                    self._accept(batch.kind.name, rec, line, batch.source)

    # What a good record defines, for the records after it.
    def _accept(self, kind: str, rec, line: int | None = None, source: str | None = None) -> None:
        if kind == "term" and self.words is not None and not self.words.known(rec.vocabulary, rec.value):
            # A word the folder lists (vocabularies.csv): known to the rows after it, and added (reported).
            self.words.learn(rec.vocabulary, rec.value)
            self.adopted.setdefault(rec.vocabulary, []).append(rec.value)
        if kind in PARTY_KINDS:
            self.parties[rec.id] = kind
        if kind in NPI_KINDS and rec.npi is not None:
            self.npi_holders[rec.npi] = (rec.id, kind, source, line)
        if kind == "referrer":
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
        elif kind == "referral" and self.keep_referrals:
            self.referrals[rec.id] = (rec.referrer_id, rec.date)
        elif kind == "referral_status":
            self._statuses_of(rec.referral_id)[rec.status] = rec.date
        if kind in SAME:
            self.first[kind].setdefault(self._key(kind, rec), (line, rec.id))

    def _lookup_npis(self) -> None:
        """Who holds, in the graph, each NPI the batches carry."""
        if self.npis is None:
            return
        wanted = {rec.npi for b in self.batches if b.kind.name in NPI_KINDS for _, rec in b.rows
                  if rec.npi is not None}
        for chunk in batched(sorted(wanted), LOOKUP_CHUNK):
            for row in self.npis(chunk):
                self.npi_holders[row["npi"]] = (row["id"], row["kind"], None, None)

    def _npi(self, rec, batch: Batch) -> list[str]:
        """An NPI another party holds (stored, or earlier in the batches), named with its holder."""
        if rec.npi is None:
            return []
        holder = self.npi_holders.get(rec.npi)
        if holder is None:
            return []
        holder_id, holder_kind, source, line = holder
        where = f" ({source} line {line})" if source is not None and line is not None else ""
        problem = npi_holder_problem(rec.npi, rec.id, holder_id, holder_kind, where)
        return [problem] if problem else []

    def _lookup_events(self) -> None:
        """The stored introductions and contacts of the referrers whose events the batches add."""
        if self.events is None:
            return
        defined = {rec.id for b in self.batches if b.kind.name == "referrer" for _, rec in b.rows}
        wanted = {rec.referrer_id for b in self.batches if b.kind.name in SAME for _, rec in b.rows} - defined
        for chunk in batched(sorted(wanted), LOOKUP_CHUNK):
            for row in self.events(chunk):
                rid = row["referrer_id"]
                for event_id, day, one, other in row["introductions"]:
                    self.first["introduction"].setdefault((rid, day, one, other), (None, event_id))
                for event_id, day, one, other in row["contacts"]:
                    self.first["contact"].setdefault((rid, day, one, other), (None, event_id))

    @staticmethod
    def _key(kind: str, rec) -> tuple:
        one, two, three = (getattr(rec, f) for f in SAME[kind][0])
        return rec.referrer_id, one.isoformat(), two, three

    def _duplicate(self, kind: str, rec, batch: Batch) -> list[str]:
        """The same introduction or contact as one before it (another id), named."""
        first = self.first[kind].get(self._key(kind, rec))
        if first is None or first[1] == rec.id:
            return []
        line, first_id = first
        where = f"line {line}, {first_id}" if line is not None and batch.source else first_id
        return [f"already recorded as {kind} {where} ({SAME[kind][1]})"]

    def _not_before(self, rec) -> list[str]:
        """An event dated before its referrer's relationship began (its ``since``)."""
        since = self.referrers.get(rec.referrer_id) or (self.stored.get(rec.referrer_id) or {}).get("since")
        if since is not None and rec.date < since:
            return [f"field 'date': {rec.date} is before the relationship with referrer {rec.referrer_id!r} "
                    f"began on {since}"]
        return []

    def _lookup_stored(self) -> dict[str, dict]:
        """The graph's view of every id the batches define or refer to."""
        if self.lookup is None:
            return {}
        # A reference to an id the batches define is judged by that definition: not asked (a folder's
        # million referrals name its million clients; asking for them made validation 16% slower).
        defined = {rec.id for batch in self.batches if batch.kind.key == ("id",) for _, rec in batch.rows}
        wanted = set()
        for batch in self.batches:
            # A party defined here may clash with one stored of another kind; an add or a change needs
            # to know whether its id is taken.
            keyed = batch.kind.name in PARTY_KINDS or batch.mode is not None
            for _, rec in batch.rows:
                for f in REFERENCE_FIELDS:
                    v = getattr(rec, f, None)
                    if v is not None and v not in defined:
                        wanted.add(v)
                for v in getattr(rec, "covers", None) or ():
                    if v not in defined:
                        wanted.add(v)
                if keyed:
                    wanted.add(rec.id)
        wanted.discard(PRACTICE)
        found = {}
        for chunk in batched(sorted(wanted), LOOKUP_CHUNK):
            for row in self.lookup(chunk):
                found[row["id"]] = row
        return found

    # -- what the graph and the batches hold -----------------------------------------------------

    def _party_kind(self, party_id: str) -> str | None:
        """Which kind of party holds ``party_id``: defined here, else stored; None if none."""
        kind = self.parties.get(party_id)
        if kind is not None:
            return kind
        stored = self.stored.get(party_id) or {}
        if stored.get("member"):
            return stored["member"]
        if stored.get("referrer"):
            return "referrer"
        if stored.get("provider"):
            return "external_provider"
        if stored.get("merged"):
            return "merged_referrer"
        return None

    def _member_kind(self, member_id: str) -> str | None:
        kind = self._party_kind(member_id)
        return kind if kind in ("clinician", "staff") else None

    def _known_referrer(self, referrer_id: str) -> bool:
        return self._party_kind(referrer_id) == "referrer"

    def _known_client(self, client_id: str) -> bool:
        return client_id in self.clients or bool(self.stored.get(client_id, {}).get("client"))

    def _needs(self, rec, *, referrer=True, client=False) -> list[str]:
        out = []
        if referrer and not self._known_referrer(rec.referrer_id):
            out.append(_Unknown(f"unknown referrer_id {rec.referrer_id!r}"))
        if client and not self._known_client(rec.client_id):
            out.append(_Unknown(f"unknown client_id {rec.client_id!r}"))
        return out

    def _clinician(self, field: str, member_id: str) -> list[str]:
        kind = self._member_kind(member_id)
        if kind is None:
            return [_Unknown(f"unknown {field} {member_id!r}")]
        if kind != "clinician":
            return [f"{field} {member_id!r} is a staff member, not a clinician"]
        return []

    def _named_member(self, field: str, member_id: str) -> list[str]:
        return [] if self._member_kind(member_id) else [_Unknown(f"unknown {field} {member_id!r}")]

    def _words(self, batch: Batch, rec, learn: bool) -> list[str]:
        """The record's words that no vocabulary holds (when adopting, learned instead if ``learn``: the
        record is otherwise good)."""
        out = []
        for name, vocabulary, value in values_of(batch.kind.name, rec):
            if self.words.known(vocabulary, value):
                continue
            if self.adopt:
                if not learn:
                    continue
                self.words.learn(vocabulary, value)
                self.adopted.setdefault(vocabulary, []).append(value)
                continue
            close = self.words.closest(vocabulary, value)
            reason = _UnknownWord(unknown_message(batch.prefix + name, vocabulary, value, close))
            reason.word = {"field": batch.prefix + name, "value": value, "vocabulary": vocabulary,
                           "did_you_mean": close}
            out.append(reason)
        return out

    # -- one rule per kind: the reasons a record is bad, or [] ---------------------------------------

    def _id_taken(self, rec, batch: Batch, exists: bool) -> list[str]:
        """The ``mode`` rule: an add refuses an id taken by the kind, an update one that names none."""
        kind = batch.kind.name
        if batch.mode == "add" and exists:
            return [f"field 'id': {LABEL[kind]} {rec.id!r} already exists"]
        if batch.mode == "update" and not exists:
            return [_Unknown(f"field 'id': unknown {kind.replace('_', ' ')} {rec.id!r}")]
        return []

    def _party(self, rec, batch: Batch) -> list[str]:
        held_by = self._party_kind(rec.id)
        if batch.mode == "update":  # a change of a stored record: one of this kind, or none to change
            return self._id_taken(rec, batch, held_by == batch.kind.name)
        problem = party_id_problem(batch.kind.name, rec.id, held_by)
        if problem:
            return [problem]
        return self._id_taken(rec, batch, held_by == batch.kind.name)

    def _merged_referrer(self, rec, batch: Batch) -> list[str]:
        went = [] if self._known_referrer(rec.into) else [_Unknown(f"unknown into {rec.into!r} (the referrer kept)")]
        return self._party(rec, batch) + went

    def _member(self, rec, batch: Batch) -> list[str]:
        return self._party(rec, batch) + self._npi(rec, batch)

    def _client(self, rec, batch: Batch) -> list[str]:
        return self._id_taken(rec, batch, self._known_client(rec.id))

    def _referrer(self, rec, batch: Batch) -> list[str]:
        return (self._party(rec, batch) + self._clinician("point_person_id", rec.point_person_id)
                + self._npi(rec, batch))

    def _stored_handoffs(self, referrer_id: str) -> dict:
        """The handoffs stored for a referrer that these batches keep: ``{date: point person}``.

        Those are the tenures after the referrer's first, and, when the
        referrer is defined here too, after its ``since`` here (the upsert
        replaces the tenures before it and the old first one).
        """
        kept = self.tenures.get(referrer_id)
        if kept is None:
            stored = self.stored.get(referrer_id) or {}
            first = stored.get("since")
            after = self.referrers.get(referrer_id)
            kept = {}
            for t in stored.get("tenures") or ():
                since = t["since"]
                if (first is None or since > first) and (after is None or since > after):
                    kept[since] = t["point_person_id"]
            self.tenures[referrer_id] = kept
        return kept

    def _handoff(self, rec, batch: Batch) -> list[str]:
        out = self._needs(rec) + self._clinician("point_person_id", rec.point_person_id)
        rid = rec.referrer_id
        stored = self.stored.get(rid) or {}
        defined_here = rid in self.referrers
        kept = self._stored_handoffs(rid)
        if kept.get(rec.date) == rec.point_person_id:
            return out  # already stored as it is: writing it again changes nothing
        # The current tenure's start: the latest handoff (new here, else stored), else the referrer's since.
        since = self.referrers[rid] if defined_here else stored.get("since")
        start = max([d for d in (since, max(kept, default=None)) if d is not None], default=None)
        if start is not None and rec.date <= start:
            out.append(f"field 'date': {rec.date} is not after the current tenure's start {start}")
        if rid in self.handed:  # the holder now: the last new handoff's, else the last stored one's, else the first
            holder = self.holders.get(rid)
        elif kept:
            holder = kept[max(kept)]
        else:
            holder = self.holders.get(rid) if defined_here else stored.get("point_person_id")
        if holder == rec.point_person_id:
            out.append(f"field 'point_person_id': {rec.point_person_id!r} already holds the role")
        return out

    def _referral(self, rec, batch: Batch) -> list[str]:
        out = (self._needs(rec, client=True) + self._not_before(rec)
               + self._clinician("assigned_to", rec.assigned_to))
        if rec.addressed_to != PRACTICE:
            kind = self._member_kind(rec.addressed_to)
            if kind is None:
                out.append(_Unknown(f"unknown addressed_to {rec.addressed_to!r} (a member id or 'practice')"))
            elif kind == "staff" and rec.pass_reason:
                out.append("pass_reason given, but only a referral addressed to a clinician is passed")
            elif kind == "clinician" and rec.assigned_to != rec.addressed_to and not rec.pass_reason:
                out.append(f"assigned_to {rec.assigned_to!r} differs from addressed_to "
                           f"{rec.addressed_to!r}: a pass needs a pass_reason")
        return out

    def _introduction(self, rec, batch: Batch) -> list[str]:
        return (self._needs(rec) + self._not_before(rec) + self._named_member("introduced_id", rec.introduced_id)
                + self._named_member("by_id", rec.by_id) + self._duplicate("introduction", rec, batch))

    def _contact(self, rec, batch: Batch) -> list[str]:
        out = (self._needs(rec) + self._not_before(rec) + self._named_member("member_id", rec.member_id)
               + self._duplicate("contact", rec, batch))
        for referral_id in rec.covers:
            out += self._referral_of(rec.referrer_id, referral_id, "covers")
        return out

    def _task(self, rec, batch: Batch) -> list[str]:
        out = self._needs(rec)
        if rec.assigned_to is not None:
            out += self._named_member("assigned_to", rec.assigned_to)
        if rec.referral_id is not None:
            out += self._referral_of(rec.referrer_id, rec.referral_id, "referral_id")
        return out

    def _known_referral(self, referral_id: str) -> tuple | None:
        """``(referrer, date)`` of a referral defined here or stored, or None."""
        here = self.referrals.get(referral_id)
        if here is not None:
            return here
        stored = self.stored.get(referral_id) or {}
        return (stored["referral_referrer"], stored["referral_date"]) if stored.get("referral") else None

    def _referral_of(self, referrer_id: str, referral_id: str, field: str) -> list[str]:
        known = self._known_referral(referral_id)
        if known is None:
            return [_Unknown(f"unknown {field} {referral_id!r}")]
        if known[0] != referrer_id:
            return [f"{field} {referral_id!r} is a referral of referrer {known[0]!r}, not of {referrer_id!r}"]
        return []

    def _statuses_of(self, referral_id: str) -> dict:
        """The statuses a referral has: stored, then the ones accepted here."""
        found = self.statuses.get(referral_id)
        if found is None:
            stored = (self.stored.get(referral_id) or {}).get("statuses") or {}
            found = self.statuses[referral_id] = {k: v for k, v in stored.items() if v is not None}
        return found

    def _referral_status(self, rec, batch: Batch) -> list[str]:
        known = self._known_referral(rec.referral_id)
        if known is None:
            return [_Unknown(f"unknown referral_id {rec.referral_id!r}")]
        statuses = self._statuses_of(rec.referral_id)
        if statuses.get(rec.status) == rec.date:
            return []  # already stored as it is: writing it again changes nothing
        problem = status_problem(known[1], statuses, rec.status, rec.date)
        return [problem] if problem else []

    def _referral_out(self, rec, batch: Batch) -> list[str]:
        out = self._needs(rec, client=True) + self._not_before(rec)
        niches = self.providers.get(rec.provider_id)
        if niches is None and self._party_kind(rec.provider_id) == "external_provider":
            niches = self.stored[rec.provider_id]["niches"] or []
        if niches is None:
            out.append(_Unknown(f"unknown provider_id {rec.provider_id!r}"))
        elif rec.niche not in niches:
            out.append(f"niche {rec.niche!r} is not one of provider {rec.provider_id!r}'s niches "
                       f"({';'.join(niches) or 'none'})")
        return out
