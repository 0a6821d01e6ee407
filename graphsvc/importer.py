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
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from pydantic import ValidationError

from .csvformat import BY_NAME, FILES, CsvFile
from .db import Graph
from .errors import InvalidInput
from .records import explain
from .schema import ensure_schema
from .vocabulary import PRACTICE, PRACTICE_ID

LOOKUP_CHUNK = 20_000


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.message}"


class ImportRejected(InvalidInput):
    """The folder has bad rows and nothing was written."""

    def __init__(self, folder: Path, problems: list[Problem]):
        self.folder = folder
        self.problem_list = problems
        lines = [str(p) for p in problems]
        super().__init__(lines)
        self.args = (
            f"{len(problems)} problem(s) in {folder}; nothing was written "
            f"(use --skip-bad to write the good rows):\n" + "\n".join(lines),
        )


@dataclass
class FileCount:
    rows: int = 0
    written: int = 0
    bad: int = 0


@dataclass
class ImportReport:
    folder: str
    files: dict[str, FileCount] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
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
            "seconds": round(self.seconds, 3),
        }


@dataclass
class _Rows:
    """The parsed rows of one file: (line, record) pairs, and which are bad."""

    spec: CsvFile
    rows: list[tuple[int, object]] = field(default_factory=list)
    bad_lines: set[int] = field(default_factory=set)
    unreadable: int = 0  # rows refused before they became records

    def good(self) -> Iterable[tuple[int, object]]:
        return ((ln, r) for ln, r in self.rows if ln not in self.bad_lines)


def import_folder(
    graph: Graph,
    folder: str | Path,
    *,
    skip_bad: bool = False,
    batch_size: int | None = None,
    progress: Callable[[int], None] | None = None,
    on_total: Callable[[int], None] | None = None,
) -> ImportReport:
    """Validate ``folder`` and write it to the graph; see the module docstring.

    ``progress(n)`` is called after each batch with the rows it wrote;
    ``on_total(n)`` once, before writing, with the number of rows to write.
    Raises ``ImportRejected`` (nothing written) when a row is bad and
    ``skip_bad`` is false.
    """
    started = time.perf_counter()
    folder = Path(folder)
    problems: list[Problem] = []
    parsed = read_folder(folder, problems)
    Checker(graph, parsed, problems).check()

    report = ImportReport(folder=str(folder))
    for name, rows in parsed.items():
        report.files[name] = FileCount(
            rows=len(rows.rows) + rows.unreadable,
            bad=len(rows.bad_lines) + rows.unreadable,
        )
    problems.sort(key=lambda p: (_order(p.file), p.line or 0))
    report.problems = problems
    if problems and not skip_bad:
        raise ImportRejected(folder, problems)

    ensure_schema(graph)
    batch_size = batch_size or graph.settings.batch_size
    if on_total:
        on_total(sum(len(r.rows) - len(r.bad_lines) for r in parsed.values()))
    for name, rows in parsed.items():
        payload = [_parameters(rows.spec, rec) for _, rec in rows.good()]
        report.files[name].written = _write(graph, rows.spec, payload, batch_size, progress)
    touched = sorted({p["referrer_id"] for p in _good_dicts(parsed, "handoffs.csv")}
                     | {p["id"] for p in _good_dicts(parsed, "referrers.csv")})
    for chunk in _chunks(touched, batch_size):
        graph.write("close_tenures", referrer_ids=chunk)
    report.seconds = time.perf_counter() - started
    return report


# -- reading ---------------------------------------------------------------


def read_folder(folder: Path, problems: list[Problem]) -> dict[str, _Rows]:
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


def _read_file(path: Path, spec: CsvFile, problems: list[Problem]) -> _Rows:
    out = _Rows(spec)
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
        record = spec.record
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
                    key_idx = spec.key
                key = tuple(getattr(rec, k) for k in key_idx)
                first = seen.get(key)
                if first is not None:
                    what = " and ".join(f"{k} {getattr(rec, k)!s}" for k in key_idx)
                    problems.append(Problem(name, line, f"duplicate {what} (first on line {first})"))
                    out.unreadable += 1
                    continue
                seen[key] = line
                out.rows.append((line, rec))
        except (csv.Error, UnicodeDecodeError) as e:
            problems.append(Problem(name, line + 1, f"unreadable: {e}"))
    return out


def _check_header(name: str, spec: CsvFile, header: list[str], problems: list[Problem]) -> bool:
    ok = True
    if not any(header):
        problems.append(Problem(name, 1, "is empty; expected a header row: " + ",".join(spec.columns)))
        return False
    for column in spec.required:
        if column not in header:
            problems.append(Problem(name, 1, f"missing column {column!r}"))
            ok = False
    for column in header:
        if column not in spec.columns:
            why = (" (client records hold a pseudonymous id and matching attributes only)"
                   if spec.name == "clients.csv" else "")
            problems.append(Problem(name, 1, f"unknown column {column!r}{why}; expected "
                                    + ",".join(spec.columns)))
            ok = False
    duplicated = {c for c in header if header.count(c) > 1}
    for column in sorted(duplicated):
        problems.append(Problem(name, 1, f"column {column!r} appears twice"))
        ok = False
    return ok


# -- cross-row checks ------------------------------------------------------


class Checker:
    """Checks every reference a row makes, in write order.

    An id is known when a good row earlier in the folder defines it, or the
    graph already holds it. Rows found bad here are marked in ``bad_lines``
    and so are unknown to the rows that come after them.
    """

    def __init__(self, graph: Graph | None, parsed: dict[str, _Rows], problems: list[Problem]):
        self.graph = graph
        self.parsed = parsed
        self.problems = problems
        self.members: dict[str, str] = {}        # id -> 'clinician' | 'staff'
        self.referrers: dict[str, object] = {}   # id -> since (None if only in the graph)
        self.holders: dict[str, str] = {}        # referrer id -> latest point person seen
        self.clients: set[str] = set()
        self.providers: dict[str, list[str]] = {}  # id -> niches
        self.stored: dict[str, dict] = {}

    def check(self) -> None:
        self.stored = self._lookup_stored()
        for name, rows in self.parsed.items():
            handler = getattr(self, "_" + rows.spec.stem)
            ordered = rows.rows
            if rows.spec.name == "handoffs.csv":  # judge each handoff after the ones before it
                ordered = sorted(rows.rows, key=lambda lr: (lr[1].referrer_id, lr[1].date))
            for line, rec in ordered:
                reasons = handler(rec)
                if reasons:
                    rows.bad_lines.add(line)
                    self.problems.extend(Problem(name, line, r) for r in reasons)
                else:
                    self._accept(rows.spec.stem, rec)

    # What a good row defines, for the rows after it.
    def _accept(self, stem: str, rec) -> None:
        if stem in ("clinicians", "staff"):
            self.members[rec.id] = "clinician" if stem == "clinicians" else "staff"
        elif stem == "referrers":
            self.referrers[rec.id] = rec.since
            self.holders[rec.id] = rec.point_person_id
        elif stem == "handoffs":
            self.holders[rec.referrer_id] = rec.point_person_id
        elif stem == "clients":
            self.clients.add(rec.id)
        elif stem == "external_providers":
            self.providers[rec.id] = list(rec.niches)

    def _lookup_stored(self) -> dict[str, dict]:
        """The graph's view of every id the folder refers to but does not define."""
        if self.graph is None:
            return {}
        defined = {rec.id for rows in self.parsed.values() if rows.spec.key == ("id",)
                   for _, rec in rows.rows}
        wanted = set()
        for rows in self.parsed.values():
            for _, rec in rows.rows:
                for f in ("referrer_id", "client_id", "point_person_id", "assigned_to",
                          "addressed_to", "introduced_id", "by_id", "member_id", "provider_id"):
                    v = getattr(rec, f, None)
                    if v is not None and v not in defined:
                        wanted.add(v)
        # Members and referrers defined here may clash with a different kind stored.
        for name in ("clinicians.csv", "staff.csv"):
            if name in self.parsed:
                wanted.update(rec.id for _, rec in self.parsed[name].rows)
        wanted.discard(PRACTICE)
        found = {}
        for chunk in _chunks(sorted(wanted), LOOKUP_CHUNK):
            for row in self.graph.read("existing_ids", ids=chunk):
                found[row["id"]] = row
        return found

    def _member_kind(self, member_id: str) -> str | None:
        kind = self.members.get(member_id)
        if kind is None and member_id in self.stored:
            kind = self.stored[member_id]["member"]
        return kind

    def _known_referrer(self, referrer_id: str) -> bool:
        return referrer_id in self.referrers or bool(self.stored.get(referrer_id, {}).get("referrer"))

    def _known_client(self, client_id: str) -> bool:
        return client_id in self.clients or bool(self.stored.get(client_id, {}).get("client"))

    def _needs(self, rec, *, referrer=True, client=False) -> list[str]:
        out = []
        if referrer and not self._known_referrer(rec.referrer_id):
            out.append(f"unknown referrer_id {rec.referrer_id!r}")
        if client and not self._known_client(rec.client_id):
            out.append(f"unknown client_id {rec.client_id!r}")
        return out

    def _clinician(self, field: str, member_id: str) -> list[str]:
        kind = self._member_kind(member_id)
        if kind is None:
            return [f"unknown {field} {member_id!r}"]
        if kind != "clinician":
            return [f"{field} {member_id!r} is a staff member, not a clinician"]
        return []

    def _member(self, field: str, member_id: str) -> list[str]:
        return [] if self._member_kind(member_id) else [f"unknown {field} {member_id!r}"]

    # One method per file: the reasons a parsed row is bad, or [].
    def _clinicians(self, rec) -> list[str]:
        return self._new_member(rec, "clinician")

    def _staff(self, rec) -> list[str]:
        return self._new_member(rec, "staff")

    def _new_member(self, rec, kind: str) -> list[str]:
        if rec.id == PRACTICE:
            return [f"id {PRACTICE!r} is reserved for referrals addressed to the practice"]
        other = self.members.get(rec.id) or (self.stored.get(rec.id) or {}).get("member")
        if other and other != kind:
            return [f"duplicate id {rec.id!r}: already a {other} (member ids are shared by clinicians and staff)"]
        return []

    def _external_providers(self, rec) -> list[str]:
        return []

    def _clients(self, rec) -> list[str]:
        return []

    def _referrers(self, rec) -> list[str]:
        return self._clinician("point_person_id", rec.point_person_id)

    def _handoffs(self, rec) -> list[str]:
        out = self._needs(rec) + self._clinician("point_person_id", rec.point_person_id)
        since = self.referrers.get(rec.referrer_id)
        if since is not None and rec.date <= since:
            out.append(f"date {rec.date} is not after the referrer's since date {since}")
        if self.holders.get(rec.referrer_id) == rec.point_person_id:
            out.append(f"hands the role to {rec.point_person_id!r}, who already holds it")
        return out

    def _referrals(self, rec) -> list[str]:
        out = self._needs(rec, client=True) + self._clinician("assigned_to", rec.assigned_to)
        if rec.addressed_to != PRACTICE:
            kind = self._member_kind(rec.addressed_to)
            if kind is None:
                out.append(f"unknown addressed_to {rec.addressed_to!r} (a member id or 'practice')")
            elif kind == "staff" and rec.pass_reason:
                out.append("pass_reason given, but only a referral addressed to a clinician is passed")
            elif kind == "clinician" and rec.assigned_to != rec.addressed_to and not rec.pass_reason:
                out.append(f"assigned_to {rec.assigned_to!r} differs from addressed_to "
                           f"{rec.addressed_to!r}: a pass needs a pass_reason")
        return out

    def _introductions(self, rec) -> list[str]:
        return (self._needs(rec) + self._member("introduced_id", rec.introduced_id)
                + self._member("by_id", rec.by_id))

    def _contacts(self, rec) -> list[str]:
        return self._needs(rec) + self._member("member_id", rec.member_id)

    def _referrals_out(self, rec) -> list[str]:
        out = self._needs(rec, client=True)
        niches = self.providers.get(rec.provider_id)
        if niches is None and (self.stored.get(rec.provider_id) or {}).get("provider"):
            niches = self.stored[rec.provider_id]["niches"] or []
        if niches is None:
            out.append(f"unknown provider_id {rec.provider_id!r}")
        elif rec.niche not in niches:
            out.append(f"niche {rec.niche!r} is not one of provider {rec.provider_id!r}'s niches "
                       f"({';'.join(niches) or 'none'})")
        return out


# -- writing ---------------------------------------------------------------


def _parameters(spec: CsvFile, rec) -> dict:
    row = rec.row()
    if spec.name == "referrals.csv":
        addressed = row.pop("addressed_to")
        row["addressed_member"] = None if addressed == PRACTICE else addressed
    return row


def _write(graph: Graph, spec: CsvFile, rows: list[dict], batch_size: int, progress) -> int:
    query = "upsert_" + spec.stem
    written = 0
    for batch in _chunks(rows, batch_size):
        graph.write(query, rows=batch, practice_id=PRACTICE_ID)
        written += len(batch)
        if progress:
            progress(len(batch))
    return written


def _good_dicts(parsed: dict[str, _Rows], name: str) -> Iterable[dict]:
    rows = parsed.get(name)
    if rows is None:
        return []
    return (rec.row() for _, rec in rows.good())


def _chunks(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _order(name: str) -> int:
    names = [f.name for f in FILES]
    return names.index(name) if name in names else -1
