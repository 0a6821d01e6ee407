"""The folder-of-CSV-files format that ``graphsvc import`` and ``export`` share.

Each file holds one kind of record (``graphsvc.records.KINDS``); its columns
are the record's fields, in order. Lists are ``;``-separated, dates ``YYYY-MM-DD``,
booleans ``true``/``false``, a missing value is an empty cell. Every file is
optional; they are listed here in the order they are written, so that a
row's references are in the graph before the row itself.

Spreadsheets run a cell that begins with ``=``, ``+``, ``-`` or ``@`` (or a
tab or carriage return) as a formula. Only free text can begin so (ids, slugs
and dates cannot), and a name such as "@Home Pediatrics" is real, so such a
text is not refused: ``to_cell`` writes it with a ``'`` in front, which a
spreadsheet shows as text, and ``from_cell`` (the importer, on free-text
columns) takes that one ``'`` away again. A text that itself begins with
one or more ``'`` and then one of those characters gets one more ``'``, so the
round trip is exact for every text, and a text such as "'Ohana Clinic" is left
alone.
"""

from __future__ import annotations

import re
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
        ("vocabularies.csv", "term"),
        ("clinicians.csv", "clinician"),
        ("staff.csv", "staff"),
        ("external_providers.csv", "external_provider"),
        ("clients.csv", "client"),
        ("referrers.csv", "referrer"),
        ("merged_referrers.csv", "merged_referrer"),
        ("handoffs.csv", "handoff"),
        ("referrals.csv", "referral"),
        ("referral_statuses.csv", "referral_status"),
        ("introductions.csv", "introduction"),
        ("contacts.csv", "contact"),
        ("referrals_out.csv", "referral_out"),
        ("tasks.csv", "task"),
    )
)

BY_NAME = {f.name: f for f in FILES}


# What a spreadsheet would take for the start of a formula, and the first
# characters of a text that to_cell has to look at more closely.
FORMULA_START = "=+-@\t\r"
_CHECK_FIRST = frozenset(FORMULA_START + "'")
_ESCAPE = re.compile(r"'*[=+\-@\t\r]")    # to_cell puts a ' before these
_UNESCAPE = re.compile(r"'+[=+\-@\t\r]")  # from_cell takes one ' off these


def to_cell(value) -> str:
    """A Python or Neo4j value as the text of one CSV cell.

    A text that a spreadsheet would run as a formula gets a ``'`` in front
    (see the module docstring); ``from_cell`` undoes it.

    >>> to_cell("=HYPERLINK(1)"), to_cell("-Ana"), to_cell("'=x"), to_cell("'Ohana"), to_cell(-5)
    ("'=HYPERLINK(1)", "'-Ana", "''=x", "'Ohana", '-5')
    """
    if isinstance(value, str):
        return "'" + value if value and value[0] in _CHECK_FIRST and _ESCAPE.match(value) else value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return to_cell(";".join(_plain(v) for v in value))
    return _plain(value)


def _plain(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def from_cell(text: str) -> str:
    """The text ``to_cell`` wrote a free-text value as, back to the value.

    >>> [from_cell(to_cell(v)) for v in ("=1+1", "''@x", "'Ohana", "Ana")]
    ['=1+1', "''@x", "'Ohana", 'Ana']
    """
    return text[1:] if text[:1] == "'" and _UNESCAPE.match(text) else text
