"""``graphsvc backup`` and ``graphsvc restore``: the graph and the accounts database, together, checked.

A backup is one folder, ``graphsvc-backup-<UTC time>`` inside the folder
named, mode 0700, its files 0600:

* ``graph/``: the graph as ``graphsvc export`` writes it (one transaction
  holding the Practice lock, so no single write is half in it), with, read in
  that same transaction, the nodes per label, the relationships per type and
  the change counter;
* ``accounts.sqlite3``: the accounts, tokens and audit log, copied with
  SQLite's online backup API (consistent while the service writes);
* ``practice.json``: what the Practice node holds beyond the export (the
  suggestion weights ``graphsvc evaluate --tune`` stored), read in the
  export's transaction;
* ``client-id-key``: the key of the pseudonymous client ids a FHIR import
  derives (``graphsvc.fhir.pseudonym``), when it was generated into the data
  folder (not when a setting gives it): without it a restored practice would
  give a patient it knows a new client id on the next FHIR import;
* ``manifest.json``: what it holds (counts, the audit log's head), the
  SHA-256 and size of every file, when, and which graphsvc made it.

It is written as a hidden ``.graphsvc-backup-*.partial`` folder and renamed
when complete: a folder named ``graphsvc-backup-*`` is whole.

A restore checks the whole backup first (every file there, its checksum and
size, every CSV's rows, the accounts copy's counts and audit chain against the
manifest, the graph's counts against the files) and writes nothing if
anything is wrong, naming each problem; it refuses a graph or an accounts
database that holds anything unless forced. Then it imports ``graph/``
through the importer (as ``graphsvc import``), puts the accounts database in
place, records ``restore`` in its audit log, and compares the restored graph's
counts with the manifest.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from .accounts import (
    Accounts,
    backup_database,
    database_counts,
    restore_database,
    verify_audit_file,
)
from .csvio.exporter import FILE_MODE, FOLDER_MODE, export_folder
from .csvio.format import FILES
from .errors import GraphsvcError, InvalidInput, NotFound
from .keys import private_folder
from .service import Actor, Service
from .store.db import Graph
from .store.exports import graph_state
from .store.restore import wipe_graph

FORMAT = 1
PREFIX = "graphsvc-backup-"
NAME = re.compile(re.escape(PREFIX) + r"\d{8}T\d{6}Z(-\d+)?")
MANIFEST = "manifest.json"
GRAPH = "graph"
ACCOUNTS = "accounts.sqlite3"
PRACTICE = "practice.json"
CLIENT_ID_KEY = "client-id-key"
WEIGHT_KEYS = ("weights", "decay", "cases_learn", "cases_validate", "kept_defaults")

# The node label each file's rows are (handoffs and statuses are relationships).
LABELS = {"vocabularies.csv": "Term", "clinicians.csv": "Clinician", "staff.csv": "Staff",
          "external_providers.csv": "ExternalProvider", "clients.csv": "Client", "referrers.csv": "Referrer",
          "merged_referrers.csv": "MergedReferrer", "referrals.csv": "Referral",
          "introductions.csv": "Introduction", "contacts.csv": "Contact", "referrals_out.csv": "ReferralOut",
          "tasks.csv": "Task"}


def _version() -> str:
    try:
        return metadata.version("graphsvc")
    except metadata.PackageNotFoundError:  # pragma: no cover (a source tree not installed)
        return "unknown"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _csv_rows(path: Path) -> int:
    """Data rows of a CSV file (records, not lines: a quoted cell may hold a line break)."""
    with open(path, newline="", encoding="utf-8") as f:
        return max(sum(1 for _ in csv.reader(f)) - 1, 0)


def _private_dir(path: Path) -> None:
    path.mkdir(mode=FOLDER_MODE, parents=False, exist_ok=False)
    os.chmod(path, FOLDER_MODE)  # whatever the umask


def _write_json(path: Path, data) -> None:
    """A new file (0600, whatever the umask) holding ``data`` as JSON, flushed to disk."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    os.fchmod(fd, FILE_MODE)
    with open(fd, "w", encoding="utf-8") as f:
        print(json.dumps(data, indent=2, sort_keys=True, default=str), file=f)
        f.flush()
        os.fsync(f.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# -- backup -------------------------------------------------------------------------------------------------


@dataclass
class BackupReport:
    folder: str
    manifest: dict
    seconds: float = 0.0
    pruned: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        files = self.manifest["files"]
        return {"folder": self.folder, "created_at": self.manifest["created_at"],
                "graph": self.manifest["graph"], "accounts": self.manifest["accounts"],
                "files": len(files), "bytes": sum(f["bytes"] for f in files.values()),
                "pruned": list(self.pruned), "seconds": round(self.seconds, 3)}


def backup(graph: Graph, into: str | Path, *, keep: int | None = None, now: datetime | None = None) -> BackupReport:
    """A consistent backup of the graph and the accounts database as a new folder inside ``into``.

    ``keep``: afterwards, delete the oldest backups in ``into`` (folders named and made as graphsvc
    backups, nothing else) so that ``keep`` remain.
    """
    started = time.perf_counter()
    if keep is not None and keep < 1:
        raise InvalidInput(f"--keep: must be at least 1 (got {keep})")
    settings = graph.settings
    into = Path(into)
    if into.exists() and not into.is_dir():
        raise InvalidInput(f"{into}: exists and is not a folder")
    if not into.exists():
        into.parent.mkdir(parents=True, exist_ok=True)
        _private_dir(into)
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    name = PREFIX + moment.strftime("%Y%m%dT%H%M%SZ")
    n = 1
    while (into / name).exists() or (into / f".{name}.partial").exists():
        n += 1
        name = PREFIX + moment.strftime("%Y%m%dT%H%M%SZ") + f"-{n}"
    partial = into / f".{name}.partial"
    _private_dir(partial)
    try:
        exported = export_folder(graph, partial / GRAPH, graph_counts=True)
        _write_json(partial / PRACTICE, {"suggestion_weights": exported.graph.pop("suggestion_weights", None)})
        _copy_client_id_key(settings, partial / CLIENT_ID_KEY)
        Accounts.open(settings)  # made if there is none yet: a backup always holds one
        backup_database(settings.accounts_db, partial / ACCOUNTS)
        accounts = database_counts(partial / ACCOUNTS)
        chain = verify_audit_file(partial / ACCOUNTS)
        files = {}
        for path in sorted(p for p in partial.rglob("*") if p.is_file()):
            rel = path.relative_to(partial).as_posix()
            files[rel] = {"sha256": _sha256(path), "bytes": path.stat().st_size}
            if rel.startswith(f"{GRAPH}/"):
                files[rel]["rows"] = exported.files[path.name]
        manifest = {
            "format": FORMAT, "graphsvc": _version(), "created_at": moment.isoformat(timespec="seconds"),
            "neo4j": {"uri": settings.uri, "database": settings.neo4j_database},
            "graph": {**exported.graph, "rows": dict(exported.files)},
            "accounts": {**accounts, "audit_intact": chain.ok,
                         "audit_problem": chain.problem["message"] if chain.problem else None},
            "files": files,
        }
        _write_json(partial / MANIFEST, manifest)
        _fsync_dir(partial)
        os.rename(partial, into / name)
        _fsync_dir(into)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    report = BackupReport(folder=str(into / name), manifest=manifest)
    if keep is not None:
        report.pruned = prune(into, keep)
    report.seconds = time.perf_counter() - started
    return report


def _copy_client_id_key(settings, to: Path) -> None:
    """The generated client-id key into the backup (0600), if there is one."""
    if settings.fhir_client_id_key:
        return
    try:
        key = settings.client_id_key_file.read_bytes()
    except FileNotFoundError:
        return
    fd = os.open(to, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(fd, "wb") as f:
        f.write(key)
        f.flush()
        os.fsync(f.fileno())


def _aside(target: Path) -> Path:
    """Where a restore keeps the file it replaces: ``<name>.before-restore-<UTC time>``, and ``-2``, ``-3`` ...
    when restores within one second would share the name."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    aside, n = target.with_name(f"{target.name}.before-restore-{stamp}"), 1
    while aside.exists():
        n += 1
        aside = target.with_name(f"{target.name}.before-restore-{stamp}-{n}")
    return aside


def _client_id_key_refusal(settings, folder: Path) -> str | None:
    """Why the backup's client-id key cannot be put in place without ``force``: another key is there."""
    source, target = folder / CLIENT_ID_KEY, settings.client_id_key_file
    if (source.is_file() and not settings.fhir_client_id_key and target.exists()
            and target.read_bytes().strip() != source.read_bytes().strip()):
        return (f"{target} holds another client-id key than the backup's: patients would get other client "
                "ids on the next FHIR import; give --force to replace it (it is kept beside as a "
                ".before-restore copy)")
    return None


def _restore_client_id_key(settings, folder: Path) -> str | None:
    """Put the backup's client-id key in place (checked by ``_client_id_key_refusal``): what was done."""
    source, target = folder / CLIENT_ID_KEY, settings.client_id_key_file
    if not source.is_file() or settings.fhir_client_id_key:
        return None
    key = source.read_bytes()
    done = "restored"
    if target.exists():
        if target.read_bytes().strip() == key.strip():
            return None
        aside = _aside(target)
        os.replace(target, aside)
        done = f"replaced (the key before kept as {aside})"
    private_folder(target.parent)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(fd, "wb") as f:
        f.write(key)
        f.flush()
        os.fsync(f.fileno())
    return done


def backups_in(folder: str | Path) -> list[Path]:
    """The graphsvc backups in ``folder``, oldest first: folders named ``graphsvc-backup-<time>`` holding a
    manifest of ours. Anything else (files, other folders, unfinished ``.partial`` ones) is not listed."""
    found = []
    for path in Path(folder).iterdir():
        if not (NAME.fullmatch(path.name) and path.is_dir() and not path.is_symlink()):
            continue
        try:
            manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(manifest, dict) and manifest.get("format") == FORMAT and "files" in manifest:
            found.append(path)
    return sorted(found, key=lambda p: (p.name[:len(PREFIX) + 16], int(p.name[len(PREFIX) + 17:] or 1)))


def prune(folder: str | Path, keep: int) -> list[str]:
    """Delete all but the newest ``keep`` backups in ``folder``; the folders deleted, oldest first."""
    old = backups_in(folder)[:-keep]
    for path in old:
        shutil.rmtree(path)
    return [str(p) for p in old]


# -- checking a backup -----------------------------------------------------------------------------------------


def check_backup(folder: str | Path) -> dict:
    """The manifest of the backup ``folder`` once everything in it checks out; else ``InvalidInput``
    naming every problem (a missing or unlisted file, a checksum, size or row count that differs, counts
    that do not match, an audit log whose chain or head is not the one the manifest recorded)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise NotFound(f"{folder}: no such backup folder")
    path = folder / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        inside = backups_in(folder)
        if inside:  # the folder of the backups, not one of them
            raise InvalidInput(f"{path}: missing: {folder} holds {len(inside)} graphsvc backup"
                               f"{'s' if len(inside) > 1 else ''}; restore one of them, the newest is "
                               f"{inside[-1]}") from None
        raise InvalidInput(f"{path}: missing: {folder} is not a graphsvc backup, or an incomplete one") from None
    except (OSError, ValueError) as e:
        raise InvalidInput(f"{path}: not readable JSON ({e})") from None
    problems = _manifest_problems(manifest, path)
    if problems:
        raise InvalidInput(problems)
    problems = _file_problems(folder, manifest["files"]) + _count_problems(manifest, path)
    if not problems:  # the copies' contents, once their bytes are known to be the backup's
        problems += _accounts_problems(folder / ACCOUNTS, manifest["accounts"], path)
        problems += _practice_problems(folder / PRACTICE)
    if problems:
        raise InvalidInput([f"{folder}: damaged or incomplete backup; nothing was restored"] + problems)
    return manifest


def _file_problems(folder: Path, files: dict) -> list[str]:
    problems = []
    for rel, want in files.items():
        file = folder / rel
        if not file.is_file():
            problems.append(f"{file}: missing (the manifest lists it)")
            continue
        size = file.stat().st_size
        if size != want["bytes"]:
            problems.append(f"{file}: {size:,} bytes where the manifest says {want['bytes']:,}")
        if _sha256(file) != want["sha256"]:
            problems.append(f"{file}: checksum mismatch (sha256 is not the manifest's): the file was changed "
                            "or damaged")
            continue
        if "rows" in want:
            rows = _csv_rows(file)
            if rows != want["rows"]:
                problems.append(f"{file}: {rows:,} rows where the manifest says {want['rows']:,}")
    listed = {folder / rel for rel in files}
    for extra in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST and p not in listed):
        problems.append(f"{extra}: not in the manifest")
    wanted = {f"{GRAPH}/{spec.name}" for spec in FILES} | {ACCOUNTS, PRACTICE}
    for rel in sorted(wanted - set(files)):
        problems.append(f"{folder / rel}: missing from the manifest (a backup holds every file)")
    return problems


def _count_problems(manifest: dict, path: Path) -> list[str]:
    problems, files, graph = [], manifest["files"], manifest["graph"]
    for name, rows in sorted(graph.get("rows", {}).items()):
        label = LABELS.get(name)
        if label is not None and graph["labels"].get(label, 0) != rows:
            problems.append(f"{path}: graph.labels.{label} is {graph['labels'].get(label, 0):,} but "
                            f"graph/{name} holds {rows:,} rows: the counts do not match")
        if files.get(f"{GRAPH}/{name}", {}).get("rows", rows) != rows:
            problems.append(f"{path}: graph.rows.{name} is {rows:,} but files.{GRAPH}/{name}.rows is "
                            f"{files[f'{GRAPH}/{name}']['rows']:,}: the counts do not match")
    return problems


def _manifest_problems(manifest, path: Path) -> list[str]:
    if not isinstance(manifest, dict):
        return [f"{path}: not a graphsvc backup manifest (a JSON object expected)"]
    if manifest.get("format") != FORMAT:
        return [f"{path}: field 'format': {manifest.get('format')!r} is not a backup format this graphsvc "
                f"reads ({FORMAT})"]
    problems = []
    for key, kind in (("files", dict), ("graph", dict), ("accounts", dict), ("created_at", str)):
        if not isinstance(manifest.get(key), kind):
            problems.append(f"{path}: field {key!r}: missing or not a{'n object' if kind is dict else ' text'}")
    if problems:
        return problems
    for rel, want in manifest["files"].items():
        if (not isinstance(want, dict) or not isinstance(want.get("sha256"), str)
                or not isinstance(want.get("bytes"), int) or not isinstance(want.get("rows", 0), int)):
            problems.append(f"{path}: field 'files.{rel}': needs sha256 (text) and bytes (a number)")
        if Path(rel).is_absolute() or ".." in Path(rel).parts:
            problems.append(f"{path}: field 'files.{rel}': not a path inside the backup")
    graph = manifest["graph"]
    for key in ("labels", "relationships", "rows"):
        if not isinstance(graph.get(key), dict):
            problems.append(f"{path}: field 'graph.{key}': missing or not an object")
    accounts = manifest["accounts"]
    for key in ("users", "tokens", "audit"):
        if not isinstance(accounts.get(key), int):
            problems.append(f"{path}: field 'accounts.{key}': missing or not a number")
    if not isinstance(accounts.get("audit_head"), dict):
        problems.append(f"{path}: field 'accounts.audit_head': missing or not an object")
    return problems


def _practice_problems(path: Path) -> list[str]:
    try:
        practice = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        return [f"{path}: not readable JSON ({e})"]
    if not isinstance(practice, dict) or "suggestion_weights" not in practice:
        return [f"{path}: field 'suggestion_weights': missing"]
    weights = practice["suggestion_weights"]
    if weights is not None and (not isinstance(weights, dict) or any(k not in weights for k in WEIGHT_KEYS)
                                or not isinstance(weights["weights"], list) or len(weights["weights"]) != 3):
        return [f"{path}: field 'suggestion_weights': needs {', '.join(WEIGHT_KEYS)} (weights: three numbers)"]
    return []


def _tune_result(stored: dict) -> dict:
    """Stored suggestion weights (``store.weights.stored_weights``) as ``Service.store_weights`` takes them."""
    fit, trust, track = stored["weights"]
    return {"weights": {"fit": fit, "trust": trust, "track": track}, "decay": stored["decay"],
            "cut": stored.get("cut"), "kept_defaults": stored["kept_defaults"], "why": stored.get("why"),
            "cases": {"learn": stored["cases_learn"], "validate": stored["cases_validate"]},
            "validation": stored.get("validation")}


def _accounts_problems(copy: Path, want: dict, path: Path) -> list[str]:
    try:
        counts = database_counts(copy)
        chain = verify_audit_file(copy)
    except GraphsvcError as e:
        return [str(e)]
    problems = [f"{copy}: {counts[key]:,} {key} where the manifest says {want[key]:,}"
                for key in ("users", "tokens", "audit") if counts[key] != want[key]]
    if counts["audit_head"] != want["audit_head"]:
        problems.append(f"{copy}: the audit log's head is not the one the manifest recorded")
    if want.get("audit_intact", True) and not chain.ok:
        problems.append(f"{copy}: the audit log's chain is broken: {chain.problem['message']}")
    return problems


# -- restore --------------------------------------------------------------------------------------------------


@dataclass
class RestoreReport:
    folder: str
    manifest: dict
    rows: dict[str, int] = field(default_factory=dict)
    wiped: int = 0
    weights: bool = False
    accounts_db: str = ""
    kept_aside: str | None = None
    audit: dict | None = None
    differences: list[str] = field(default_factory=list)
    client_id_key: str | None = None  # "restored", "replaced (...)", or None: nothing to do
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return {"folder": self.folder, "created_at": self.manifest["created_at"], "rows": dict(self.rows),
                "nodes_deleted_first": self.wiped, "suggestion_weights_restored": self.weights,
                "accounts_db": self.accounts_db,
                "previous_accounts_db": self.kept_aside, "audit": self.audit,
                "counts_match": not self.differences, "differences": list(self.differences),
                "client_id_key": self.client_id_key,
                "seconds": round(self.seconds, 3)}


def _in_graph(state: dict) -> int:
    return sum(n for label, n in state["labels"].items() if label != "Practice")


def restore(graph: Graph, folder: str | Path, *, by: Actor, force: bool = False) -> RestoreReport:
    """Restore the backup ``folder`` into the graph and the settings' accounts database.

    Everything is checked before anything is written (``check_backup``, then: the graph holds nothing
    but its Practice node, and no accounts database with users, tokens or audit entries is at the
    settings' ``accounts_db``), each refusal naming what is wrong. ``force``: empty the graph first, and
    replace the accounts database (the old one is kept beside it as ``<name>.before-restore-<time>``).
    """
    started = time.perf_counter()
    folder = Path(folder)
    manifest = check_backup(folder)
    settings = graph.settings
    target = Path(settings.accounts_db)
    state = graph_state(graph)
    held = _in_graph(state)
    refusals = []
    if held and not force:
        labels = ", ".join(f"{n:,} {label}" for label, n in sorted(state["labels"].items()) if label != "Practice")
        refusals.append(f"the graph at {settings.uri} (database {settings.neo4j_database!r}) is not empty "
                        f"({labels}): restore into an empty database, or give --force to delete its nodes first")
    existing = None
    if target.exists():
        accounts = Accounts(target)
        existing = {"users": len(accounts.users()), "tokens": len(accounts.tokens()),
                    "audit": accounts.count_entries()}
        if any(existing.values()) and not force:
            held_here = ", ".join(f"{n:,} {what if n == 1 else whats}" for n, what, whats in (
                (existing["users"], "user", "users"), (existing["tokens"], "token", "tokens"),
                (existing["audit"], "audit entry", "audit entries")))
            refusals.append(f"the accounts database {target} holds {held_here}: give --force to "
                            "replace it (it is kept beside as a .before-restore copy), or set web.accounts_db "
                            "(GRAPHSVC_ACCOUNTS_DB) to a new file")
    key_refusal = _client_id_key_refusal(settings, folder)
    if key_refusal and not force:
        refusals.append(key_refusal)
    if refusals:
        raise InvalidInput(refusals)
    report = RestoreReport(folder=str(folder), manifest=manifest, accounts_db=str(target))
    if held:
        report.wiped = wipe_graph(graph)
    # The graph through the importer, not audited here: the entries go into the restored log below.
    service = Service(graph, settings.analysis, audit=None)
    imported = service.import_folder(folder / GRAPH, by=by)
    report.rows = {name: count.written for name, count in imported.files.items()}
    weights = json.loads((folder / PRACTICE).read_text(encoding="utf-8"))["suggestion_weights"]
    if weights is not None:  # stored as tuned then (its tuned_at becomes now)
        service.store_weights(_tune_result(weights))
        report.weights = True
    if existing is not None and any(existing.values()):
        aside = _aside(target)
        backup_database(target, aside)
        report.kept_aside = str(aside)
    restore_database(folder / ACCOUNTS, target)
    report.client_id_key = _restore_client_id_key(settings, folder)
    accounts = Accounts(target)
    after = graph_state(graph)
    for kind in ("labels", "relationships"):
        want, got = manifest["graph"][kind], after[kind]
        for key in sorted(set(want) | set(got)):
            if key != "Practice" and want.get(key, 0) != got.get(key, 0):
                report.differences.append(f"{kind}.{key}: {got.get(key, 0):,} restored, "
                                          f"{want.get(key, 0):,} in the backup")
    accounts.record("restore", user=by.user, address=by.address,
                    detail={"folder": os.path.abspath(folder), "created_at": manifest["created_at"],
                            "rows": report.rows, "nodes_deleted_first": report.wiped,
                            "counts_match": not report.differences})
    report.audit = accounts.verify_audit().as_dict()
    report.seconds = time.perf_counter() - started
    return report
