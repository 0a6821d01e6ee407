"""What a FHIR round trip keeps: the CSV columns graphsvc maps to FHIR and back (``docs/fhir.md``).

demo -> ``export --format fhir`` -> ``import --format fhir`` into an empty
database -> ``export``: these columns come back equal, row for row. The rest
of the folder (introductions, contacts, handoffs, merged referrers, tasks)
has no FHIR resource graphsvc writes, and is not compared.
"""

from __future__ import annotations

import csv
from pathlib import Path

# file -> (key columns, mapped columns)
MAPPED: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "clinicians.csv": (("id",), ("id", "name", "specialties", "populations", "insurances", "schedule",
                                 "accepting_new", "npi")),
    "staff.csv": (("id",), ("id", "name", "role", "npi")),
    "referrers.csv": (("id",), ("id", "name", "kind", "organization", "point_person_id", "since", "npi")),
    "clients.csv": (("id",), ("id", "needs", "population", "insurance", "schedule")),
    "external_providers.csv": (("id",), ("id", "name", "niches")),
    "referrals.csv": (("id",), ("id", "date", "referrer_id", "client_id", "addressed_to", "assigned_to",
                                "pass_reason", "consent_to_update")),
    "referral_statuses.csv": (("referral_id", "status"), ("referral_id", "status", "date")),
    "referrals_out.csv": (("id",), ("id", "date", "referrer_id", "client_id", "provider_id", "niche")),
}


def mapped_rows(folder: Path, name: str) -> dict[tuple, dict]:
    """The file's rows by key, each with only the mapped columns (absent columns as empty)."""
    keys, columns = MAPPED[name]
    path = Path(folder) / name
    if not path.exists():
        return {}
    with open(path, newline="", encoding="utf-8") as f:
        return {tuple(row[k] for k in keys): {c: row.get(c, "") for c in columns} for row in csv.DictReader(f)}


def mapped_differences(expected: Path, got: Path, *, only_live: bool = True) -> list[str]:
    """Every mapped cell or row that differs between two CSV folders, in words (empty: the same).

    ``only_live``: voided referrals and referrals out (withdrawn by a manager) are left out of the
    expected folder, since the FHIR export does not carry them.
    """
    out = []
    for name in MAPPED:
        want, have = mapped_rows(expected, name), mapped_rows(got, name)
        if only_live:
            want = {k: v for k, v in want.items() if not _voided(expected, name, k)}
        for key in sorted(set(want) | set(have)):
            if key not in have:
                out.append(f"{name} {key}: missing")
            elif key not in want:
                out.append(f"{name} {key}: not expected")
            else:
                out.extend(f"{name} {key} {c}: {want[key][c]!r} became {have[key][c]!r}"
                           for c in want[key] if want[key][c] != have[key][c])
    return out


_VOIDED: dict[tuple[str, str], set] = {}


def _voided(folder: Path, name: str, key: tuple) -> bool:
    """Whether the row ``key`` of ``name`` is, or belongs to, a voided referral (or referral out)."""
    cache_key = (str(folder), name)
    if cache_key not in _VOIDED:
        voided: set = set()
        for source in ("referrals.csv", "referrals_out.csv"):
            path = Path(folder) / source
            if path.exists():
                with open(path, newline="", encoding="utf-8") as f:
                    voided |= {row["id"] for row in csv.DictReader(f) if row.get("voided_on")}
        _VOIDED[cache_key] = voided
    return key[0] in _VOIDED[cache_key]
