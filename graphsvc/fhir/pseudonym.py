"""Pseudonymous client ids for patients: a keyed hash, so the same patient is the same client every import.

A FHIR import never stores anything that names a patient. The client id is
``p-`` and 20 characters of base32 of HMAC-SHA256(key, what identifies the
patient in the source): the key is the practice's secret (setting
``fhir.client_id_key``, ``GRAPHSVC_CLIENT_ID_KEY``; by default generated once
into ``<data_dir>/graphsvc-client-id-key``, mode 0600, and carried by
backups), so nobody without it can tell which patient a client is, and a
practice keeps its clients' ids across imports as long as it keeps the key.

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
