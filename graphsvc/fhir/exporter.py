"""``graphsvc export DIR --format fhir``: the graph as a FHIR Bulk Data export (NDJSON).

One file per resource type (``Organization.ndjson``, ``Practitioner.ndjson``,
``PractitionerRole.ndjson``, ``Patient.ndjson``, ``ServiceRequest.ndjson``,
``Task.ndjson``; each always written, empty when there is nothing of its type),
one compact JSON object per line (keys in the order ``graphsvc.fhir.resources``
builds them, UTF-8 as is, ``\\n`` after each), lines sorted by resource id, so
two exports of the same graph are byte-identical. What becomes what is
``graphsvc.fhir.resources``' docstring.

The records are read as the CSV export reads them (``store.exports.read_all``:
one transaction under the Practice lock, events first, members last, so that
no referral names a client the export did not read) and held in memory until
the last kind is read (a client's needs go on each of its referrals), then the
resources' lines (only their text) until sorted: the demo practice peaks at
about 220 MB (``python -m seed --format fhir``). The files are written into a
temporary folder beside the target and swapped in (``graphsvc.csvio.exporter``'s
``_swap_in``), folder mode 0700, files 0600. A folder that holds anything but
these files is refused.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..csvio.exporter import FILE_MODE, FOLDER_MODE, _swap_in
from ..errors import InvalidInput
from ..records import KIND
from . import resources as fhir_resources

FILES = tuple(f"{resource_type}.ndjson" for resource_type in fhir_resources.TYPES)
# The order the kinds are read in: events first, members last (``store.exports``' docstring says why).
READ_ORDER = ("referral_status", "referral", "referral_out", "client", "referrer", "external_provider", "staff",
              "clinician")
assert set(READ_ORDER) == set(fhir_resources.KINDS)


@dataclass
class FhirExportReport:
    folder: str
    files: dict[str, int] = field(default_factory=dict)  # file name: resources (lines)
    skipped: dict[str, int] = field(default_factory=dict)  # e.g. voided referrals, not written
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return {"ok": True, "folder": self.folder, "files": dict(self.files),
                "resources": sum(self.files.values()), "skipped": dict(self.skipped),
                "seconds": round(self.seconds, 3)}


def read_records(graph) -> dict[str, list[dict]]:
    """Every record of the kinds the FHIR export maps, as dicts of their columns, in one transaction."""
    from ..store import exports

    rows: dict[str, list[dict]] = {}

    def take(kind: str, records) -> int:
        columns = KIND[kind].fields
        rows[kind] = [dict(zip(columns, record, strict=True)) for record in records]  # afresh on a retry
        return len(rows[kind])

    exports.read_all(graph, list(READ_ORDER), take, lambda kind: KIND[kind].fields)
    return rows


def export_fhir(graph, folder: str | Path) -> FhirExportReport:
    """Write the graph's practice into ``folder`` as NDJSON files, replacing the folder as a whole."""
    started = time.perf_counter()
    rows = read_records(graph)
    report = write_folder(rows, folder, practice_npi=graph.settings.practice_npi)
    report.seconds = time.perf_counter() - started
    return report


def write_folder(rows: dict[str, list[dict]], folder: str | Path, *,
                 practice_npi: str | None = None) -> FhirExportReport:
    """Write the resources of ``rows`` (records by kind, ``resources.resources``' argument) into ``folder``:
    a new folder swapped in for the old."""
    folder = Path(folder).resolve()  # a symlink: replace the folder it names, keep the link
    check_target(folder)
    report = FhirExportReport(folder=str(folder))
    lines: dict[str, list[tuple[str, str]]] = {t: [] for t in fhir_resources.TYPES}
    for resource in fhir_resources.each_resource(rows, report.skipped, practice_npi=practice_npi):
        lines[resource["resourceType"]].append((resource["id"], ndjson_line(resource)))  # only the text kept
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.export-", dir=folder.parent))
    try:
        os.chmod(tmp, FOLDER_MODE)
        for resource_type, name in zip(fhir_resources.TYPES, FILES, strict=True):
            report.files[name] = _write_file(tmp / name, sorted(lines.pop(resource_type)))
        _swap_in(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return report


def ndjson_line(resource: dict) -> str:
    """One resource as one line of NDJSON (without its ``\\n``)."""
    return json.dumps(resource, ensure_ascii=False, separators=(",", ":"))


def _write_file(path: Path, lines: list[tuple[str, str]]) -> int:
    """One file of ``lines`` ((resource id, line) pairs, sorted)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    os.fchmod(fd, FILE_MODE)  # whatever the umask
    with open(fd, "w", newline="", encoding="utf-8") as handle:
        for _, line in lines:
            handle.write(line + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return len(lines)


def check_target(folder: Path) -> None:
    """Refuse a target that is not a folder, or one holding anything but a FHIR export's files."""
    if not folder.exists():
        return
    if not folder.is_dir():
        raise InvalidInput(f"{folder}: exists and is not a folder")
    strays = sorted(p.name for p in folder.iterdir() if p.name not in FILES)
    if strays:
        raise InvalidInput(f"{folder}: holds files that are not part of a FHIR export ({', '.join(strays[:5])}"
                           f"{', ...' if len(strays) > 5 else ''}); an export replaces the whole folder, "
                           "so choose a new or empty folder, or one written by graphsvc export --format fhir")
