"""``graphsvc export``: write the graph as a folder in the import format.

Each file is streamed from one read query into a temporary file beside its
final name and renamed into place when complete, so a failed export never
leaves a half-written file. Rows come out in key order, so exporting the same
graph twice gives byte-identical files.
"""

from __future__ import annotations

import csv
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..store.catalog import query
from ..store.db import Graph
from .format import FILES, CsvFile, to_cell

# The read statement behind each file, rows in key order.
EXPORT = {
    "clinicians.csv": "export_clinicians",
    "staff.csv": "export_staff",
    "external_providers.csv": "export_external_providers",
    "clients.csv": "export_clients",
    "referrers.csv": "export_referrers",
    "handoffs.csv": "export_handoffs",
    "referrals.csv": "export_referrals",
    "introductions.csv": "export_introductions",
    "contacts.csv": "export_contacts",
    "referrals_out.csv": "export_referrals_out",
}


@dataclass
class ExportReport:
    folder: str
    files: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return {"folder": self.folder, "files": dict(self.files),
                "rows": sum(self.files.values()), "seconds": round(self.seconds, 3)}


def export_folder(graph: Graph, folder: str | Path) -> ExportReport:
    """Write every file of the format into ``folder`` (created if missing)."""
    started = time.perf_counter()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    report = ExportReport(folder=str(folder))
    for spec in FILES:
        report.files[spec.name] = _export_file(graph, spec, folder / spec.name)
    report.seconds = time.perf_counter() - started
    return report


def _export_file(graph: Graph, spec: CsvFile, path: Path) -> int:
    tmp = path.with_name(f".{path.name}.partial")
    text = query(EXPORT[spec.name])
    columns = spec.columns

    def write_rows(tx, handle) -> int:
        # A retried transaction starts the file over, so retries are harmless.
        handle.seek(0)
        handle.truncate()
        out = csv.writer(handle, lineterminator="\n")
        out.writerow(columns)
        count = 0
        for record in tx.run(text):
            out.writerow([to_cell(record[c]) for c in columns])
            count += 1
        return count

    try:
        with open(tmp, "w", newline="", encoding="utf-8") as handle:
            count = graph.read_tx(write_rows, handle)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return count
