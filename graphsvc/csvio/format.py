"""The folder-of-CSV-files format that ``graphsvc import`` and ``export`` share.

Each file holds one kind of record (``graphsvc.records.KINDS``); its columns
are the record's fields, in order. Lists are ``;``-separated, dates ``YYYY-MM-DD``,
booleans ``true``/``false``, a missing value is an empty cell. Every file is
optional; they are listed here in the order they are written, so that a
row's references are in the graph before the row itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .. import records


@dataclass(frozen=True, eq=False)
class CsvFile:
    """One file of the folder: its name and the kind of record each row holds."""

    name: str
    kind: records.Kind

    @property
    def columns(self) -> tuple[str, ...]:
        return self.kind.fields


FILES: tuple[CsvFile, ...] = tuple(
    CsvFile(name, records.KIND[kind]) for name, kind in (
        ("clinicians.csv", "clinician"),
        ("staff.csv", "staff"),
        ("external_providers.csv", "external_provider"),
        ("clients.csv", "client"),
        ("referrers.csv", "referrer"),
        ("handoffs.csv", "handoff"),
        ("referrals.csv", "referral"),
        ("introductions.csv", "introduction"),
        ("contacts.csv", "contact"),
        ("referrals_out.csv", "referral_out"),
    )
)

BY_NAME = {f.name: f for f in FILES}


def to_cell(value) -> str:
    """A Python or Neo4j value as the text of one CSV cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ";".join(to_cell(v) for v in value)
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "iso_format"):  # neo4j.time.Date
        return value.iso_format()
    return str(value)
