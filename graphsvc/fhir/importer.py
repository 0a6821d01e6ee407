"""``graphsvc import PATH --format fhir``: a FHIR R4 export (a Bundle, or Bulk Data NDJSON) into the graph.

``graphsvc.fhir.reading`` reads the resources; this module turns them into
graphsvc's records (``graphsvc.records``), one ``checks.Batch`` per kind, and
hands them to ``Service.import_batches``, the one import path: every record
is checked against the graph and the vocabularies, nothing is written when
anything is refused, writes are idempotent upserts, and the import is
audited. Each record keeps the resource it came from, so every problem names
the file and line (NDJSON) or ``entry N`` (Bundle) and ``Type/id``.

What becomes what (systems and tables: ``graphsvc.fhir.mapping``):

- **The practice** is the Organization whose NPI is the setting
  ``practice.npi`` (``GRAPHSVC_PRACTICE_NPI``), or that carries a
  ``PRACTICE_SYSTEM`` identifier.
- **Members**: a PractitionerRole whose ``organization`` is the practice makes
  its Practitioner a clinician, or a staff member when its code
  (``MEMBER_ROLE_SYSTEM``) names a staff role. Its id: a ``MEMBER_SYSTEM``
  identifier (graphsvc's own export: the member is written whole, with the
  attributes of the extensions and ``specialty`` in ``NEED_SYSTEM``); else
  the member stored with its NPI (referred to, not rewritten); else
  ``fhir-`` and the Practitioner's id (written when not stored yet; a member
  stored under that id is referred to, not rewritten, so another system's
  export never wipes the attributes kept in graphsvc).
- **Referrals**: a ServiceRequest whose ``performer`` names a practice
  clinician (by reference, NPI or ``MEMBER_SYSTEM``) is a referral addressed
  to that clinician (or to that staff member: graphsvc's referrals may be
  addressed to an intake coordinator, and are then assigned as one to the
  practice); one naming the practice's Organization is addressed to
  ``practice``. Its date is ``authoredOn``, its id a ``REFERRAL_SYSTEM``
  identifier else ``fhir-`` and the resource's id. ``assigned_to`` is the
  owner of its latest Task whose owner is a clinician (another clinician
  than the one addressed: a pass, its reason from ``statusReason`` in
  ``PASS_REASON_SYSTEM``, else ``other``), else the clinician addressed; a
  referral to the practice (or a staff member) that names no clinician
  anywhere is skipped.
  Statuses ``draft`` and ``entered-in-error`` are skipped; so is a request
  whose performer is elsewhere (or missing), whose subject Patient is not
  in the export, or whose requester is the practice or one of its members
  (a referral inside the practice has no referrer). The Tasks of a request
  that made no referral are skipped too. Every skip is counted with its
  reason, and so are the resources read that nothing made uses. ``consent_to_update`` from graphsvc's consent extension,
  else ``unknown``.
- **Referrals out**: a ServiceRequest whose performer is an Organization
  other than the practice (with a ``PROVIDER_SYSTEM`` identifier, or any
  other) and whose reasonCode holds a ``NICHE_SYSTEM`` code. Its outside
  provider: the ``PROVIDER_SYSTEM`` id, else ``fhir-`` and the
  Organization's id, created (name, the niches it is referred for here) when
  not stored.
- **Referrers** (a request's ``requester``: Practitioner, PractitionerRole or
  Organization): a ``REFERRER_SYSTEM`` identifier, else the referrer stored
  with its NPI, else the one stored under its derived id (``fhir-`` and the
  resource's id) are referred to as they are. Otherwise one is created: its
  name from the Practitioner (``text``, else given and family names) or the
  Organization, its organization the name of the role's Organization, its
  kind from the role's codes (``code``, then ``specialty``) through the
  role-kind table (``other`` when unknown), its point person from the
  point-person extension else the clinician of its earliest referral
  (addressed, or assigned when to the practice), its ``since`` the role's
  ``period.start`` else that referral's date, and its NPI. A Practitioner
  named alone takes the role of the first PractitionerRole of it in the
  export (outside the practice).
- **Clients**: the ``subject`` Patient's pseudonymous id
  (``graphsvc.fhir.pseudonym``). A new client's needs are the union of its
  referrals' reason codes mapped through the reason-need table (and the codes
  of the Conditions its ``reasonReference`` names, when in the export); a
  client already stored is referred to, not rewritten. A reason (a
  CodeableConcept) none of whose codings maps is counted and listed by
  ``system|code``, never stored; no text of a request is ever stored.
- **Statuses**: each Task whose ``focus`` is a referral's ServiceRequest
  gives a status (``mapping.referral_status``: ``businessStatus`` in
  ``STATUS_SYSTEM`` exactly, else ``status`` through the table), dated by
  its ``lastModified``, else ``authoredOn``, else the referral's date. A Task
  of ``entered-in-error`` is skipped; one that gives no status (still
  received) records nothing.

Nothing of a Patient but what keys its pseudonym is read, and that only into
the keyed hash; no message or log line quotes a Patient.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import re
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ..checks import Batch, Problem
from ..csvio.importer import ImportRejected
from ..errors import InvalidInput
from ..limits import ID_MAX, ID_PATTERN, shown
from ..records import KIND, explain
from ..vocabulary import PASS_REASONS, PRACTICE, STAFF_ROLES
from . import mapping as m
from .pseudonym import client_id_key, client_id_of
from .reading import Origin, Resources, read_export

log = logging.getLogger(__name__)

CONSENT_EXTENSION = m.EXTENSION + "consent-to-update"  # as graphsvc's export writes it (valueCode yes / no)
DERIVED_PREFIX = "fhir-"
_ID = re.compile(ID_PATTERN)
# The batches in write order: (batch name, record kind).
BATCHES = (("clinicians", "clinician"), ("staff", "staff"), ("external_providers", "external_provider"),
           ("clients", "client"), ("referrers", "referrer"), ("referrals", "referral"),
           ("referral_statuses", "referral_status"), ("referrals_out", "referral_out"))


@dataclass
class FhirCounts:
    """What the import read and what became of it (the summary's FHIR part)."""

    read: dict = field(default_factory=dict)              # resources read, by type
    ignored: dict = field(default_factory=dict)           # resources of types not used, by type
    became: Counter = field(default_factory=Counter)      # records made, by kind
    skipped: Counter = field(default_factory=Counter)     # "Type: why" -> resources skipped
    unmapped_reasons: Counter = field(default_factory=Counter)  # "system|code" -> times
    referrers: Counter = field(default_factory=Counter)   # created / matched
    members: Counter = field(default_factory=Counter)     # created / written / matched
    clients: Counter = field(default_factory=Counter)     # created / matched
    # resources read that nothing made uses (a Practitioner neither member nor requester, ...), by type
    unused: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"read": dict(sorted(self.read.items())), "ignored": dict(sorted(self.ignored.items())),
                "unused": dict(sorted(self.unused.items())),
                "became": dict(sorted(self.became.items())), "skipped": dict(sorted(self.skipped.items())),
                "unmapped_reasons": dict(self.unmapped_reasons.most_common()),
                "referrers": dict(sorted(self.referrers.items())), "members": dict(sorted(self.members.items())),
                "clients": dict(sorted(self.clients.items()))}


# -- small readers of FHIR elements ----------------------------------------------------------------


def _list(value) -> list:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _identifiers(resource: dict | None) -> list[tuple[str, str]]:
    return [(i["system"], i["value"]) for i in _list((resource or {}).get("identifier"))
            if isinstance(i.get("system"), str) and isinstance(i.get("value"), str)]


def _ident(resource: dict | None, system: str) -> str | None:
    return next((v for s, v in _identifiers(resource) if s == system), None)


def _codings(concepts) -> list[tuple[str, str]]:
    """(system, code) of every coding of a CodeableConcept or a list of them."""
    concepts = [concepts] if isinstance(concepts, dict) else _list(concepts)
    return [(c.get("system"), c.get("code")) for concept in concepts for c in _list(concept.get("coding"))
            if isinstance(c.get("system"), str) and isinstance(c.get("code"), str)]


def _code_in(concepts, system: str) -> str | None:
    return next((c for s, c in _codings(concepts) if s == system), None)


def _extensions(resource: dict, url: str) -> list[dict]:
    return [e for e in _list(resource.get("extension")) if e.get("url") == url]


def _reference(ref) -> str | None:
    return ref.get("reference") if isinstance(ref, dict) and isinstance(ref.get("reference"), str) else None


def _day(value) -> str | None:
    return value[:10] if isinstance(value, str) and len(value) >= 10 else value if isinstance(value, str) else None


def _name(resource: dict) -> str:
    if "name" in resource and isinstance(resource["name"], str):  # an Organization
        return resource["name"].strip()
    names = _list(resource.get("name"))
    names.sort(key=lambda n: n.get("use") not in ("official", "usual"))
    for n in names:
        if isinstance(n.get("text"), str) and n["text"].strip():
            return n["text"].strip()
        given = [g for g in n.get("given") or [] if isinstance(g, str)]
        parts = given + ([n["family"]] if isinstance(n.get("family"), str) else [])
        if parts:
            return " ".join(parts)
    return ""


def derived_id(resource_id: str) -> str:
    """graphsvc's id for a resource that carries none of graphsvc's: ``fhir-`` and its id when that makes an id,
    else ``fhir-`` and a hash of it.

    >>> derived_id("sr1"), derived_id("a/b" * 40)
    ('fhir-sr1', 'fhir-h-60286e6939d36369a6c9')
    """
    made = DERIVED_PREFIX + resource_id
    if len(made) <= ID_MAX and _ID.match(made):
        return made
    return DERIVED_PREFIX + "h-" + hashlib.sha256(resource_id.encode()).hexdigest()[:20]


# -- the import --------------------------------------------------------------------------------------


class _Builder:
    """Turns the resources read into batches; ``origins[n - 1]`` is where record line ``n`` came from."""

    def __init__(self, res: Resources, settings, stored, npi_holders, problems: list[Problem], client_key: bytes):
        self.res = res
        self.kinds, self.needs_table = m.tables(settings)
        self.practice_npi = settings.practice_npi
        self.stored = stored          # ids -> {id: row of reads.held_by}
        self.npi_holders = npi_holders  # npis -> {npi: {"id", "kind"}}
        self.problems = problems
        self.client_key = client_key
        self.counts = FhirCounts(read=dict(res.read), ignored=dict(res.ignored))
        self.origins: list[Origin] = []
        self.batches = {name: Batch(KIND[kind], source=name) for name, kind in BATCHES}
        self.members: dict[str, tuple[str, str]] = {}   # Practitioner id -> (member id, kind)
        self.member_ids: dict[str, str] = {}            # member id -> kind (made here or stored)
        self.member_npis: dict[str, str] = {}           # NPI -> member id (made here)
        self.roles_of: dict[str, dict] = {}             # Practitioner id -> its first role outside the practice
        self.practice_orgs: set[str] = set()
        self.clients: dict[str, tuple[list, dict, Origin]] = {}  # client id -> (needs, attributes, origin)
        self.need_origins: dict[tuple[str, str], Origin] = {}  # (client id, need) -> the request that gave it
        # (record line, word) -> the resource a word of that record came from, when not the record's own
        self.word_origins: dict[tuple[int, str], Origin] = {}
        self.referrers: dict[str, dict] = {}            # referrer id -> fields to create (None: matched)
        self.providers: dict[str, dict] = {}
        self.used: set[tuple[str, str]] = set()       # (type, id) of the resources a record was made from
        self.member_answers: dict[str, str | None] | None = None  # literal reference -> member (member_of)
        self.at: Origin | None = None  # the resource being read (named when one has an element of a wrong type)

    # records
    def add(self, batch: str, origin: Origin, /, **fields) -> bool:
        kind = self.batches[batch].kind
        try:
            rec = kind.model(**fields)
        except Exception as e:  # pydantic's ValidationError: each problem named at the resource
            if not hasattr(e, "errors"):
                raise
            self.problems.extend(origin.problem(msg) for msg in explain(e))
            return False
        self.origins.append(origin)
        self.batches[batch].rows.append((len(self.origins), kind.row_type._make(rec.__dict__.values())))
        self.counts.became[kind.name] += 1
        return True

    def skip(self, kind: str, why: str) -> None:
        self.counts.skipped[f"{kind}: {why}"] += 1

    # -- the practice and its members --
    def find_practice(self) -> None:
        for rid, (org, _) in self.res.of("Organization").items():
            if self._is_practice_org(org):
                self.practice_orgs.add(rid)
                self.used.add(("Organization", rid))

    def _is_practice_org(self, org: dict | None) -> bool:
        return bool(org) and (_ident(org, m.PRACTICE_SYSTEM) is not None or (
            self.practice_npi is not None and _ident(org, m.NPI_SYSTEM) == self.practice_npi))

    def is_practice(self, ref) -> bool:
        kind, org, _ = self.res.get(_reference(ref))
        if kind == "Organization":
            return org.get("id") in self.practice_orgs
        return isinstance(ref, dict) and self._is_practice_org({"identifier": [ref.get("identifier")]})

    def read_members(self) -> None:
        for _, (role, origin) in self.res.of("PractitionerRole").items():
            self.at = origin
            if not self.is_practice(role.get("organization")):
                kind, practitioner, _ = self.res.get(_reference(role.get("practitioner")))
                if kind == "Practitioner":
                    self.roles_of.setdefault(practitioner["id"], role)
                continue
            kind, practitioner, _ = self.res.get(_reference(role.get("practitioner")))
            if kind != "Practitioner":
                self.problems.append(origin.problem("names no Practitioner of the export (practitioner)"))
                continue
            self.used.update({("PractitionerRole", role["id"]), ("Practitioner", practitioner["id"])})
            if practitioner["id"] not in self.members:
                self._member(role, practitioner, origin)

    def _member(self, role: dict, practitioner: dict, origin: Origin) -> None:
        code = _code_in(role.get("code"), m.MEMBER_ROLE_SYSTEM)
        kind = "staff" if code in STAFF_ROLES else "clinician"
        npi = _ident(practitioner, m.NPI_SYSTEM)
        own = _ident(role, m.MEMBER_SYSTEM) or _ident(practitioner, m.MEMBER_SYSTEM)
        held = self.npi_holders.get(npi) if npi else None
        if own is None and held and held["kind"] in ("clinician", "staff"):
            member_id, write = held["id"], False
        else:
            member_id = own or derived_id(practitioner["id"])
            write = own is not None or member_id not in self.stored
        self.members[practitioner["id"]] = (member_id, kind)
        self.member_ids[member_id] = kind
        if npi:
            self.member_npis[npi] = member_id
        if not write:
            self.counts.members["matched"] += 1
            return
        self.counts.members["created" if member_id not in self.stored else "written"] += 1
        fields = {"id": member_id, "name": _name(practitioner), "npi": npi}
        if kind == "staff":
            self.add("staff", origin, role=code, **fields)
            return
        values = {url: [e.get("valueCode") for e in _extensions(role, url)]
                  for url in (m.POPULATIONS_EXTENSION, m.INSURANCES_EXTENSION, m.SCHEDULE_EXTENSION)}
        accepting = [e.get("valueBoolean") for e in _extensions(role, m.ACCEPTING_EXTENSION)]
        self.add("clinicians", origin, specialties=[c for s, c in _codings(role.get("specialty"))
                                                     if s == m.NEED_SYSTEM],
                 populations=values[m.POPULATIONS_EXTENSION], insurances=values[m.INSURANCES_EXTENSION],
                 schedule=values[m.SCHEDULE_EXTENSION], accepting_new=accepting[0] if accepting else True,
                 **fields)

    def member_of(self, ref) -> str | None:
        """The member id a reference names (to a member's Practitioner or PractitionerRole, or by a logical
        identifier: MEMBER_SYSTEM, or an NPI of a member), or None.

        Answers for a literal reference are kept once the members are known (``read_requests`` on): a
        request's performer and every Task's owner name the same few members tens of thousands of times.
        """
        literal = _reference(ref)
        if literal is not None and self.member_answers is not None:
            if literal not in self.member_answers:
                self.member_answers[literal] = self._member_of(ref, literal)
            return self.member_answers[literal]
        return self._member_of(ref, literal)

    def _member_of(self, ref, literal: str | None) -> str | None:
        kind, resource, _ = self.res.get(literal)
        if kind == "PractitionerRole":
            kind, resource, _ = self.res.get(_reference(resource.get("practitioner")))
        if kind == "Practitioner":
            found = self.members.get(resource["id"])
            return found[0] if found else None
        if kind is not None or not isinstance(ref, dict) or not isinstance(ref.get("identifier"), dict):
            return None
        system, value = ref["identifier"].get("system"), ref["identifier"].get("value")
        if system == m.MEMBER_SYSTEM:
            return value
        if system == m.NPI_SYSTEM:
            held = self.member_npis.get(value)
            holder = self.npi_holders.get(value)
            return held or (holder["id"] if holder and holder["kind"] in ("clinician", "staff") else None)
        return None

    def is_clinician(self, member_id: str | None) -> bool:
        if member_id is None:
            return False
        kind = self.member_ids.get(member_id) or (self.stored.get(member_id) or {}).get("member")
        return kind == "clinician"

    # -- referrals --
    def read_requests(self) -> None:
        self.member_answers = {}  # the members are known now (read_members)
        tasks = self._tasks_by_focus()
        for rid, (sr, origin) in self.res.of("ServiceRequest").items():
            self.at = origin
            status = sr.get("status")
            if status in m.SKIPPED_REQUEST_STATUSES:
                self.skip("ServiceRequest", f"status {status}")
                continue
            client = self._client(sr.get("subject"))
            performers = [p for p in sr.get("performer") or [] if isinstance(p, dict)]
            addressed = next((mid for mid in map(self.member_of, performers) if mid), None)
            if addressed is None and any(self.is_practice(p) for p in performers):
                addressed = PRACTICE
            if addressed is None:
                provider = next((p for p in performers if self._outside_org(p)), None)
                niche = _code_in(sr.get("reasonCode"), m.NICHE_SYSTEM)
                if provider is not None and niche is not None:
                    if client is None:
                        self.skip("ServiceRequest", "its subject is not a Patient of the export")
                    else:
                        self._referral_out(sr, origin, provider, niche, client)
                    continue
                self.skip("ServiceRequest", "its performer is not the practice, a clinician of it or an "
                                            "outside provider with a niche")
                continue
            if client is None:
                self.skip("ServiceRequest", "its subject is not a Patient of the export")
                continue
            if self.member_of(sr.get("requester")) or self.is_practice(sr.get("requester")):
                self.skip("ServiceRequest", "its requester is the practice or one of its members")
                continue
            if self._referral(sr, origin, addressed, client, tasks.get(rid, [])):
                tasks.pop(rid, None)
        for found in tasks.values():  # the Tasks of requests skipped: counted too
            for _ in found:
                self.skip("Task", "its focus is a ServiceRequest that made no referral")

    def _tasks_by_focus(self) -> dict[str, list[tuple[dict, Origin]]]:
        out: dict[str, list] = {}
        for _, (task, origin) in self.res.of("Task").items():
            self.at = origin
            if task.get("status") == "entered-in-error":
                self.skip("Task", "status entered-in-error")
                continue
            kind, sr, _ = self.res.get(_reference(task.get("focus")))
            if kind != "ServiceRequest":
                self.skip("Task", "its focus is not a ServiceRequest of the export")
                continue
            out.setdefault(sr["id"], []).append((task, origin))
        for found in out.values():  # in time order, then as read
            found.sort(key=lambda t: _day(t[0].get("lastModified")) or _day(t[0].get("authoredOn")) or "")
        return out

    def _used_patient(self, sr: dict) -> None:
        ref = (_reference(sr.get("subject")) or "").rstrip("/").split("/")
        if ref[-2:-1] == ["Patient"]:
            self.used.add(("Patient", ref[-1]))

    def _client(self, subject) -> str | None:
        ref = _reference(subject)
        if ref and ref.rstrip("/").split("/")[-2:-1] == ["Patient"]:
            return self.res.patients.get(ref.rstrip("/").split("/")[-1])
        if ref is None and isinstance(subject, dict) and isinstance(subject.get("identifier"), dict):
            identifier = subject["identifier"]
            if isinstance(identifier.get("system"), str) and isinstance(identifier.get("value"), str):
                return client_id_of({"identifier": [identifier]}, self.client_key)
        return None

    def _outside_org(self, ref) -> dict | None:
        kind, org, origin = self.res.get(_reference(ref))
        if kind == "Organization" and org["id"] not in self.practice_orgs:
            return ref
        return None

    def _provider(self, org: dict, origin: Origin) -> dict:
        """An outside provider to create: name, and niches (its ``type`` in NICHE_SYSTEM, then those it is
        referred for here)."""
        provider = _ident(org, m.PROVIDER_SYSTEM) or derived_id(org["id"])
        self.used.add(("Organization", org["id"]))
        return self.providers.setdefault(provider, {
            "name": _name(org), "origin": origin,
            "niches": [c for s, c in _codings(org.get("type")) if s == m.NICHE_SYSTEM]})

    def read_own_records(self) -> None:
        """What graphsvc's own export carries beyond what its requests name: every outside provider
        (``PROVIDER_SYSTEM``) and referrer (``REFERRER_SYSTEM``) of it, even one with no request here."""
        for _, (org, origin) in self.res.of("Organization").items():
            self.at = origin
            own = _ident(org, m.PROVIDER_SYSTEM)
            if own is not None and own not in self.stored and org["id"] not in self.practice_orgs:
                self._provider(org, origin)
        for rid, (role, origin) in self.res.of("PractitionerRole").items():
            self.at = origin
            if _ident(role, m.REFERRER_SYSTEM) is not None and not self.is_practice(role.get("organization")):
                self._referrer({"reference": f"PractitionerRole/{rid}"}, origin)

    def _needs(self, sr: dict) -> list[str]:
        concepts = _list(sr.get("reasonCode"))
        for ref in _list(sr.get("reasonReference")):
            kind, condition, _ = self.res.get(_reference(ref))
            if kind == "Condition" and isinstance(condition.get("code"), dict):
                concepts.append(condition["code"])
                self.used.add((kind, condition["id"]))
        needs: list[str] = []
        for concept in concepts:
            codings = _codings(concept)
            if any(s == m.NICHE_SYSTEM for s, _ in codings):
                continue
            found = [n for n in (m.need_of(s, c, self.needs_table) for s, c in codings) if n]
            needs.extend(n for n in found if n not in needs)
            if not found:
                self.counts.unmapped_reasons.update(f"{s}|{c}" for s, c in codings)
        return needs

    def _referral(self, sr: dict, origin: Origin, addressed: str, client: str, tasks: list) -> bool:
        """Make the referral (and its statuses); False when it is skipped."""
        owner, reason = None, None
        for task, self.at in tasks:  # the latest owner; the reason given when the case passed to it
            mid = self.member_of(task.get("owner"))
            if self.is_clinician(mid):
                given = _code_in(task.get("statusReason"), m.PASS_REASON_SYSTEM)
                if mid != owner or given:
                    owner, reason = mid, given
        self.at = origin
        to_clinician = self.is_clinician(addressed)
        if not to_clinician and owner is None:
            self.skip("ServiceRequest", "to the practice, with no clinician named (no Task owner)"
                      if addressed == PRACTICE else "to a staff member, with no clinician named (no Task owner)")
            return False
        assigned = owner or addressed
        passed = to_clinician and assigned != addressed
        referrer = self._referrer(sr.get("requester"), origin)
        if referrer is None:
            return True  # (a problem said why)
        self._client_needs(client, self._needs(sr), sr, origin)
        day = _day(sr.get("authoredOn"))
        referral_id = _ident(sr, m.REFERRAL_SYSTEM) or derived_id(sr["id"])
        consent = next((e.get("valueCode") for e in _extensions(sr, CONSENT_EXTENSION)), None)
        made = self.add("referrals", origin, id=referral_id, date=day, referrer_id=referrer, client_id=client,
                        addressed_to=addressed, assigned_to=assigned,
                        pass_reason=((reason if reason in PASS_REASONS else "other") if passed else None),
                        consent_to_update=consent or "unknown")
        self._first_referral(referrer, day, addressed if to_clinician else assigned)
        if made:
            self._used_patient(sr)
            self._statuses(referral_id, day, tasks)
        return True

    def _statuses(self, referral_id: str, day, tasks: list) -> None:
        seen = set()
        for task, origin in tasks:
            self.at = origin
            status = m.referral_status(task.get("status"), _code_in(task.get("businessStatus"), m.STATUS_SYSTEM))
            if status is None or status == "received":
                if not self.is_clinician(self.member_of(task.get("owner"))):  # (else: it gave the assignment)
                    self.skip("Task", "gives no status past received and names no clinician")
                continue
            when = _day(task.get("lastModified")) or _day(task.get("authoredOn")) or day
            if (status, when) in seen:
                self.skip("Task", "repeats a status of another Task")
                continue
            seen.add((status, when))
            self.add("referral_statuses", origin, referral_id=referral_id, status=status, date=when)

    def _client_needs(self, client: str, needs: list[str], sr: dict, origin: Origin) -> None:
        """A new client's needs (in the order first met) and its population, insurance and schedule (from
        graphsvc's extensions on its requests, as graphsvc's export writes them; the first given wins)."""
        if client in self.stored:
            return
        known, attributes, _ = self.clients.setdefault(client, ([], {}, origin))
        for need in needs:
            if need not in known:
                known.append(need)
                self.need_origins[(client, need)] = origin
        for url, name in ((m.POPULATIONS_EXTENSION, "population"), (m.INSURANCES_EXTENSION, "insurance"),
                          (m.SCHEDULE_EXTENSION, "schedule")):
            value = next((e.get("valueCode") for e in _extensions(sr, url)), None)
            if value is not None:
                attributes.setdefault(name, value)

    def _referral_out(self, sr: dict, origin: Origin, ref, niche: str, client: str) -> None:
        _, org, org_origin = self.res.get(_reference(ref))
        provider = _ident(org, m.PROVIDER_SYSTEM) or derived_id(org["id"])
        if provider not in self.stored:
            made = self._provider(org, org_origin)
            if niche not in made["niches"]:
                made["niches"].append(niche)
        referrer = self._referrer(sr.get("requester"), origin)
        if referrer is None:
            return
        self._client_needs(client, self._needs(sr), sr, origin)
        day = _day(sr.get("authoredOn"))
        if self.add("referrals_out", origin, id=_ident(sr, m.REFERRAL_OUT_SYSTEM) or derived_id(sr["id"]),
                    date=day, referrer_id=referrer, client_id=client, provider_id=provider, niche=niche):
            self._used_patient(sr)
        self._first_referral(referrer, day, None)

    # -- referrers --
    def _referrer(self, ref, origin: Origin) -> str | None:
        """The referrer id of a request's requester (matched, or to be created), or None (a problem said)."""
        kind, resource, where = self.res.get(_reference(ref))
        role = None
        if kind == "PractitionerRole":
            role = resource
            kind, resource, _ = self.res.get(_reference(role.get("practitioner")))
            if kind is None:  # a role naming no Practitioner of the export: the role is the referrer
                kind, resource = "PractitionerRole", role
        elif kind == "Practitioner":
            role = self.roles_of.get(resource["id"])
        if kind is None:
            return self._logical_referrer(ref, origin)
        self.used.add((kind, resource["id"]))
        if role is not None:
            self.used.add(("PractitionerRole", role["id"]))
            okind, org, _ = self.res.get(_reference(role.get("organization")))
            if okind == "Organization":
                self.used.add((okind, org["id"]))
        own = _ident(resource, m.REFERRER_SYSTEM) or _ident(role, m.REFERRER_SYSTEM)
        npi = _ident(resource, m.NPI_SYSTEM) or _ident(role, m.NPI_SYSTEM)
        referrer_id = own or self._stored_referrer(npi) or derived_id(resource["id"])
        if referrer_id in self.referrers:
            return referrer_id
        if referrer_id in self.stored or (own is None and self._stored_referrer(npi)):
            self.referrers[referrer_id] = None
            self.counts.referrers["matched"] += 1
            return referrer_id
        request_at, self.at = self.at, where  # (a wrong type below is the referrer's resource's, not the request's)
        org_name = ""
        if role is not None:
            okind, org, _ = self.res.get(_reference(role.get("organization")))
            display = (role.get("organization") or {}).get("display") if isinstance(
                role.get("organization"), dict) else None
            org_name = _name(org) if okind == "Organization" else (display if isinstance(display, str) else "")
        point = next((self.member_of(e.get("valueReference"))
                      for e in _extensions(role or {}, m.POINT_PERSON_EXTENSION)), None)
        self.referrers[referrer_id] = {
            "id": referrer_id, "name": _name(resource), "npi": npi,
            "kind": m.referrer_kind(_codings((role or {}).get("code")) + _codings((role or {}).get("specialty")),
                                    self.kinds),
            "organization": org_name if kind != "Organization" else "",
            "point_person_id": point, "since": _day(((role or {}).get("period") or {}).get("start")),
            "origin": where, "first": None, "point_first": None}
        self.counts.referrers["created"] += 1
        self.at = request_at
        return referrer_id

    def _stored_referrer(self, npi: str | None) -> str | None:
        held = self.npi_holders.get(npi) if npi else None
        return held["id"] if held and held["kind"] == "referrer" else None

    def _logical_referrer(self, ref, origin: Origin) -> str | None:
        identifier = ref.get("identifier") if isinstance(ref, dict) else None
        system = identifier.get("system") if isinstance(identifier, dict) else None
        value = identifier.get("value") if isinstance(identifier, dict) else None
        found = value if system == m.REFERRER_SYSTEM else self._stored_referrer(value) if system == m.NPI_SYSTEM \
            else None
        if found is None:
            self.problems.append(origin.problem(
                "requester: names no Practitioner, PractitionerRole or Organization of the export, "
                "nor a referrer stored (by NPI or graphsvc's id)"))
            return None
        if found not in self.referrers:
            self.referrers[found] = None
            self.counts.referrers["matched"] += 1
        return found

    def _first_referral(self, referrer_id: str, day, clinician: str | None) -> None:
        """Note a referral (out) of a referrer to be created: the earliest gives its since, the earliest naming a
        clinician its point person."""
        made = self.referrers.get(referrer_id)
        if made is None or not isinstance(day, str):
            return
        if made["first"] is None or day < made["first"]:
            made["first"] = day
        if clinician is not None and (made["point_first"] is None or day < made["point_first"][0]):
            made["point_first"] = (day, clinician)

    # -- the records made last: clients, referrers, providers (written before the referrals) --
    def finish(self) -> None:
        for kind in ("Practitioner", "PractitionerRole", "Organization", "Patient", "Condition"):
            used = sum(1 for t, _ in self.used if t == kind)
            if self.res.read[kind] > used:
                self.counts.unused[kind] = self.res.read[kind] - used
        for client, (needs, attributes, origin) in self.clients.items():
            if self.add("clients", Origin(origin.source, origin.line, f"{origin.ref} (subject)"), id=client,
                        needs=needs, **attributes):
                line = len(self.origins)
                for need in needs:
                    given = self.need_origins[(client, need)]
                    self.word_origins[(line, need)] = Origin(given.source, given.line, f"{given.ref} (subject)")
            self.counts.clients["created"] += 1
        matched = len({c for c in self.res.patients.values() if c in self.stored})
        if matched:
            self.counts.clients["matched"] = matched
        for provider, made in self.providers.items():
            self.add("external_providers", made["origin"], id=provider, name=made["name"], niches=made["niches"])
        for made in self.referrers.values():
            if made is None:
                continue
            first, point_first = made.pop("first"), made.pop("point_first")
            origin = made.pop("origin")
            point = made["point_person_id"] or (point_first[1] if point_first else None)
            if point is None:
                self.problems.append(origin.problem("no clinician to be this referrer's point person (none "
                                                    "of its referrals names one, nor the point-person extension)"))
                continue
            self.add("referrers", origin, **{**made, "point_person_id": point,
                                             "since": made["since"] or first})


def _lookups(graph, res: Resources) -> tuple[dict, dict]:
    """What the graph holds under the ids the export may name (``reads.held_by``), and who holds its NPIs."""
    from ..store import reads

    ids, npis = set(res.patients.values()), set()
    for kind in ("Practitioner", "PractitionerRole", "Organization"):
        for rid, (resource, _) in res.of(kind).items():
            ids.add(derived_id(rid))
            for system, value in _identifiers(resource):
                if system in (m.MEMBER_SYSTEM, m.REFERRER_SYSTEM, m.PROVIDER_SYSTEM):
                    ids.add(value)
                elif system == m.NPI_SYSTEM:
                    npis.add(value)
    for kind, elements in (("ServiceRequest", ("performer", "requester")), ("Task", ("owner",))):
        for _, (resource, _) in res.of(kind).items():
            refs = [resource.get(e) for e in elements]
            refs = [r for ref in refs for r in (ref if isinstance(ref, list) else [ref]) if isinstance(r, dict)]
            for ref in refs:
                identifier = ref.get("identifier")
                if isinstance(identifier, dict) and isinstance(identifier.get("value"), str):
                    (npis if identifier.get("system") == m.NPI_SYSTEM else ids).add(identifier["value"])
    holders = {row["npi"]: row for row in reads.npi_holders(graph, sorted(npis))} if npis else {}
    ids |= {row["id"] for row in holders.values()}
    stored = {row["id"]: row for row in reads.held_by(graph, sorted(ids))} if ids else {}
    return stored, holders


def _audited(counts: FhirCounts) -> dict:
    """The counts as the audit log keeps them: the unmapped codes and the ignored types only as numbers (their
    text came from the export: a local code system may carry free text, and the audit log is kept for years;
    the command's own summary lists them)."""
    kept = counts.as_dict()
    kept["unmapped_reasons"] = sum(counts.unmapped_reasons.values())
    kept["ignored"] = sum(counts.ignored.values())
    return kept


@contextmanager
def _collector_paused():
    """Python's cycle collector off while an export is read into records: they are hundreds of thousands of
    small dicts and tuples that form no cycles, and the collector's passes over them were two thirds of the
    reading (measured on the demo's export: read 2.6 s -> 0.9 s, records 2.6 s -> 1.7 s). On again after,
    whatever happens."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def read_batches(graph, path: str | Path, problems: list[Problem], *, settings=None
                 ) -> tuple[dict[str, Batch], list[Origin], FhirCounts, dict]:
    """The export at ``path`` as batches for ``Service.import_batches``, where each record came from (record
    line ``n``: ``origins[n - 1]``), the counts of what became what, and where a client's words came from."""
    settings = settings or graph.settings
    key = client_id_key(settings)
    with _collector_paused():
        res = read_export(path, problems, key)
        stored, holders = _lookups(graph, res)
        b = _Builder(res, settings, stored, holders, problems, key)
        try:
            b.find_practice()
            b.read_members()
            b.read_requests()
            b.read_own_records()
            b.finish()
        except (TypeError, AttributeError, KeyError) as e:
            # The readers expect FHIR's types (a list where FHIR has an array, ...); a resource that breaks
            # that is named, with the import refused whole, rather than a traceback.
            where = f"{b.at.source}{':' + str(b.at.line) if b.at.line else ''}: {b.at.ref}" if b.at else str(path)
            raise InvalidInput(f"{where}: an element is not of the type FHIR gives it ({type(e).__name__}: "
                               f"{shown(str(e))[1:-1]}); nothing was written") from None
    return ({name: batch for name, batch in b.batches.items() if batch.rows}, b.origins, b.counts,
            b.word_origins)


def explainer(origins: list[Origin], batches: dict[str, Batch], word_origins: dict | None = None):
    """``explain=`` for ``Service.import_batches``: each problem the checks found at a record (its batch and
    record line) named at the resource the record came from instead (for a word of a client's needs, the
    request that gave it: ``word_origins``)."""
    names = set(batches)
    word_origins = word_origins or {}

    def explain_all(problems: list[Problem]) -> list[Problem]:
        out = []
        for p in problems:
            if p.source in names and isinstance(p.line, int) and 0 < p.line <= len(origins):
                origin = word_origins.get((p.line, p.word.get("value"))) if p.word else None
                out.append((origin or origins[p.line - 1]).problem(_renamed(p.message, origins), unknown=p.unknown,
                                                       word=p.word))
            else:
                out.append(p)
        return out

    def _renamed(message: str, origins: list[Origin]) -> str:
        # "(clinicians line 3)": a record the checks name by its batch and line, named by its resource.
        def where(match):
            o = origins[int(match.group(2)) - 1] if 0 < int(match.group(2)) <= len(origins) else None
            return f"({o.ref} at {o.source}{':' + str(o.line) if o.line else ''})" if o else match.group(0)

        return re.sub(r"\((" + "|".join(map(re.escape, names)) + r") line (\d+)\)", where, message) if names \
            else message

    return explain_all


def problem_order(problem: Problem) -> tuple:
    """Problems by file (and a Bundle's entries in order: ``entry 9`` before ``entry 10``), then by line.

    >>> [str(p) for p in sorted([Problem("b.json entry 10", None, "x"), Problem("Task.ndjson", 2, "y"),
    ...                          Problem("b.json entry 9", None, "z"), Problem("Task.ndjson", 1, "w")],
    ...                         key=problem_order)]
    ['Task.ndjson:1: w', 'Task.ndjson:2: y', 'b.json entry 9: z', 'b.json entry 10: x']
    """
    source = problem.source or ""
    return [(int(part) if part.isdigit() else part) for part in re.split(r"(\d+)", source)], problem.line or 0


def import_fhir(graph, path: str | Path, *, by, settings=None, skip_bad: bool = False, add_values: bool = False,
                batch_size: int | None = None, workers: int | None = None, progress=None, on_total=None,
                service=None):
    """Import the FHIR export at ``path`` (a Bundle file, or a folder of NDJSON files): ``(report, counts)``,
    the ``ImportReport`` of ``Service.import_batches`` and the ``FhirCounts``. Raises ``ImportRejected``
    (nothing written) when anything is refused, unless ``skip_bad``."""
    import time

    from ..service import Service

    started = time.perf_counter()
    problems: list[Problem] = []
    batches, origins, counts, word_origins = read_batches(graph, path, problems, settings=settings)
    service = service or Service(graph, graph.settings.analysis)
    log.info("fhir import %s: %s resources read, %s ignored", path, sum(counts.read.values()),
             sum(counts.ignored.values()))
    try:
        report = service.import_batches(batches, problems, source=path, by=by, skip_bad=skip_bad,
                                        add_values=add_values, batch_size=batch_size, workers=workers,
                                        progress=progress, on_total=on_total, started=started,
                                        explain=explainer(origins, batches, word_origins), order=problem_order,
                                        audit_detail={"format": "fhir", "fhir": _audited(counts)})
    except ImportRejected as e:
        e.detail = counts  # what was read, for the summary of a refused import
        raise
    return report, counts


def summary(report, counts: FhirCounts) -> str:
    """The text summary: records written per kind, then what the resources became and what was skipped."""
    width = max([len(n) for n in report.files] + [5])
    lines = [f"  {name:<{width}}  {c.written:>9,}" + (f"  ({c.bad} bad)" if c.bad else "")
             for name, c in report.files.items()]
    lines.append(f"  {'total':<{width}}  {report.written:>9,} records written in {report.seconds:.1f}s")
    lines.append("read: " + (", ".join(f"{n} {t}" for t, n in sorted(counts.read.items())) or "nothing"))
    if counts.ignored:
        lines.append("ignored: " + ", ".join(f"{n} {t}" for t, n in sorted(counts.ignored.items())))
    if counts.unused:
        lines.append("read, but nothing made uses: "
                     + ", ".join(f"{n} {t}" for t, n in sorted(counts.unused.items())))
    for what in ("members", "referrers", "clients"):
        found = getattr(counts, what)
        if found:
            lines.append(f"{what}: " + ", ".join(f"{n} {k}" for k, n in sorted(found.items())))
    for why, n in sorted(counts.skipped.items()):
        lines.append(f"skipped {n} {why}")
    if counts.unmapped_reasons:
        lines.append("reason codes no need maps (not stored): "
                     + ", ".join(f"{code} ({n})" for code, n in counts.unmapped_reasons.most_common()))
    return "\n".join(lines)
