"""``python -m seed --format fhir``: the synthetic practice as a FHIR Bulk Data export (NDJSON).

The practice is generated as CSV files exactly as ``--format csv`` writes them
(into a temporary folder), then turned into resources by graphsvc's own FHIR
export core (``graphsvc.fhir.resources``) and written as ``graphsvc export
--format fhir`` writes them (``graphsvc.fhir.exporter.write_folder``): no
Neo4j needed, and importing the CSV files and exporting them as FHIR gives the
same bytes.
"""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

from graphsvc.csvio.format import FILES
from graphsvc.fhir.exporter import write_folder
from graphsvc.fhir.resources import KINDS


def read_csv_folder(folder: str | Path) -> dict[str, list[dict]]:
    """The rows of the kinds the FHIR export maps, from a folder of CSV files, as dicts of text."""
    rows = {}
    for spec in FILES:
        path = Path(folder) / spec.name
        if spec.kind.name in KINDS and path.exists():
            with open(path, encoding="utf-8", newline="") as handle:
                rows[spec.kind.name] = list(csv.DictReader(handle))
    return rows


def write_fhir(out_dir, generate, *, practice_npi: str | None = None, **options) -> dict[str, int]:
    """Generate the practice (``generate(folder, **options)``) and write it into ``out_dir`` as NDJSON;
    the resources per file."""
    with tempfile.TemporaryDirectory(prefix="seed-fhir-") as tmp:
        generate(tmp, **options)
        rows = read_csv_folder(tmp)
    return write_folder(rows, out_dir, practice_npi=practice_npi).files
