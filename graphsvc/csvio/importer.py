"""``graphsvc import``: validate a folder of CSV files, then write it in batches.

Every row of every file is checked before anything is written: its fields
(``graphsvc.records``), duplicates within the file, and every id it refers
to, which must be defined earlier in the folder or already be in the graph.
If any row is bad nothing is written, unless ``skip_bad`` is set; then the
good rows are written, and rows that refer to a bad row count as bad too.

Writes are ``UNWIND`` batches of upserts keyed on ids, so importing the same
folder twice leaves the graph as it was. A write interrupted half-way (Neo4j
stopped, say) is finished by importing the folder again.
"""

from __future__ import annotations

import csv
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from pydantic import ValidationError

from ..batching import batched
from ..errors import InvalidInput
from ..presentation import count_of
from ..records import explain
from ..rules import Batch, Checker, Problem
from ..store.db import Graph
from ..store.schema import ensure_schema
from ..store.writes import UPSERT, parameters, write_batches
from ..vocabulary import PRACTICE_ID
from .format import BY_NAME, FILES, CsvFile

log = logging.getLogger(__name__)


class ImportRejected(InvalidInput):
    """The folder has bad rows and nothing was written."""

    def __init__(self, folder: Path, problems: list[Problem]):
        self.folder = folder
        lines = [str(p) for p in problems]
        super().__init__(lines)
        self.args = (
            f"{count_of(len(problems), 'problem')} in {folder}; nothing was written "
            f"(use --skip-bad to write the good rows):\n" + "\n".join(lines),
        )


@dataclass
class FileCount:
    rows: int = 0
    written: int = 0
    bad: int = 0
    seconds: float = 0.0  # writing this file


@dataclass
class ImportReport:
    folder: str
    files: dict[str, FileCount] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    validate_seconds: float = 0.0
    seconds: float = 0.0

    @property
    def written(self) -> int:
        return sum(c.written for c in self.files.values())

    def as_dict(self) -> dict:
        return {
            "folder": self.folder,
            "files": {k: vars(v) for k, v in self.files.items()},
            "written": self.written,
            "bad": sum(c.bad for c in self.files.values()),
            "problems": [str(p) for p in self.problems],
            "validate_seconds": round(self.validate_seconds, 3),
            "seconds": round(self.seconds, 3),
        }


def import_folder(
    graph: Graph,
    folder: str | Path,
    *,
    skip_bad: bool = False,
    batch_size: int | None = None,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
    on_total: Callable[[int], None] | None = None,
) -> ImportReport:
    """Validate ``folder`` and write it to the graph; see the module docstring.

    Batches of one file are written by ``workers`` concurrent transactions
    (Neo4j then uses every core); files are written one after another, in
    dependency order. ``progress(n)`` is called after each batch with the
    rows it wrote;
    ``on_total(n)`` once, before writing, with the number of rows to write.
    Raises ``ImportRejected`` (nothing written) when a row is bad and
    ``skip_bad`` is false.
    """
    started = time.perf_counter()
    folder = Path(folder)
    problems: list[Problem] = []
    parsed = read_folder(folder, problems)
    log.info("import %s: %d file(s) read", folder, len(parsed))
    Checker(parsed.values(), problems, lookup=lambda ids: graph.read("existing_ids", ids=ids)).check()

    report = ImportReport(folder=str(folder))
    for name, rows in parsed.items():
        report.files[name] = FileCount(
            rows=len(rows.rows) + rows.unreadable,
            bad=len(rows.bad_lines) + rows.unreadable,
        )
    problems.sort(key=lambda p: (_order(p.source), p.line or 0))
    report.problems = problems
    if problems and not skip_bad:
        log.warning("import %s rejected: %d problem(s), nothing written", folder, len(problems))
        raise ImportRejected(folder, problems)

    ensure_schema(graph)
    graph.write("bump_version", practice_id=PRACTICE_ID)  # before and after: a half-done import counts too
    batch_size = batch_size or graph.settings.batch_size
    if on_total:
        on_total(sum(len(r.rows) - len(r.bad_lines) for r in parsed.values()))
    workers = workers or graph.settings.import_workers
    report.validate_seconds = time.perf_counter() - started
    for name, rows in parsed.items():
        began = time.perf_counter()
        kind = rows.kind.name
        report.files[name].written = write_batches(
            graph, UPSERT[kind], (parameters(kind, rec._asdict()) for _, rec in rows.good()),
            batch_size=batch_size, workers=workers, progress=progress, practice_id=PRACTICE_ID)
        report.files[name].seconds = round(time.perf_counter() - began, 3)
    touched = sorted({rec.referrer_id for rec in _good(parsed, "handoffs.csv")}
                     | {rec.id for rec in _good(parsed, "referrers.csv")})
    for chunk in batched(touched, batch_size):
        graph.write("close_tenures", referrer_ids=chunk)
    graph.write("bump_version", practice_id=PRACTICE_ID)
    report.seconds = time.perf_counter() - started
    log.info("import %s: %d rows written, %d bad, in %.1fs", folder, report.written,
             sum(c.bad for c in report.files.values()), report.seconds)
    return report


# -- reading ---------------------------------------------------------------


def read_folder(folder: Path, problems: list[Problem]) -> dict[str, Batch]:
    """Parse every known CSV file in ``folder``, in write order."""
    if not folder.is_dir():
        raise InvalidInput(f"{folder}: no such folder")
    present = {p.name for p in folder.iterdir() if p.suffix.lower() == ".csv"}
    for stray in sorted(present - set(BY_NAME)):
        problems.append(Problem(stray, None, "not a graphsvc file; expected one of "
                                + ", ".join(f.name for f in FILES)))
    if not present & set(BY_NAME):
        raise InvalidInput(f"{folder}: no graphsvc CSV files (expected some of "
                           + ", ".join(f.name for f in FILES) + ")")
    parsed = {}
    for spec in FILES:
        if spec.name in present:
            parsed[spec.name] = _read_file(folder / spec.name, spec, problems)
    return parsed


def _read_file(path: Path, spec: CsvFile, problems: list[Problem]) -> Batch:
    out = Batch(spec.kind, source=spec.name)
    name = spec.name
    try:
        handle = open(path, newline="", encoding="utf-8-sig")
    except OSError as e:
        problems.append(Problem(name, None, f"cannot be read: {e.strerror}"))
        return out
    with handle:
        reader = csv.reader(handle)
        try:
            header = [h.strip() for h in next(reader, [])]
        except (csv.Error, UnicodeDecodeError) as e:
            problems.append(Problem(name, 1, f"unreadable header: {e}"))
            return out
        header_ok = _check_header(name, spec, header, problems)
        record = spec.kind.model
        row_type = spec.kind.row_type
        seen: dict[tuple, int] = {}
        key_idx = None
        line = 1
        try:
            for cells in reader:
                line = reader.line_num
                if not cells or (len(cells) == 1 and not cells[0].strip()):
                    continue  # blank line
                if not header_ok:
                    out.unreadable += 1
                    continue
                if len(cells) != len(header):
                    problems.append(Problem(name, line, f"has {len(cells)} cells; the header has {len(header)}"))
                    out.unreadable += 1
                    continue
                values = dict(zip(header, cells))
                try:
                    rec = record(**values)
                except ValidationError as e:
                    for msg in explain(e):
                        problems.append(Problem(name, line, msg))
                    out.unreadable += 1
                    continue
                if key_idx is None:
                    key_idx = spec.kind.key
                key = tuple(getattr(rec, k) for k in key_idx)
                first = seen.get(key)
                if first is not None:
                    what = " and ".join(f"{k} {getattr(rec, k)!s}" for k in key_idx)
                    problems.append(Problem(name, line, f"duplicate {what} (first on line {first})"))
                    out.unreadable += 1
                    continue
                seen[key] = line
                out.rows.append((line, row_type._make(rec.__dict__.values())))
        except (csv.Error, UnicodeDecodeError) as e:
            problems.append(Problem(name, line + 1, f"unreadable: {e}"))
    return out


def _check_header(name: str, spec: CsvFile, header: list[str], problems: list[Problem]) -> bool:
    ok = True
    if not any(header):
        problems.append(Problem(name, 1, "is empty; expected a header row: " + ",".join(spec.columns)))
        return False
    for column in spec.kind.required:
        if column not in header:
            problems.append(Problem(name, 1, f"missing column {column!r}"))
            ok = False
    for column in header:
        if column not in spec.columns:
            why = (" (client records hold a pseudonymous id and matching attributes only)"
                   if spec.kind.name == "client" else "")
            problems.append(Problem(name, 1, f"unknown column {column!r}{why}; expected "
                                    + ",".join(spec.columns)))
            ok = False
    duplicated = {c for c in header if header.count(c) > 1}
    for column in sorted(duplicated):
        problems.append(Problem(name, 1, f"column {column!r} appears twice"))
        ok = False
    return ok


# -- writing ---------------------------------------------------------------


def _good(parsed: dict[str, Batch], name: str) -> Iterable:
    rows = parsed.get(name)
    return () if rows is None else (rec for _, rec in rows.good())


def _order(name: str) -> int:
    names = [f.name for f in FILES]
    return names.index(name) if name in names else -1
