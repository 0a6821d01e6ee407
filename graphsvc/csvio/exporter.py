"""``graphsvc export``: write the graph as a folder in the import format.

Every file is read in ONE transaction, which first takes the lock on the
Practice node. Neo4j's isolation is read-committed, so one transaction alone
is not a snapshot; but every write of the API bumps the Practice node's
change counter inside its own transaction, so while the export holds that
lock no such write can commit (it waits, and commits after), and any that
committed before has been applied in full. An import's batches do not take
that lock (they would run one at a time); they write files in dependency
order and never delete a node, so the export reads the files the other way
round (events first, members last): a row read can only name a record that
was already committed and is read later. Together: no referral names a client
missing from clients.csv, whatever runs at the same time. The price: API
writes wait while an export runs (a few seconds for the demo practice), and
exporting needs a Neo4j user allowed to write (the lock changes nothing).

The files are written into a temporary folder beside the target, which is
then swapped in (atomically where the system can: Linux ``renameat2``), and
the old folder removed; a failed or killed export leaves the old folder as
it was (and at worst a hidden ``.NAME.export-*`` folder beside it). Rows come
out in key order, so exporting the same graph twice gives byte-identical
files.
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
from ..store.catalog import query
from ..store.db import Graph
from ..vocabulary import PRACTICE_ID
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
    """Write every file of the format into ``folder``, replacing the folder as a whole.

    ``folder`` is created if missing; if it exists it may hold only the
    format's files (anything else is refused, since the folder is replaced).
    """
    started = time.perf_counter()
    report = ExportReport(folder=str(folder))
    folder = Path(folder).resolve()  # a symlink: replace the folder it names, keep the link
    _check_target(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.export-", dir=folder.parent))
    try:
        os.chmod(tmp, _folder_mode(folder))
        counts = graph.write_tx(_export_all, tmp)
        report.files = {spec.name: counts[spec.name] for spec in FILES}
        _swap_in(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    report.seconds = time.perf_counter() - started
    return report


def _export_all(tx, tmp: Path) -> dict[str, int]:
    """Read every file in this one transaction, holding the Practice lock; see the module docstring.

    A retried transaction writes every file again from the start.
    """
    tx.run(query("lock_practice"), practice_id=PRACTICE_ID).consume()
    return {spec.name: _write_file(tx, spec, tmp / spec.name) for spec in reversed(FILES)}


def _write_file(tx, spec: CsvFile, path: Path) -> int:
    columns = spec.columns
    count = 0
    with open(path, "w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle, lineterminator="\n")
        out.writerow(columns)
        for record in tx.run(query(EXPORT[spec.name])):
            out.writerow([to_cell(record[c]) for c in columns])
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


def _folder_mode(folder: Path) -> int:
    """The old folder's permissions, or those a new folder gets (mkdtemp's are 0700)."""
    if folder.exists():
        return folder.stat().st_mode & 0o7777
    umask = os.umask(0)
    os.umask(umask)
    return 0o777 & ~umask


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
