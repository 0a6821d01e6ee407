"""Writing the graph: one write's statements in one transaction, and batched bulk writes.

``graphsvc.service`` decides what to write and checks it; this module only
runs statements, always with parameters, and hands back plain Python values
(no Neo4j type leaves it). Two ways in:

``run_write(db, work, analyse=...)``
    One write a person makes, as one managed (retried) transaction: ``work``
    gets a ``WriteUnit`` whose methods are that transaction's statements
    (look ids up, lock a referral or a referrer, create a node under its id's
    uniqueness constraint, upsert rows, pass a referral, mark referrers
    changed), and returns plain data. Being retried, it must be idempotent.
    A taken id (a uniqueness constraint, even one reported at commit) is
    ``IdTaken`` naming the label and the id; the transaction has rolled back.

``write_batches`` / ``mark_bulk_change`` / ``write_back``
    Bulk writes (an import, the analysis stored on every referrer):
    ``UNWIND $rows`` batches, several transactions at a time.

Turns. Every ``WriteUnit`` first bumps the Practice node's change counter
(``bump_version``), which takes that node's write lock; so single writes take
turns, whole, in the order they get the lock, and each one's checks see every
write committed before it. One lock order for all of them (Practice, then the
referral or referrer a pass or handoff is about, then whatever the statements
touch) means they cannot deadlock among themselves. Why not avoid the hot
node instead: the live analysis needs one counter every write moves, these
are one-record writes a person makes (milliseconds each), and taking turns
makes "check, then write" safe for every rule without a lock per rule. Bulk
imports bump the counter only before and after (``mark_bulk_change``), and
run side by side; a deadlock with one of their batches is transient, and the
driver retries the transaction (logging a warning to the log file).

Change feed. The referrers a write changes (``WriteUnit.changed``; for a
client, the referrers of its referrals) are stamped with the version the
write produced (``changed_in``, ``stamp_referrers``); a live analysis holding
an older version reads just those referrers again (``graphsvc.live``).

Stored analysis. With ``analyse``, the same transaction then stores those
referrers' fresh stage, metrics and options on their nodes, last: it projects
just them with the transaction's own reads, which see the write, and hands
that graph to ``analyse`` (given by the service; this package does not
import the analysis), which returns the rows to store. So analysts' Cypher
never reads a count the write has made stale, and a refused or retried write
stores nothing stale either. At demo size (1,000 referrers, 20,000 referrals)
a referral takes a median 20 ms with it instead of 7.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from neo4j.exceptions import ConstraintError

from ..batching import batched
from ..errors import IdTaken, NpiTaken
from ..vocabulary import PRACTICE, PRACTICE_ID
from . import projection
from .catalog import query
from .db import Graph
from .reads import existing
from .schema import ensure_schema
from .terms import add_words, added_words
from .values import native_rows

# The upsert statement of each kind of record: UNWIND $rows, keyed on ids.
UPSERT = {
    "term": "upsert_terms",
    "clinician": "upsert_clinicians",
    "staff": "upsert_staff",
    "external_provider": "upsert_external_providers",
    "client": "upsert_clients",
    "referrer": "upsert_referrers",
    "merged_referrer": "upsert_merged_referrers",
    "handoff": "upsert_handoffs",
    "referral": "upsert_referrals",
    "referral_status": "upsert_referral_statuses",
    "introduction": "upsert_introductions",
    "contact": "upsert_contacts",
    "referral_out": "upsert_referrals_out",
    "task": "upsert_tasks",
}

# The statement that creates a new node of each kind with just its id, under the id's uniqueness
# constraint (CREATE, not MERGE: a taken id fails, even one taken by a transaction that commits meanwhile).
CREATE = {
    "referral": "create_referral",
    "introduction": "create_introduction",
    "contact": "create_contact",
    "referral_out": "create_referral_out",
    "clinician": "create_clinician",
    "staff": "create_staff",
    "referrer": "create_referrer",
    "client": "create_client",
    "external_provider": "create_external_provider",
}


@dataclass(frozen=True)
class StoredAnalysis:
    """What ``analyse`` returns: the rows to store (``{"id", "props"}``) and the options they were computed
    with (``AnalysisOptions.stored()``); ``results`` is anything the caller wants back (it is not stored)."""

    rows: list[dict]
    options: dict
    results: Any = None


# sub-graph of the changed referrers, their ids -> what to store on them
Analyse = Callable[[Any, list[str]], StoredAnalysis]


@dataclass(frozen=True)
class Written:
    """A committed write: what ``work`` returned, the version it produced, the referrers it changed,
    and (with ``analyse``) their projection and stored analysis, as the transaction saw them."""

    result: Any
    version: int
    referrers: list[str]
    projected: Any = None
    analysis: StoredAnalysis | None = None


class WriteUnit:
    """The statements of one write transaction, taking and giving plain values."""

    def __init__(self, tx, analyse: Analyse | None):
        self.tx = tx
        self.version = self._take_turn()
        self._analyse = analyse
        self.changed: set[str] = set()   # referrers whose analysis changed: stamped, their analysis stored
        self.touched: set[str] = set()   # referrers whose part of the analysed graph changed: stamped only

    def _run(self, name: str, **params) -> list[dict]:
        return self.tx.run(query(name), params).data()

    def _take_turn(self) -> int:
        """Bump the change counter, returning the new version: the first statement of every write."""
        return self.tx.run(query("bump_version"), practice_id=PRACTICE_ID).single()["version"]

    def lookup(self, ids: list[str]) -> list[dict]:
        """What the graph holds under ``ids`` (``existing_ids``: members, referrers and their tenures,
        clients, outside providers), dates as ``datetime.date``."""
        return existing(self._run("existing_ids", ids=ids))

    def npi_holders(self, npis: list[str]) -> list[dict]:
        """Who holds each of ``npis`` (``npi_holders``: ``{"npi", "id", "kind"}``), as this write sees it."""
        return self._run("npi_holders", npis=npis)

    def event_keys(self, referrer_ids: list[str]) -> list[dict]:
        """The stored introductions and contacts of these referrers (``reads.event_keys``), as this write
        sees them."""
        return self._run("event_keys", ids=referrer_ids)

    def added_words(self) -> dict[str, list[str]]:
        """The words managers added to the vocabularies (``graphsvc.vocabularies``), as this write sees them."""
        return added_words(self._run("terms"))

    def add_words(self, rows: list[dict], day) -> list[dict]:
        """Add ``{"vocabulary", "value"}`` rows to the vocabularies; each row back with ``added``."""
        return add_words(self.tx, rows, day)

    def referral(self, referral_id: str) -> dict | None:
        """Referral ``referral_id``'s record (locked first: a concurrent pass waits), or None."""
        self.tx.run(query("lock_referral"), id=referral_id).consume()
        found = native_rows(self._run("referral_record", id=referral_id))
        return found[0] if found else None

    def referrals_of(self, referrer_id: str) -> list[dict]:
        """The referrer's referrals: ``id``, ``date``, ``consent_to_update``, ``assigned_to``, by date."""
        return native_rows(self._run("referrals_of_referrer", id=referrer_id))

    def close_tasks(self, task_ids: list[str]) -> list[dict]:
        """Close these tasks where still open (``close_tasks``): ``{"id", "referrer"}`` of each closed."""
        return self._run("close_tasks", ids=task_ids)

    def task(self, task_id: str) -> dict | None:
        """The stored task ``task_id`` (``queries/app/task_record.cypher``, tasks.csv's columns), or None."""
        found = native_rows(self._run("task_record", id=task_id))
        return found[0] if found else None

    def lock_referrer(self, referrer_id: str) -> None:
        """Take the referrer's write lock before reading its tenures (a concurrent handoff waits)."""
        self.tx.run(query("lock_referrer"), id=referrer_id).consume()

    def merge_referrer(self, from_id: str, into_id: str, tenures: list[dict], since, day) -> None:
        """Merge referrer ``from_id`` into ``into_id`` (``queries/app/merge_referrer.cypher``): its events and
        tasks move, the point-person history becomes ``tenures`` (``{since, until, point_person_id}``), and
        every live analysis rebuilds (a referrer went, which the change feed cannot say)."""
        self.tx.run(query("merge_referrer"), **{"from": from_id}, into=into_id, tenures=tenures, since=since,
                    day=day).consume()
        self.tx.run(query("mark_bulk_in_write"), practice_id=PRACTICE_ID).consume()

    def void_record(self, label: str, record_id: str, reason: str, day) -> dict | None:
        """Void record ``record_id`` (a ``label``: Referral, Introduction, Contact, ReferralOut):
        ``{"referrer_id", "was_voided", "voided_on", "void_reason"}``, or None when there is none."""
        found = native_rows(self._run("void_record", label=label, id=record_id, reason=reason, day=day))
        return found[0] if found else None

    def undo_handoff(self, referrer_id: str) -> dict | None:
        """Undo the referrer's last handoff (``undo_handoff.cypher``): ``{"undone", "point_person_id",
        "since"}``, or None when it has had one point person only. Take its lock first."""
        found = self._run("undo_handoff", id=referrer_id)
        return found[0] if found else None

    def restore_record(self, label: str, record_id: str) -> dict | None:
        """Restore voided record ``record_id``: ``{"referrer_id", "was_voided"}``, or None when there is none."""
        found = native_rows(self._run("restore_record", label=label, id=record_id))
        return found[0] if found else None

    def delete_events(self, copies: dict[str, str]) -> None:
        """Delete these introductions and contacts (``{copy: the event kept}``, a merge's copies of events the
        kept record holds); the referrals a copy's update covered are covered by the event kept."""
        if copies:
            self.tx.run(query("delete_events"), rows=[{"id": c, "kept": k} for c, k in copies.items()]).consume()

    def merged_into(self, referrer_id: str) -> str | None:
        """The referrer a merged referrer's record went into, or None."""
        found = self._run("merged_into", id=referrer_id)
        return found[0]["into"] if found else None

    def create(self, kind: str, record_id: str) -> None:
        """A new node of ``kind`` with just its id; a taken id fails (``IdTaken``, from ``run_write``)."""
        self.tx.run(query(CREATE[kind]), id=record_id).consume()

    def upsert(self, kind: str, rows: list[dict]) -> None:
        """Rows of one kind (``Record.row()``), each added or updated by its key."""
        upsert(self.tx, kind, rows)

    def pass_referral(self, referral_id: str, to: str, reason: str | None) -> None:
        """Assign the referral to clinician ``to`` (``reason`` None: back to the clinician addressed)."""
        self.tx.run(query("pass_referral"), id=referral_id, to=to, reason=reason).consume()

    def referrers_of_client(self, client_id: str) -> list[str]:
        return [r["id"] for r in self._run("referrers_of_client", id=client_id)]

    def changed_referrers(self, ids: Iterable[str], *, analysis: bool = True) -> None:
        """Put these referrers in the change feed; with ``analysis``, store their fresh analysis too."""
        (self.changed if analysis else self.touched).update(i for i in ids if i)

    def finish(self) -> tuple[Any, StoredAnalysis | None]:
        """Stamp the changed referrers and store their analysis: last, after every other statement."""
        stamped = sorted(self.changed | self.touched)
        if stamped:
            self.tx.run(query("stamp_referrers"), ids=stamped, version=self.version).consume()
        if not self.changed or self._analyse is None:
            return None, None
        ids = sorted(self.changed)
        sub = projection.project(self.tx, referrers=ids)
        stored = self._analyse(sub, ids)
        self.tx.run(query("write_back_referrers"), rows=stored.rows, analysed_at=datetime.now(UTC),
                    **stored.options).consume()
        return sub, stored


def run_write(db: Graph, work: Callable[[WriteUnit], Any], *, analyse: Analyse | None = None) -> Written:
    """Run ``work(unit)`` as one managed write transaction; see the module docstring."""
    ensure_schema(db)

    def transaction(tx) -> Written:
        unit = WriteUnit(tx, analyse)
        result = work(unit)
        projected, stored = unit.finish()
        return Written(result, unit.version, sorted(unit.changed | unit.touched), projected, stored)

    try:
        return db.write_tx(transaction)
    except ConstraintError as e:
        # Neo.ClientError.Schema.ConstraintValidationFailed: a client error, so the driver does not retry
        # it; the whole transaction is rolled back. Caught here, around the whole transaction, so that a
        # violation reported at commit is translated too.
        raise _id_taken(e) from None


_CLASH = re.compile(r"label `(\w+)` and property `id` = '((?:[^'\\]|\\.)*)'")
_NPI_CLASH = re.compile(r"label `(\w+)` and property `npi` = '([0-9]*)'")


def _id_taken(error: ConstraintError) -> IdTaken:
    """Which label and id a uniqueness constraint refused, from Neo4j's message (``NpiTaken`` for an NPI)."""
    npi = _NPI_CLASH.search(str(error.message))
    if npi is not None:
        return NpiTaken(npi.group(1), npi.group(2), str(error.message))
    found = _CLASH.search(str(error.message))
    if found is None:
        return IdTaken(None, None, str(error.message))
    return IdTaken(found.group(1), found.group(2).replace("\\'", "'"), str(error.message))


# -- bulk ---------------------------------------------------------------------------------------------


def parameters(kind: str, row: dict) -> dict:
    """A validated record's fields as the upsert statement's row.

    A referral's ``addressed_to`` is a member id or ``"practice"``; the
    statement takes ``addressed_member`` (None for the practice), so that one
    MATCH finds the addressee whichever it is.
    """
    if kind == "referral":
        row = dict(row)
        addressed = row.pop("addressed_to")
        row["addressed_member"] = None if addressed == PRACTICE else addressed
    return row


def upsert(tx, kind: str, rows: list[dict]) -> None:
    """Upsert validated rows (``Record.row()`` or namedtuple ``_asdict()``) of one kind."""
    tx.run(query(UPSERT[kind]), rows=[parameters(kind, r) for r in rows], practice_id=PRACTICE_ID).consume()


def mark_bulk_change(db: Graph) -> None:
    """Count a bulk change (before and after an import): every live analysis rebuilds."""
    ensure_schema(db)
    db.write("mark_bulk_change", practice_id=PRACTICE_ID)


def write_records(db: Graph, kind: str, rows: Iterable[dict], *, batch_size: int, workers: int,
                  progress: Callable[[int], None] | None = None) -> int:
    """Upsert rows of one kind of record in batches (an import); returns how many."""
    return write_batches(db, UPSERT[kind], (parameters(kind, r) for r in rows), batch_size=batch_size,
                         workers=workers, progress=progress, practice_id=PRACTICE_ID)


def write_back(db: Graph, rows: list[dict], options: dict, *, batch_size: int, workers: int) -> int:
    """Store an analysis on its referrers (``rows``: ``{"id", "props"}``), with when and the options used."""
    return write_batches(db, "write_back_referrers", rows, batch_size=batch_size, workers=workers,
                         analysed_at=datetime.now(UTC), **options)


def write_batches(db: Graph, name: str, rows: Iterable, *, batch_size: int, workers: int,
                  progress: Callable[[int], None] | None = None, **params) -> int:
    """Run the write statement ``name`` over ``rows`` in batches, ``workers`` at a time.

    Each batch is its own managed (retried) transaction with ``rows=batch``.
    At most ``2 * workers`` batches are held in memory. Returns the rows written.
    """
    text = query(name)

    def write(batch: list) -> int:
        db.write_tx(lambda tx: tx.run(text, rows=batch, **params).consume())
        return len(batch)

    written = 0

    def finished(futures) -> int:
        count = 0
        for future in futures:
            n = future.result()  # re-raises a failed batch's error
            count += n
            if progress:
                progress(n)
        return count

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"write-{name}") as pool:
        pending: set = set()
        for batch in batched(rows, batch_size):
            pending.add(pool.submit(write, batch))
            if len(pending) >= 2 * workers:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                written += finished(done)
        written += finished(wait(pending)[0])
    return written

