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
import io
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from ..errors import InvalidInput
from ..presentation import count_of
from ..records import TEXT_FIELDS, explain
from ..requests import shown
from ..rules import Batch, Checker, Problem
from ..store.db import Graph
from ..store.schema import ensure_schema
from ..store.writes import UPSERT, parameters, write_batches
from ..vocabulary import PRACTICE_ID
from .format import BY_NAME, FILES, CsvFile, from_cell

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
    graph.write("mark_bulk_change", practice_id=PRACTICE_ID)  # before and after: a half-done import counts too
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
    # upsert_referrers and upsert_handoffs close the tenures they touch within
    # each batch, so no referrer ever has two current point persons, even
    # between batches or after an import cut short.
    graph.write("mark_bulk_change", practice_id=PRACTICE_ID)
    report.seconds = time.perf_counter() - started
    log.info("import %s: %d rows written, %d bad, in %.1fs", folder, report.written,
             sum(c.bad for c in report.files.values()), report.seconds)
    return report


# -- reading ---------------------------------------------------------------


# The longest cell the CSV reader takes, in characters: far above any field's
# own limit (graphsvc.records), so that a value too long is reported by its
# field ("field 'name' is 204,800 characters; the limit is 200"); it also
# bounds what an unterminated quote can swallow before it is reported.
CELL_MAX = 1 << 20
if csv.field_size_limit() < CELL_MAX:  # process-wide, so only ever raised
    csv.field_size_limit(CELL_MAX)


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
    """Every row of one file: the good ones in ``rows``, the others counted in ``unreadable``.

    A row that cannot be read is a problem at the line it starts on, and
    reading goes on with the next row: a byte that is not UTF-8, a cell of
    more than ``CELL_MAX`` characters, a stray or unterminated quote spoil one
    row, never the rest of the file. So every row is either in ``rows`` or
    counted in ``unreadable`` (each with a problem, unless the header is bad).
    """
    out = Batch(spec.kind, source=spec.name)
    name = spec.name
    try:
        handle = open(path, "rb")
    except OSError as e:
        problems.append(Problem(name, None, f"cannot be read: {e.strerror}"))
        return out
    with handle:
        lines = _Lines(handle)
        taken = lines.taken
        bad_bytes = lines.bad_bytes
        reader = csv.reader(lines, strict=True)
        header: list[str] = []
        header_ok = False
        try:
            header = [h.strip() for h in next(reader, [])]
        except csv.Error as e:
            problems.append(Problem(name, 1, f"unreadable header: {_csv_problem(e, 1, lines.number)}"))
            reader = csv.reader(lines.restart_after(1), strict=True)
        else:
            spoiled = lines.decode_problem(1, lines.number) if bad_bytes else None
            if spoiled:
                problems.append(Problem(name, 1, f"unreadable header: {spoiled}"))
            else:
                header_ok = _check_header(name, spec, header, problems)
        taken.clear()
        record = spec.kind.model
        row_type = spec.kind.row_type
        width = len(header)
        text_cells = [i for i, h in enumerate(header) if h in TEXT_FIELDS]
        seen: dict[tuple, int] = {}
        key_idx = spec.kind.key
        done = lines.number  # the last line of the row before
        while True:
            try:
                for cells in reader:
                    line = done + 1  # where this row starts
                    done = lines.number
                    taken.clear()
                    if bad_bytes:  # is a byte that is not UTF-8 in this row?
                        spoiled = lines.decode_problem(line, done)
                        if spoiled:
                            if header_ok:
                                problems.append(Problem(name, line, spoiled))
                            out.unreadable += 1
                            continue
                    if not cells or (len(cells) == 1 and not cells[0].strip()):
                        continue  # blank line
                    if not header_ok:
                        out.unreadable += 1
                        continue
                    if len(cells) != width:
                        problems.append(Problem(name, line, f"has {len(cells)} cells; the header has {width}"))
                        out.unreadable += 1
                        continue
                    for i in text_cells:
                        if cells[i][:1] == "'":
                            cells[i] = from_cell(cells[i])
                    try:
                        rec = record(**dict(zip(header, cells)))
                    except ValidationError as e:
                        for msg in explain(e):
                            problems.append(Problem(name, line, msg))
                        out.unreadable += 1
                        continue
                    key = tuple(getattr(rec, k) for k in key_idx)
                    first = seen.get(key)
                    if first is not None:
                        what = " and ".join(f"{k} {getattr(rec, k)!s}" for k in key_idx)
                        problems.append(Problem(name, line, f"duplicate {what} (first on line {first})"))
                        out.unreadable += 1
                        continue
                    seen[key] = line
                    out.rows.append((line, row_type._make(rec.__dict__.values())))
                break
            except csv.Error as e:
                # The row starting on ``line`` is bad. If it ran on over more
                # lines (a quote opened and never closed, say), those lines are
                # read again as rows of their own: a bad row takes no others with it.
                line = done + 1
                if header_ok:
                    problems.append(Problem(name, line, _csv_problem(e, line, lines.number)))
                out.unreadable += 1
                reader = csv.reader(lines.restart_after(line), strict=True)
                done = line
    return out


class _Lines:
    """The physical lines of a CSV file as text, for ``csv.reader``.

    The file is read as bytes and each line decoded on its own, so a byte
    that is not UTF-8 spoils its own line only: it reads as U+FFFD and the
    line is noted in ``bad_bytes``. Lines end at ``\\n``, ``\\r\\n`` or a lone
    ``\\r``, as with ``open(newline="")``; a byte order mark is dropped.
    ``number`` is the number of the line handed out last; ``taken`` the lines
    handed out since the reader last cleared it (the lines of the row being
    read, numbered up to ``number``), so that ``restart_after`` can hand them
    out again.
    """

    def __init__(self, handle):
        self.number = 0
        self.bad_bytes: dict[int, tuple[bytes, UnicodeDecodeError]] = {}
        self.taken: list[str] = []
        self._handle = handle
        self._again: list[tuple[int, str]] = []  # lines to hand out again, last first
        self._count: int | None = None  # lines in the file, once all are read
        self._lines = self._read(0)

    def __iter__(self):
        return self._lines

    def restart_after(self, line: int):
        """The lines from the one after ``line`` on (taken already, so handed out again)."""
        first = self.number - len(self.taken) + 1
        self._again.extend(reversed([(n, text) for n, text in enumerate(self.taken, first) if n > line]))
        self.taken.clear()
        for n in [n for n in self.bad_bytes if n <= line]:
            del self.bad_bytes[n]
        if self._count is not None:  # the file is read to its end: hand the lines out anew
            self._lines = self._read(self._count)
        return self

    def _read(self, number: int):
        taken = self.taken
        again = self._again
        while again:
            self.number, text = again.pop()
            taken.append(text)
            yield text
        handle = self._handle
        if number == 0:  # a byte order mark starts the first line
            if handle.peek(3)[:3] == b"\xef\xbb\xbf":
                handle.read(3)
        for raw in handle:
            number += 1
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                text = raw.decode("utf-8", "replace")
                self.bad_bytes[number] = (raw, e)
            if "\r" in text and not (text[-2:] == "\r\n" and text.count("\r") == 1):
                # Line breaks other than a last \r\n: more than one line.
                pieces = list(io.StringIO(text, newline=""))
                text = pieces.pop()
                bad = self.bad_bytes.pop(number, None)
                for piece in pieces:
                    if bad and "\ufffd" in piece:
                        self.bad_bytes[number], bad = bad, None
                    self.number = number
                    taken.append(piece)
                    yield piece
                    while again:
                        self.number, piece = again.pop()
                        taken.append(piece)
                        yield piece
                    number += 1
                if bad:
                    self.bad_bytes[number] = bad
            self.number = number
            taken.append(text)
            yield text
            while again:  # a row went wrong: its lines after the first, once more
                self.number, text = again.pop()
                taken.append(text)
                yield text
        self._count = number

    def decode_problem(self, first: int, last: int) -> str | None:
        """What is wrong with the first line from ``first`` to ``last`` that is
        not UTF-8, or None if they all are; forgets lines up to ``last``."""
        spoiled = sorted(n for n in self.bad_bytes if n <= last)
        found = [self.bad_bytes.pop(n) for n in spoiled]
        if not spoiled or spoiled[-1] < first:
            return None
        line, (raw, e) = next((n, f) for n, f in zip(spoiled, found) if n >= first)
        where = f"character {len(raw[:e.start].decode('utf-8', 'replace')) + 1}"
        if line != first:
            where = f"line {line}, {where}"
        return f"not UTF-8: byte 0x{raw[e.start]:02X} at {where} (save the file as UTF-8)"


def _csv_problem(error: csv.Error, first: int, last: int) -> str:
    """The CSV reader's ``error`` about the row on lines ``first`` to ``last``, in plain words."""
    text = str(error)
    if text == "unexpected end of data":
        return f"unterminated quoted field starting on line {first}"
    if text.startswith("field larger than field limit"):
        where = f" (on line {last})" if last != first else ""
        return f"has a cell of more than {csv.field_size_limit():,} characters{where}"
    if text.startswith("',' expected after '\"'"):
        where = f" on line {last}" if last != first else ""
        return f"a quoted field has text after its closing quote{where} (a \" inside quotes is written \"\")"
    return f"cannot be read as CSV: {text}"


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
            problems.append(Problem(name, 1, f"unknown column {shown(column)}{why}; expected "
                                    + ",".join(spec.columns)))
            ok = False
    duplicated = {c for c in header if header.count(c) > 1}
    for column in sorted(duplicated):
        problems.append(Problem(name, 1, f"column {shown(column)} appears twice"))
        ok = False
    return ok


# -- writing ---------------------------------------------------------------


def _order(name: str) -> int:
    names = [f.name for f in FILES]
    return names.index(name) if name in names else -1
