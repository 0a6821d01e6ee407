"""How graphsvc's records and FHIR R4 resources map to each other: systems, codes and the tables.

The one place both directions read (``graphsvc.fhir.reader`` turns a FHIR
export into records, ``graphsvc.fhir.writer`` records into NDJSON), and the
source of the mapping tables in ``docs/fhir.md``.

Identifiers and codes that are graphsvc's own use ``urn:graphsvc:*`` systems:
an export carries every id it needs to come back exactly (a member's, a
referrer's, a referral's, a client's pseudonymous id), and an import of
another system's export reads the standard ones (NPIs, NUCC taxonomy,
SNOMED CT, ICD-10-CM). Nothing here reads a patient's name, birth date,
address, telecom or any identifier other than the one that keys the
pseudonym (``graphsvc.fhir.pseudonym``).

>>> referrer_kind([(NUCC, "208000000X")]), referrer_kind([(SNOMED, "309343006")]), referrer_kind([("x", "y")])
('pediatrician', 'physician', 'other')
>>> need_of(ICD10CM, "F41.1"), need_of(ICD10CM, "F90.0"), need_of(NEED_SYSTEM, "grief"), need_of(ICD10CM, "J45")
('anxiety', 'adhd', 'grief', None)
>>> referral_status("completed", None), referral_status("accepted", None), referral_status("requested", None)
('first_visit', 'contacted', None)
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

from ..errors import InvalidInput
from ..vocabulary import REFERRAL_STATUSES

# -- standard systems ------------------------------------------------------------------------------
NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"
NUCC = "http://nucc.org/provider-taxonomy"
SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
PRACTITIONER_ROLE = "http://terminology.hl7.org/CodeSystem/practitioner-role"
IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"  # MR: a medical record number

# -- graphsvc's own identifier systems (an export's ids, so that it comes back exactly) ------------
PRACTICE_SYSTEM = "urn:graphsvc:practice"         # the practice's Organization
MEMBER_SYSTEM = "urn:graphsvc:member"             # a clinician's or staff member's id
REFERRER_SYSTEM = "urn:graphsvc:referrer"         # a referrer's id (Practitioner and PractitionerRole)
CLIENT_SYSTEM = "urn:graphsvc:client"             # a client's pseudonymous id: the only thing a Patient carries
REFERRAL_SYSTEM = "urn:graphsvc:referral"         # a referral's id (ServiceRequest)
REFERRAL_OUT_SYSTEM = "urn:graphsvc:referral-out"  # a referral out's id (ServiceRequest)
PROVIDER_SYSTEM = "urn:graphsvc:provider"         # an outside provider's id (Organization)
STATUS_SYSTEM = "urn:graphsvc:referral-status"    # Task.businessStatus: a closing-the-loop status, exactly

# -- graphsvc's own code systems -------------------------------------------------------------------
REFERRER_KIND_SYSTEM = "urn:graphsvc:referrer-kind"  # PractitionerRole.code: the referrer's kind, as is
MEMBER_ROLE_SYSTEM = "urn:graphsvc:member-role"      # PractitionerRole.code: "clinician" or a staff role
NEED_SYSTEM = "urn:graphsvc:need"                    # reasonCode / PractitionerRole.specialty: a need word
NICHE_SYSTEM = "urn:graphsvc:niche"                  # a referral out's reasonCode: the niche
PASS_REASON_SYSTEM = "urn:graphsvc:pass-reason"      # Task.statusReason of a pass

# -- extensions for graphsvc's fields that FHIR has no element for -----------------------------------
EXTENSION = "urn:graphsvc:extension:"
POINT_PERSON_EXTENSION = EXTENSION + "point-person"      # on a referrer's PractitionerRole: Reference(Practitioner)
POPULATIONS_EXTENSION = EXTENSION + "population"         # on a clinician's PractitionerRole: valueCode, repeated
INSURANCES_EXTENSION = EXTENSION + "insurance"           # valueCode, repeated
SCHEDULE_EXTENSION = EXTENSION + "schedule"              # valueCode, repeated
ACCEPTING_EXTENSION = EXTENSION + "accepting-new"        # valueBoolean

# -- role codes -> referrer kinds -----------------------------------------------------------------
# A referrer created from a FHIR Practitioner / PractitionerRole / Organization gets the kind of the first
# of its role's codes (PractitionerRole.code, then .specialty) found here; ``other`` when none is.
# graphsvc's own system maps each kind to itself. Overridden or extended by the ``fhir.role_kinds``
# setting (a CSV file of system,code,kind rows).
ROLE_KINDS: dict[tuple[str, str], str] = {
    (NUCC, "208000000X"): "pediatrician",    # Pediatrics (allopathic and osteopathic physicians)
    (NUCC, "363LP0200X"): "pediatrician",    # Nurse Practitioner, Pediatrics
    (NUCC, "207Q00000X"): "physician",       # Family Medicine
    (NUCC, "207R00000X"): "physician",       # Internal Medicine
    (NUCC, "208D00000X"): "physician",       # General Practice
    (NUCC, "2084P0800X"): "physician",       # Psychiatry
    (NUCC, "363LF0000X"): "physician",       # Nurse Practitioner, Family
    (NUCC, "363A00000X"): "physician",       # Physician Assistant
    (NUCC, "101YS0200X"): "school_counselor",  # Counselor, School
    (SNOMED, "309343006"): "physician",      # Physician (occupation)
    (SNOMED, "158965000"): "physician",      # Medical practitioner (occupation)
    (SNOMED, "82296001"): "pediatrician",    # Pediatrician (occupation)
    (PRACTITIONER_ROLE, "doctor"): "physician",
}
UNKNOWN_KIND = "other"

# -- reason codes -> needs -------------------------------------------------------------------------
# A referral's client needs come from its ServiceRequest's reasonCode (and the Conditions its
# reasonReference names, when the export holds them): each code found here gives a need; a code not found
# is counted and listed in the import's summary, never stored. ICD-10-CM codes match by their category
# (the longest prefix here: "F41.1" is under "F41"). graphsvc's own system gives the need as is.
# Overridden or extended by the ``fhir.reason_needs`` setting (a CSV file of system,code,need rows).
REASON_NEEDS: dict[tuple[str, str], str] = {
    (ICD10CM, "F90"): "adhd",
    (ICD10CM, "F40"): "anxiety", (ICD10CM, "F41"): "anxiety",
    (ICD10CM, "F32"): "depression", (ICD10CM, "F33"): "depression", (ICD10CM, "F34.1"): "depression",
    (ICD10CM, "F43.1"): "trauma",
    (ICD10CM, "F42"): "ocd",
    (ICD10CM, "F84"): "autism",
    (ICD10CM, "F50"): "eating_disorders",
    (ICD10CM, "F31"): "bipolar",
    (ICD10CM, "F53"): "perinatal",
    (ICD10CM, "F63.81"): "anger_management",
    (ICD10CM, "Z63.0"): "couples_therapy",
    (ICD10CM, "Z63.4"): "grief",
    (ICD10CM, "Z63.8"): "family_therapy",
    **{(ICD10CM, f"F{n}"): "substance_use" for n in range(10, 20)},  # F10-F19: substance use disorders
    (SNOMED, "35489007"): "depression",       # Depressive disorder
    (SNOMED, "197480006"): "anxiety",         # Anxiety disorder
    (SNOMED, "406506008"): "adhd",            # Attention deficit hyperactivity disorder
    (SNOMED, "47505003"): "trauma",           # Posttraumatic stress disorder
    (SNOMED, "191736004"): "ocd",             # Obsessive-compulsive disorder
    (SNOMED, "13746004"): "bipolar",          # Bipolar disorder
    (SNOMED, "72366004"): "eating_disorders",  # Eating disorder
}

# -- Task -> closing-the-loop status ---------------------------------------------------------------
# A Task whose focus is a referral's ServiceRequest says where it stands: its businessStatus in graphsvc's
# own system exactly, else its status through this table. None: still ``received`` (nothing to record).
# ``entered-in-error`` Tasks are skipped (counted). The status's day is the Task's lastModified, else its
# authoredOn, else the referral's own day.
TASK_STATUSES: dict[str, str | None] = {
    "draft": None, "requested": None, "received": None, "ready": None, "on-hold": None,
    "accepted": "contacted",
    "in-progress": "scheduled",
    "completed": "first_visit",
    "rejected": "declined",
    "cancelled": "declined",
    "failed": "no_show",
}
# graphsvc's statuses back to Task.status for an export (businessStatus carries the exact status).
STATUS_TASKS: dict[str, str] = {
    "received": "received", "contacted": "accepted", "scheduled": "in-progress", "first_visit": "completed",
    "declined": "rejected", "no_show": "failed", "referred_out": "completed",
}
assert set(STATUS_TASKS) == set(REFERRAL_STATUSES)

# ServiceRequest statuses that are not a referral (skipped and counted): not yet sent, or a mistake.
SKIPPED_REQUEST_STATUSES = ("draft", "entered-in-error")


def referrer_kind(codes: Iterable[tuple[str, str]], table: dict | None = None) -> str:
    """The referrer kind of the first of ``codes`` ((system, code) pairs) the table knows, else ``other``."""
    table = ROLE_KINDS if table is None else table
    for system, code in codes:
        if system == REFERRER_KIND_SYSTEM and code:
            return code
        kind = table.get((system, code))
        if kind is not None:
            return kind
    return UNKNOWN_KIND


def need_of(system: str, code: str, table: dict | None = None) -> str | None:
    """The need a reason code gives, or None (an unmapped code: counted, never stored)."""
    table = REASON_NEEDS if table is None else table
    if system == NEED_SYSTEM:
        return code or None
    if (system, code) in table:
        return table[(system, code)]
    if system == ICD10CM:  # by category: the longest prefix the table holds
        for end in range(len(code) - 1, 2, -1):
            need = table.get((system, code[:end].rstrip(".")))
            if need is not None:
                return need
    return None


def referral_status(task_status: str | None, business_status: str | None) -> str | None:
    """The closing-the-loop status a Task gives (``business_status``: a code of ``STATUS_SYSTEM``, if any)."""
    if business_status in REFERRAL_STATUSES:
        return business_status
    return TASK_STATUSES.get(task_status or "")


def read_table(path: str | Path, what: str) -> dict[tuple[str, str], str]:
    """A ``system,code,<what>`` CSV file (the ``fhir.role_kinds`` / ``fhir.reason_needs`` settings) as a
    table; a bad row is an error naming the file and line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise InvalidInput(f"{path}: cannot be read: {e.strerror}") from None
    table: dict[tuple[str, str], str] = {}
    rows = csv.reader(text.splitlines())
    header = next(rows, None)
    if header != ["system", "code", what]:
        raise InvalidInput(f"{path}:1: the header must be system,code,{what}")
    for line, row in enumerate(rows, start=2):
        if not row:
            continue
        if len(row) != 3 or not all(cell.strip() for cell in row):
            raise InvalidInput(f"{path}:{line}: expected 3 non-empty cells: system,code,{what}")
        table[(row[0].strip(), row[1].strip())] = row[2].strip()
    return table


def tables(settings) -> tuple[dict, dict]:
    """The role-kind and reason-need tables in force: the built-in ones with the settings' files over them."""
    kinds, needs = dict(ROLE_KINDS), dict(REASON_NEEDS)
    if settings.fhir_role_kinds:
        kinds.update(read_table(settings.fhir_role_kinds, "kind"))
    if settings.fhir_reason_needs:
        needs.update(read_table(settings.fhir_reason_needs, "need"))
    return kinds, needs


# -- appended for the export (graphsvc.fhir.resources) ---------------------------------------------
# On a referral's ServiceRequest: whether the client agreed that the referrer be told how it went
# (``consent_to_update``: yes / no; absent means unknown). valueCode.
CONSENT_EXTENSION = EXTENSION + "consent-to-update"
# A standard coding written beside graphsvc's own (REFERRER_KIND_SYSTEM) on a referrer's PractitionerRole.code,
# for the kinds that have one a reader elsewhere knows; each maps back to its kind through ROLE_KINDS.
KIND_CODES: dict[str, tuple[str, str, str]] = {  # kind: (system, code, display)
    "pediatrician": (SNOMED, "82296001", "Pediatrician"),
    "physician": (SNOMED, "309343006", "Physician"),
    "school_counselor": (NUCC, "101YS0200X", "Counselor, School"),
}
assert all(ROLE_KINDS[(system, code)] == kind for kind, (system, code, _) in KIND_CODES.items())
