"""graphsvc's records as FHIR R4 resources (R4B-valid): the pure core of ``graphsvc export --format fhir``.

No database here: ``resources(rows)`` takes the records of each kind as plain
dicts of their CSV columns (``graphsvc.csvio.format.FILES``; values either as
the graph gives them, lists, dates and booleans, or as CSV text, ``;``-lists,
``YYYY-MM-DD``, ``true``/``false``) and gives the resources of each type,
sorted by resource id. ``graphsvc.fhir.exporter`` feeds it from the graph,
``python -m seed --format fhir`` from the CSV files it generates. Systems,
codes and extensions are ``graphsvc.fhir.mapping``'s (the importer reads the
same contract).

What becomes what:

* The practice: one ``Organization`` (id ``practice``; identifier
  ``PRACTICE_SYSTEM`` ``practice``, and ``NPI_SYSTEM`` the ``practice.npi``
  setting when set; name ``The practice``: graphsvc stores no practice name).
* A clinician or staff member: a ``Practitioner`` (identifier ``MEMBER_SYSTEM``
  id, then ``NPI_SYSTEM`` npi if any; ``name[0].text`` the stored name exactly,
  ``prefix``/``given``/``family``/``suffix`` a best guess from it) and a
  ``PractitionerRole`` of the same id (identifier ``MEMBER_SYSTEM``; practitioner;
  organization the practice; code ``MEMBER_ROLE_SYSTEM`` ``clinician`` or the
  staff role). A clinician's role also has its specialties as ``specialty``
  (one CodeableConcept each, ``NEED_SYSTEM``, in stored order), its
  populations, insurances and schedule slots as repeated ``valueCode``
  extensions (``POPULATIONS_/INSURANCES_/SCHEDULE_EXTENSION``, stored order) and
  ``accepting_new`` as ``ACCEPTING_EXTENSION`` ``valueBoolean`` (always written).
* A referrer: a ``Practitioner`` (identifier ``REFERRER_SYSTEM`` id, NPI, name)
  and a ``PractitionerRole`` of the same id (identifier ``REFERRER_SYSTEM``;
  code: one CodeableConcept, first coding ``REFERRER_KIND_SYSTEM`` kind, then
  ``mapping.KIND_CODES``' standard coding for the kinds that have one;
  ``period.start`` since; ``POINT_PERSON_EXTENSION`` ``valueReference`` to the
  point person's Practitioner). Its free-text organization is an
  ``Organization`` of its own with that exact ``name`` and no identifier, one
  per distinct text (id ``org-`` and a hash of the text), shared by every
  referrer naming the same text and referenced (with ``display`` the text)
  from the role's ``organization``; an empty organization writes none.
* An outside provider: an ``Organization`` (identifier ``PROVIDER_SYSTEM`` id;
  name; its niches as ``type``, one CodeableConcept each in ``NICHE_SYSTEM``).
* A client: a ``Patient`` carrying only ``id`` and ``identifier``
  (``CLIENT_SYSTEM``, the client id). Never anything else. The client's needs,
  population, insurance and schedule ride on its referrals (below).
* A referral: a ``ServiceRequest`` (identifier ``REFERRAL_SYSTEM`` id; status
  ``active``; intent ``order``; subject the Patient; requester the referrer's
  PractitionerRole; performer the addressed member's Practitioner, or the
  practice Organization when addressed to ``practice``; ``authoredOn`` the
  date; ``reasonCode`` the client's needs, one CodeableConcept each in
  ``NEED_SYSTEM``, stored order; extensions ``CONSENT_EXTENSION`` ``valueCode``
  when consent_to_update is yes or no (absent: unknown), and the client's
  population, insurance and schedule as one ``valueCode`` each of
  ``POPULATIONS_/INSURANCES_/SCHEDULE_EXTENSION`` when the client has them).
* A referral's progress: ``Task`` resources whose ``focus`` is its
  ServiceRequest, every one with ``businessStatus`` a coding of
  ``STATUS_SYSTEM`` (the graphsvc status exactly) and ``status``
  ``STATUS_TASKS[status]``, intent ``order``, ``for`` the Patient and ``owner``
  the assigned member's Practitioner. One ``received`` Task per referral (the
  assignment: authoredOn and lastModified the referral's date, and, when it
  was passed, ``statusReason`` ``PASS_REASON_SYSTEM`` the pass reason), then one
  per recorded status (referral_statuses: authoredOn and lastModified its date).
* A referral out: a ``ServiceRequest`` (identifier ``REFERRAL_OUT_SYSTEM`` id;
  status ``active``, intent ``order``; subject the Patient; requester the
  referrer's PractitionerRole; performer the provider's Organization;
  ``authoredOn`` the date; ``reasonCode`` first the niche in ``NICHE_SYSTEM``,
  then the client's needs in ``NEED_SYSTEM``, and the client's population,
  insurance and schedule as on a referral, so a client referred only out
  keeps them).
* Voided referrals and referrals out (withdrawn by a manager) are not
  written, nor the Tasks of a voided referral: they are counted in
  ``skipped``. Handoffs, merged referrers, introductions, contacts, worklist
  tasks and vocabulary terms have no FHIR form here.

Every reference to a graphsvc record carries, beside ``reference``, the
record's ``identifier`` (so a reader need not resolve it); organizations' carry
``display`` their name too.

Resource ids are deterministic and valid FHIR ids (``[A-Za-z0-9.-]{1,64}``):
a prefix naming what the resource is, ``.``, then the graphsvc id with ``-``
written ``--``, ``_`` ``-u``, ``:`` ``-c`` and ``.`` ``-d`` (``member.cn1``,
``referrer.rf-u7``); several ids are joined with ``.`` (``status.r1.contacted``);
when that is longer than 64 characters the id is the prefix, ``-`` and 32 hex
digits of the SHA-256 of the long form. Distinct records never share an id.
The graphsvc id itself travels in the identifier.

>>> resource_id("member", "cn_1:a.b-c")
'member.cn-u1-ca-db--c'
>>> resource_id("status", "r1", "contacted"), len(resource_id("referral", "r" * 64))
('status.r1.contacted', 41)
>>> human_name("Dr. Theo Collins")
{'text': 'Dr. Theo Collins', 'family': 'Collins', 'given': ['Theo'], 'prefix': ['Dr.']}
>>> human_name("Ana Ruiz, LCSW")
{'text': 'Ana Ruiz, LCSW', 'family': 'Ruiz', 'given': ['Ana'], 'suffix': ['LCSW']}
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date

from . import mapping as m

PRACTICE_NAME = "The practice"
PRACTICE_RESOURCE_ID = "practice"
PRACTICE_VALUE = "practice"  # the practice's identifier value (PRACTICE_SYSTEM), and referrals' addressed_to

# The resource types written, in the order of their files.
TYPES = ("Organization", "Practitioner", "PractitionerRole", "Patient", "ServiceRequest", "Task")

# The record kinds read, and their columns (as ``graphsvc.records``).
KINDS = ("clinician", "staff", "referrer", "client", "external_provider", "referral", "referral_status",
         "referral_out")

_ESCAPES = {"-": "--", "_": "-u", ":": "-c", ".": "-d"}
_HONORIFICS = frozenset({"dr", "mr", "mrs", "ms", "mx", "miss", "prof", "rev", "reverend", "rabbi", "father",
                         "pastor", "imam", "sister", "brother", "fr", "sr"})
ID_MAX = 64


def resource_id(prefix: str, *ids: str) -> str:
    """The FHIR id of the resource ``prefix`` names for the graphsvc ``ids`` (see the module docstring)."""
    text = ".".join([prefix, *("".join(_ESCAPES.get(c, c) for c in str(i)) for i in ids)])
    if len(text) <= ID_MAX:
        return text
    return f"{prefix}-{hashlib.sha256(text.encode('utf-8')).hexdigest()[:32]}"


def organization_id(name: str) -> str:
    """The id of the Organization a referrer's free-text organization becomes: one per distinct text."""
    return f"org-{hashlib.sha256(name.encode('utf-8')).hexdigest()[:32]}"


def human_name(text: str) -> dict:
    """A HumanName: ``text`` exactly, and a best guess at its parts (leading honorifics as ``prefix``, what
    follows a comma as ``suffix``, the last word as ``family``, the others as ``given``)."""
    out: dict = {"text": text}
    main, *suffixes = [part.strip() for part in text.split(",")]
    words = main.split()
    prefixes = []
    while len(words) > 1 and words[0].rstrip(".").lower() in _HONORIFICS:
        prefixes.append(words.pop(0))
    if words:
        out["family"] = words[-1]
    if len(words) > 1:
        out["given"] = words[:-1]
    if prefixes:
        out["prefix"] = prefixes
    suffixes = [s for s in suffixes if s]
    if suffixes:
        out["suffix"] = suffixes
    return out


# -- values as either the graph or a CSV file gives them ----------------------------------------------


def _list(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(";") if part.strip()]
    return [str(v) for v in value]


def _text(value) -> str | None:
    """A value as text, None when missing or empty."""
    if value is None:
        return None
    if isinstance(value, date):
        return value.isoformat()
    value = str(value)
    return value if value.strip() else None


def _flag(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() != "false" if value.strip() else True
    return True if value is None else bool(value)


# -- small pieces -------------------------------------------------------------------------------------


def _identifier(system: str, value: str) -> dict:
    return {"system": system, "value": value}


def _concept(system: str, code: str, display: str | None = None) -> dict:
    coding = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return {"coding": [coding]}


def _ref(resource_type: str, rid: str, identifier: dict | None = None, display: str | None = None) -> dict:
    out: dict = {"reference": f"{resource_type}/{rid}"}
    if identifier is not None:
        out["identifier"] = identifier
    if display is not None:
        out["display"] = display
    return out


def member_ref(member_id: str) -> dict:
    """A reference to a clinician's or staff member's Practitioner."""
    return _ref("Practitioner", resource_id("member", member_id), _identifier(m.MEMBER_SYSTEM, member_id))


def referrer_role_ref(referrer_id: str) -> dict:
    return _ref("PractitionerRole", resource_id("referrer", referrer_id), _identifier(m.REFERRER_SYSTEM, referrer_id))


def patient_ref(client_id: str) -> dict:
    return _ref("Patient", resource_id("client", client_id), _identifier(m.CLIENT_SYSTEM, client_id))


def practice_ref() -> dict:
    return _ref("Organization", PRACTICE_RESOURCE_ID, _identifier(m.PRACTICE_SYSTEM, PRACTICE_VALUE), PRACTICE_NAME)


def _identifiers(system: str, value: str, npi) -> list[dict]:
    out = [_identifier(system, value)]
    npi = _text(npi)
    if npi:
        out.append(_identifier(m.NPI_SYSTEM, npi))
    return out


def _codes(url: str, values: Iterable[str]) -> list[dict]:
    return [{"url": url, "valueCode": v} for v in values]


# -- the resources of each kind -------------------------------------------------------------------------


def practice(npi: str | None = None) -> dict:
    return {"resourceType": "Organization", "id": PRACTICE_RESOURCE_ID,
            "identifier": _identifiers(m.PRACTICE_SYSTEM, PRACTICE_VALUE, npi), "active": True,
            "name": PRACTICE_NAME}


def _practitioner(rid: str, system: str, row: dict) -> dict:
    return {"resourceType": "Practitioner", "id": rid, "identifier": _identifiers(system, row["id"], row.get("npi")),
            "active": True, "name": [human_name(row["name"])]}


def clinician(row: dict) -> list[dict]:
    rid = resource_id("member", row["id"])
    role: dict = {"resourceType": "PractitionerRole", "id": rid}
    extension = (_codes(m.POPULATIONS_EXTENSION, _list(row.get("populations")))
                 + _codes(m.INSURANCES_EXTENSION, _list(row.get("insurances")))
                 + _codes(m.SCHEDULE_EXTENSION, _list(row.get("schedule")))
                 + [{"url": m.ACCEPTING_EXTENSION, "valueBoolean": _flag(row.get("accepting_new"))}])
    role["extension"] = extension
    role.update({"identifier": [_identifier(m.MEMBER_SYSTEM, row["id"])], "active": True,
                 "practitioner": member_ref(row["id"]), "organization": practice_ref(),
                 "code": [_concept(m.MEMBER_ROLE_SYSTEM, "clinician")]})
    specialties = _list(row.get("specialties"))
    if specialties:
        role["specialty"] = [_concept(m.NEED_SYSTEM, s) for s in specialties]
    return [_practitioner(rid, m.MEMBER_SYSTEM, row), role]


def staff(row: dict) -> list[dict]:
    rid = resource_id("member", row["id"])
    role = {"resourceType": "PractitionerRole", "id": rid, "identifier": [_identifier(m.MEMBER_SYSTEM, row["id"])],
            "active": True, "practitioner": member_ref(row["id"]), "organization": practice_ref(),
            "code": [_concept(m.MEMBER_ROLE_SYSTEM, str(row["role"]))]}
    return [_practitioner(rid, m.MEMBER_SYSTEM, row), role]


def referrer(row: dict) -> list[dict]:
    """The referrer's Practitioner and PractitionerRole, and the Organization of its organization if any
    (the same resource for every referrer naming the same text)."""
    rid = resource_id("referrer", row["id"])
    kind = str(row["kind"])
    code = _concept(m.REFERRER_KIND_SYSTEM, kind)
    if kind in m.KIND_CODES:
        system, standard, display = m.KIND_CODES[kind]
        code["coding"].append({"system": system, "code": standard, "display": display})
    role: dict = {"resourceType": "PractitionerRole", "id": rid}
    if _text(row.get("point_person_id")):
        role["extension"] = [{"url": m.POINT_PERSON_EXTENSION, "valueReference": member_ref(row["point_person_id"])}]
    role.update({"identifier": [_identifier(m.REFERRER_SYSTEM, row["id"])], "active": True})
    since = _text(row.get("since"))
    if since:
        role["period"] = {"start": since}
    role["practitioner"] = _ref("Practitioner", rid, _identifier(m.REFERRER_SYSTEM, row["id"]))
    out = [_practitioner(rid, m.REFERRER_SYSTEM, row), role]
    organization = row.get("organization") or ""
    if organization.strip():
        oid = organization_id(organization)
        role["organization"] = _ref("Organization", oid, display=organization)
        out.append({"resourceType": "Organization", "id": oid, "name": organization})
    role["code"] = [code]
    return out


def external_provider(row: dict) -> dict:
    out = {"resourceType": "Organization", "id": resource_id("provider", row["id"]),
           "identifier": [_identifier(m.PROVIDER_SYSTEM, row["id"])], "active": True}
    niches = _list(row.get("niches"))
    if niches:
        out["type"] = [_concept(m.NICHE_SYSTEM, n) for n in niches]
    out["name"] = row["name"]
    return out


def client(row: dict) -> dict:
    """A Patient: its id and the client's pseudonymous id. Nothing else, ever."""
    return {"resourceType": "Patient", "id": resource_id("client", row["id"]),
            "identifier": [_identifier(m.CLIENT_SYSTEM, row["id"])]}


def _client_extensions(client_row: dict | None) -> list[dict]:
    if not client_row:
        return []
    out = []
    for url, column in ((m.POPULATIONS_EXTENSION, "population"), (m.INSURANCES_EXTENSION, "insurance"),
                        (m.SCHEDULE_EXTENSION, "schedule")):
        value = _text(client_row.get(column))
        if value:
            out.append({"url": url, "valueCode": value})
    return out


def _is_voided(row: dict) -> bool:
    return bool(_text(row.get("voided_on")) or _text(row.get("void_reason")))


def referral(row: dict, client_row: dict | None, statuses: Iterable[dict] = ()) -> list[dict]:
    """The referral's ServiceRequest, its ``received`` Task (the assignment) and a Task per recorded status
    (``statuses``: its referral_statuses rows)."""
    rid = row["id"]
    sid = resource_id("referral", rid)
    request: dict = {"resourceType": "ServiceRequest", "id": sid}
    extension = []
    consent = _text(row.get("consent_to_update"))
    if consent and consent != "unknown":
        extension.append({"url": m.CONSENT_EXTENSION, "valueCode": consent})
    extension += _client_extensions(client_row)
    if extension:
        request["extension"] = extension
    addressed = str(row["addressed_to"])
    request.update({
        "identifier": [_identifier(m.REFERRAL_SYSTEM, rid)], "status": "active", "intent": "order",
        "subject": patient_ref(row["client_id"]), "authoredOn": _text(row["date"]),
        "requester": referrer_role_ref(row["referrer_id"]),
        "performer": [practice_ref() if addressed == PRACTICE_VALUE else member_ref(addressed)],
    })
    needs = _list((client_row or {}).get("needs"))
    if needs:
        request["reasonCode"] = [_concept(m.NEED_SYSTEM, n) for n in needs]
    out = [request]
    received = _task(row, "received", _text(row["date"]))
    reason = _text(row.get("pass_reason"))
    if reason:
        received["statusReason"] = _concept(m.PASS_REASON_SYSTEM, reason)
    out.append(received)
    for status in statuses:
        out.append(_task(row, str(status["status"]), _text(status["date"])))
    return out


def _task(row: dict, status: str, day: str | None) -> dict:
    rid = row["id"]
    task = {"resourceType": "Task", "id": resource_id("status", rid, status), "status": m.STATUS_TASKS[status],
            "businessStatus": _concept(m.STATUS_SYSTEM, status), "intent": "order",
            "focus": _ref("ServiceRequest", resource_id("referral", rid), _identifier(m.REFERRAL_SYSTEM, rid)),
            "for": patient_ref(row["client_id"])}
    if day:
        task["authoredOn"] = day
        task["lastModified"] = day
    task["owner"] = member_ref(row["assigned_to"])
    return task


def referral_out(row: dict, client_row: dict | None, provider_name: str | None = None) -> dict:
    request: dict = {"resourceType": "ServiceRequest", "id": resource_id("out", row["id"])}
    extension = _client_extensions(client_row)
    if extension:
        request["extension"] = extension
    return request | {
        "identifier": [_identifier(m.REFERRAL_OUT_SYSTEM, row["id"])], "status": "active", "intent": "order",
        "subject": patient_ref(row["client_id"]), "authoredOn": _text(row["date"]),
        "requester": referrer_role_ref(row["referrer_id"]),
        "performer": [_ref("Organization", resource_id("provider", row["provider_id"]),
                           _identifier(m.PROVIDER_SYSTEM, row["provider_id"]), provider_name)],
        "reasonCode": [_concept(m.NICHE_SYSTEM, str(row["niche"]))]
        + [_concept(m.NEED_SYSTEM, n) for n in _list((client_row or {}).get("needs"))],
    }


# -- the whole practice ---------------------------------------------------------------------------------


@dataclass
class Resources:
    """The resources of each type (``TYPES``), each list sorted by id; ``skipped``: records not written."""

    by_type: dict[str, list[dict]] = field(default_factory=lambda: {t: [] for t in TYPES})
    skipped: dict[str, int] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return {t: len(self.by_type[t]) for t in TYPES}


def resources(rows: dict[str, Iterable[dict]], *, practice_npi: str | None = None) -> Resources:
    """Every resource of a practice from its records (``rows``: kind -> dicts of the kind's columns; a kind
    missing has no records), each type sorted by id."""
    out = Resources()
    for resource in each_resource(rows, out.skipped, practice_npi=practice_npi):
        out.by_type[resource["resourceType"]].append(resource)
    for resource_type in TYPES:
        out.by_type[resource_type].sort(key=lambda r: r["id"])
    return out


def each_resource(rows: dict[str, Iterable[dict]], skipped: dict[str, int], *,
                  practice_npi: str | None = None) -> Iterator[dict]:
    """``resources``' resources one at a time, in no particular order (a writer sorts them; each made as it
    is asked for, so that a writer need hold only its lines); records not written counted in ``skipped``."""
    yield practice(practice_npi)
    for row in rows.get("clinician", ()):
        yield from clinician(row)
    for row in rows.get("staff", ()):
        yield from staff(row)
    organizations: set[str] = set()
    for row in rows.get("referrer", ()):
        for resource in referrer(row):
            if resource["resourceType"] == "Organization":  # one per distinct text
                if resource["id"] in organizations:
                    continue
                organizations.add(resource["id"])
            yield resource
    providers = {}
    for row in rows.get("external_provider", ()):
        providers[row["id"]] = row["name"]
        yield external_provider(row)
    clients = {}
    for row in rows.get("client", ()):
        clients[row["id"]] = row
        yield client(row)
    yield from _events(rows, clients, providers, skipped)


def _events(rows: dict, clients: dict, providers: dict, skipped: dict) -> Iterator[dict]:
    """The referrals' and referrals out's resources; the voided ones counted in ``skipped``."""
    statuses: dict[str, list[dict]] = {}
    for row in rows.get("referral_status", ()):
        statuses.setdefault(row["referral_id"], []).append(row)
    for row in rows.get("referral", ()):
        if _is_voided(row):
            skipped["voided referrals"] = skipped.get("voided referrals", 0) + 1
        else:
            yield from referral(row, clients.get(row["client_id"]), statuses.get(row["id"], ()))
    for row in rows.get("referral_out", ()):
        if _is_voided(row):
            skipped["voided referrals out"] = skipped.get("voided referrals out", 0) + 1
        else:
            yield referral_out(row, clients.get(row["client_id"]), providers.get(row["provider_id"]))
