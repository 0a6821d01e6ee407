"""Pseudonymous client ids for patients: a keyed hash, so the same patient is the same client every import.

A FHIR import never stores anything that names a patient. The client id is
``p-`` and 20 characters of base32 of HMAC-SHA256(key, what identifies the
patient in the source): the key is the practice's secret (setting
``fhir.client_id_key``, ``GRAPHSVC_CLIENT_ID_KEY``; by default generated once
into ``<data_dir>/graphsvc-client-id-key``, mode 0600, and carried by
backups), so nobody without it can tell which patient a client is, and a
practice keeps its clients' ids across imports as long as it keeps the key.

What identifies a patient (``patient_key``): the Patient's identifier typed
``MR`` (a medical record number, ``v2-0203``) as ``system|value``, else its
first identifier with both a system and a value, else ``Patient/<id>``. A
Patient, or a reference's logical identifier, carrying an identifier of
``CLIENT_SYSTEM`` is that client id as is (``client_id_of``): so graphsvc's
own export comes back exactly. Nothing else of a Patient is read: not its
name, birth date, address, telecom nor any other identifier, and the key
itself is never stored or logged, only its hash.

>>> pseudonym(b"k" * 32, "http://hospital.example/mrn|12345")
'p-asob7d6l4uiwkfxipr5o'
>>> pseudonym(b"k" * 32, "http://hospital.example/mrn|12345") == pseudonym(b"j" * 32, "http://hospital.example/mrn|12345")
False
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from ..keys import kept_key
from ..limits import ID_RE
from .mapping import CLIENT_SYSTEM, IDENTIFIER_TYPE

PREFIX = "p-"
LENGTH = 20  # base32 characters: 100 bits


def client_id_key(settings) -> bytes:
    """The key of pseudonymous client ids: the setting, else the one generated into the data folder."""
    if settings.fhir_client_id_key:
        return settings.fhir_client_id_key.encode()
    return kept_key(settings.client_id_key_file, instead="GRAPHSVC_CLIENT_ID_KEY").encode()


def pseudonym(key: bytes, patient_key: str) -> str:
    """The client id of the patient identified by ``patient_key`` (``system|value`` of an identifier, or
    ``Patient/<id>``) under ``key``."""
    digest = hmac.new(key, patient_key.encode("utf-8"), hashlib.sha256).digest()
    return PREFIX + base64.b32encode(digest).decode("ascii").lower()[:LENGTH]


def patient_key(patient: dict) -> str:
    """What identifies a Patient (a FHIR resource as a dict) for its pseudonym: its MR-typed identifier
    (``system|value``), else its first identifier with a system and a value, else ``Patient/<id>``.

    >>> patient_key({"id": "p1", "identifier": [{"system": "urn:ssn", "value": "1"},
    ...     {"system": "urn:mrn", "value": "2", "type": {"coding": [{"system": IDENTIFIER_TYPE, "code": "MR"}]}}]})
    'urn:mrn|2'
    >>> patient_key({"id": "p1", "identifier": [{"value": "x"}, {"system": "urn:ssn", "value": "1"}]})
    'urn:ssn|1'
    >>> patient_key({"id": "p1"})
    'Patient/p1'
    """
    given = patient.get("identifier")
    identifiers = [i for i in (given if isinstance(given, list) else []) if isinstance(i, dict)
                   and isinstance(i.get("system"), str) and isinstance(i.get("value"), str)]
    for i in identifiers:
        kind = i.get("type")
        codings = (kind.get("coding") or []) if isinstance(kind, dict) else []
        if any(isinstance(c, dict) and c.get("system") == IDENTIFIER_TYPE and c.get("code") == "MR"
               for c in codings if isinstance(codings, list)):
            return f"{i['system']}|{i['value']}"
    if identifiers:
        return f"{identifiers[0]['system']}|{identifiers[0]['value']}"
    return f"Patient/{patient.get('id')}"


def client_id_of(patient: dict, key: bytes) -> str:
    """The client id of a Patient (or of a reference's logical ``identifier`` wrapped as one): an identifier of
    ``CLIENT_SYSTEM`` as is when its value has the shape of an id graphsvc exports (a client id it holds
    already: ``graphsvc.limits.ID_PATTERN``, no space), else the pseudonym of ``patient_key`` under ``key``.

    A value of that system that is no graphsvc id (a name someone put there) is never taken as it is, nor
    quoted anywhere: it keys a pseudonym like any other identifier.

    >>> client_id_of({"identifier": [{"system": CLIENT_SYSTEM, "value": "cl1"}]}, b"k" * 32)
    'cl1'
    >>> client_id_of({"identifier": [{"system": CLIENT_SYSTEM, "value": "Ann Smith"}]}, b"k" * 32)[:2]
    'p-'
    """
    given = patient.get("identifier")
    for i in given if isinstance(given, list) else []:
        if isinstance(i, dict) and i.get("system") == CLIENT_SYSTEM and isinstance(i.get("value"), str) \
                and ID_RE.match(i["value"]):
            return i["value"]
    return pseudonym(key, patient_key(patient))
