"""Reading a folder of CSV files for ``graphsvc import``: every row validated, every problem named.

``read_folder`` parses each known file of the folder (``format.FILES``) into
records (``graphsvc.records``), one ``checks.Batch`` per file in write order,
noting each row it cannot read or that its model refuses as a ``Problem`` at
its file and line (a duplicate key within a file too). The rules between
records, and the writing, are ``graphsvc.service.Service.import_folder``'s:
if any row is bad nothing is written (``ImportRejected``), unless the good
rows are wanted alone.
"""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from ..checks import Batch, Problem
from ..errors import InvalidInput
from ..limits import shown
from ..presentation import count_of
from ..records import TEXT_FIELDS, explain
from .format import BY_NAME, FILES, CsvFile, from_cell

log = logging.getLogger(__name__)


class ImportRejected(InvalidInput):
    """The folder has bad rows and nothing was written."""

    def __init__(self, folder: Path, problems: list[Problem]):
        self.folder = folder
        # What the format's reader read, for the summary of a refused import (a FHIR import's counts, an
        # HSDS directory's reading); None for a CSV folder.
        self.detail = None
        lines = [str(p) for p in problems]
        super().__init__(lines, words=[{**p.word, "source": p.source, "line": p.line} for p in problems if p.word])
        new_words = (" or --add-values to add the words no vocabulary holds to the practice's vocabularies"
                     if self.words else "")
        self.args = (
            f"{count_of(len(problems), 'problem')} in {folder}; nothing was written "
            f"(use --skip-bad to write the good rows{new_words}):\n" + "\n".join(lines),
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
    # Words the import added to the vocabularies (a first import into an empty practice adopts the words it
    # brings; a later one only with ``--add-values``): vocabulary -> words.
    values_added: dict[str, list[str]] = field(default_factory=dict)

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
            "values_added": {k: list(v) for k, v in self.values_added.items()},
            "validate_seconds": round(self.validate_seconds, 3),
            "seconds": round(self.seconds, 3),
        }


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
    if folder.is_file():
        raise InvalidInput(f"{folder}: is a file; a CSV import reads a folder of CSV files (a FHIR Bundle: "
                           "--format fhir)")
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
        reader, header, header_ok = _read_header(name, spec, lines, problems)
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
                    rec = _parsed(name, line, record, header, cells, key_idx, seen, problems)
                    if rec is None:
                        out.unreadable += 1
                        continue
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


def _parsed(name: str, line: int, record, header: list[str], cells: list[str], key: tuple[str, ...],
            seen: dict, problems: list[Problem]):
    """The row as a record whose key the file has not had before, or None with its problems noted."""
    try:
        rec = record(**dict(zip(header, cells, strict=True)))
    except ValidationError as e:
        problems.extend(Problem(name, line, msg) for msg in explain(e))
        return None
    k = tuple(getattr(rec, f) for f in key)
    first = seen.get(k)
    if first is not None:
        what = " and ".join(f"{f} {getattr(rec, f)!s}" for f in key)
        problems.append(Problem(name, line, f"duplicate {what} (first on line {first})"))
        return None
    seen[k] = line
    return rec


def _read_header(name: str, spec: CsvFile, lines: _Lines, problems: list[Problem]):
    """``(reader, header, header_ok)``: the file's header read and checked, the reader at the next row."""
    reader = csv.reader(lines, strict=True)
    try:
        header = [h.strip() for h in next(reader, [])]
    except csv.Error as e:
        problems.append(Problem(name, 1, f"unreadable header: {_csv_problem(e, 1, lines.number)}"))
        return csv.reader(lines.restart_after(1), strict=True), [], False
    spoiled = lines.decode_problem(1, lines.number) if lines.bad_bytes else None
    if spoiled:
        problems.append(Problem(name, 1, f"unreadable header: {spoiled}"))
        return reader, header, False
    return reader, header, _check_header(name, spec, header, problems)


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
        line, (raw, e) = next((n, f) for n, f in zip(spoiled, found, strict=False) if n >= first)
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


def problem_order(problem: Problem) -> tuple[int, int]:
    """The order problems are reported in: by file, in write order (stray files first), then by line."""
    names = [f.name for f in FILES]
    return (names.index(problem.source) if problem.source in names else -1), problem.line or 0
