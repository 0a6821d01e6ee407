"""The folder-of-CSV-files format that ``graphsvc import`` and ``export`` share.

Each file holds one kind of record (``graphsvc.records``); its columns are the
record's fields, in order. Lists are ``;``-separated, dates ``YYYY-MM-DD``,
booleans ``true``/``false``, a missing value is an empty cell. Every file is
optional; they are listed here in the order they are written, so that a
row's references are in the graph before the row itself.
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass
from functools import cached_property
from datetime import date

from . import records


@dataclass(frozen=True, eq=False)
class CsvFile:
    name: str
    record: type[records.Record]
    key: tuple[str, ...] = ("id",)

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.record.model_fields)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(n for n, f in self.record.model_fields.items() if f.is_required())

    @cached_property
    def row_type(self) -> type:
        """A compact tuple type for validated rows: an import holds millions of
        them, and a pydantic model costs about ten times the memory."""
        return namedtuple(self.record.__name__ + "Row", self.columns)

    @property
    def stem(self) -> str:
        return self.name.removesuffix(".csv")


FILES: tuple[CsvFile, ...] = (
    CsvFile("clinicians.csv", records.Clinician),
    CsvFile("staff.csv", records.Staff),
    CsvFile("external_providers.csv", records.ExternalProvider),
    CsvFile("clients.csv", records.Client),
    CsvFile("referrers.csv", records.Referrer),
    CsvFile("handoffs.csv", records.Handoff, key=("referrer_id", "date")),
    CsvFile("referrals.csv", records.Referral),
    CsvFile("introductions.csv", records.Introduction),
    CsvFile("contacts.csv", records.Contact),
    CsvFile("referrals_out.csv", records.ReferralOut),
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
