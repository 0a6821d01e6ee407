"""``graphsvc export``: write the graph as a folder in the import format.

Every file is read in one transaction that holds the Practice lock
(``store.exports.read_all``, which says why no file sees half a write). The
files are written into a temporary folder beside the target, which is then
swapped in (atomically where the system can: Linux ``renameat2``), and the
old folder removed; a failed or killed export leaves the old folder as it
was (and at worst a hidden ``.NAME.export-*`` folder beside it). Rows come
out in key order, so exporting the same graph twice gives byte-identical
files. The folder is made mode 0700 and its files 0600, whatever the umask:
an export holds every client's needs and insurance.
"""

from __future__ import annotations

import csv
import ctypes
import ctypes.util
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InvalidInput
from ..store import exports
from ..store.db import Graph
from .format import FILES, CsvFile, to_cell


@dataclass
class ExportReport:
    folder: str
    files: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    # With ``graph_counts``: nodes per label, relationships per type and the change counter, read in the
    # export's own transaction (``store.exports.read_all``'s ``state``).
    graph: dict | None = None

    def as_dict(self) -> dict:
        return {"folder": self.folder, "files": dict(self.files),
                "rows": sum(self.files.values()), "seconds": round(self.seconds, 3)}


FOLDER_MODE, FILE_MODE = 0o700, 0o600


def export_folder(graph: Graph, folder: str | Path, *, graph_counts: bool = False) -> ExportReport:
    """Write every file of the format into ``folder``, replacing the folder as a whole.

    ``folder`` is created if missing; if it exists it may hold only the
    format's files (anything else is refused, since the folder is replaced).
    ``graph_counts``: also count the nodes and relationships in the same
    transaction (``ExportReport.graph``; a backup's manifest).
    """
    started = time.perf_counter()
    report = ExportReport(folder=str(folder))
    folder = Path(folder).resolve()  # a symlink: replace the folder it names, keep the link
    _check_target(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.export-", dir=folder.parent))
    try:
        os.chmod(tmp, FOLDER_MODE)
        by_kind = {spec.kind.name: spec for spec in FILES}
        state: dict | None = {} if graph_counts else None
        counts = exports.read_all(graph, [spec.kind.name for spec in reversed(FILES)],
                                  lambda kind, rows: _write_file(by_kind[kind], tmp / by_kind[kind].name, rows),
                                  lambda kind: by_kind[kind].columns, state=state)
        report.graph = state
        report.files = {spec.name: counts[spec.kind.name] for spec in FILES}
        _swap_in(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    report.seconds = time.perf_counter() - started
    return report


def _write_file(spec: CsvFile, path: Path, rows) -> int:
    """One file from the start (a retried read writes it again): the header, then ``rows``."""
    count = 0
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    os.fchmod(fd, FILE_MODE)  # whatever the umask
    with open(fd, "w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle, lineterminator="\n")
        out.writerow(spec.columns)
        for row in rows:
            out.writerow([to_cell(value) for value in row])
            count += 1
        handle.flush()
        os.fsync(handle.fileno())
    return count


def _check_target(folder: Path) -> None:
    if not folder.exists():
        return
    if not folder.is_dir():
        raise InvalidInput(f"{folder}: exists and is not a folder")
    ours = {spec.name for spec in FILES} | {f".{spec.name}.partial" for spec in FILES}  # (older exports' leftovers)
    strays = sorted(p.name for p in folder.iterdir() if p.name not in ours)
    if strays:
        raise InvalidInput(f"{folder}: holds files that are not part of an export ({', '.join(strays[:5])}"
                           f"{', ...' if len(strays) > 5 else ''}); an export replaces the whole folder, "
                           "so choose a new or empty folder, or one written by graphsvc export")


def _swap_in(tmp: Path, folder: Path) -> None:
    """Put the complete folder ``tmp`` at ``folder``; the old folder, if any, is removed."""
    if not folder.exists():
        os.rename(tmp, folder)
        return
    if _exchange(tmp, folder):  # one atomic step: ``folder`` is the new export, ``tmp`` the old one
        shutil.rmtree(tmp, ignore_errors=True)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{folder.name}.old-", dir=folder.parent))
    old.rmdir()
    os.rename(folder, old)
    try:
        os.rename(tmp, folder)
    except BaseException:
        os.rename(old, folder)
        raise
    shutil.rmtree(old, ignore_errors=True)


_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically with Linux's ``renameat2(RENAME_EXCHANGE)``; False if unavailable."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    done = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    return done == 0
