"""The writes a user makes, one record at a time.

Each function validates its arguments with the same record model and the
same reference rules as ``graphsvc import``, then writes in one managed
transaction. The checks run inside that transaction, so a refused write
changes nothing: it raises ``InvalidInput`` (or its subclass ``NotFound``
for an unknown id) naming the field.

``save_*`` adds a record or updates the one with that id. ``record_*``
adds an event (referral, introduction, contact, referral out) and refuses an
id that is already taken. ``record_pass`` and ``hand_over`` change who holds
a case or a referrer relationship and keep the history.

Concurrent callers. Every transaction here first bumps the Practice node's
change counter (``bump_version``), which takes that node's write lock; so
writes through this module take turns, whole, in the order they get the lock,
and each one's checks see every write committed before it. One lock order
for all of them (Practice, then the node a handoff or pass is about, then
whatever the statements touch) means they cannot deadlock among themselves.
Why not avoid the hot node instead: the analysis cache needs one counter
that every write moves, and these are one-record writes a person makes,
milliseconds each; taking turns costs little (eight threads still write more
per second than one), and it makes "check, then write" safe for every rule
without a lock per rule. Bulk imports do not go through here: their batches
bump the counter only before and after, and run side by side. A deadlock
with an import batch is transient: the driver retries the transaction and
logs a warning through the ``neo4j`` logger, to the log file, never the
terminal (``graphsvc.store.db``).

On top of that, ``hand_over`` and ``record_pass`` lock the referrer or
referral before reading its tenure or parties (``lock_referrer``,
``lock_referral``), so their check and write are one step even against
writers that do not take the Practice lock first. A new event is created
with ``CREATE`` under its id's uniqueness constraint (``create_*``), so of two
callers recording one id exactly one succeeds; the other gets
``InvalidInput`` "already exists" and its transaction leaves nothing behind.

Change feed. Every transaction here stamps the referrers whose part of the
analysed graph it changed (the referrer itself, or for a client the referrers
of its referrals) with the version it produced (``changed_in``,
``stamp_referrers``); a live analysis holding an older version reads just
those referrers again (``graphsvc.live``). Members and providers are a few
hundred nodes, read again whole on every update, so they need no stamp.

Stored analysis. A write that changes a referrer's analysis (``save_referrer``,
``hand_over``, ``record_pass`` and every ``record_*`` event) also stores that
referrer's fresh stage, metrics, ``analysed_at`` and analysis options on its
node, the properties ``graphsvc analyze`` stores (``insights.write_back_of``),
so analysts' Cypher never reads a count the write has made stale. It does so
inside the same transaction, last: it projects just that referrer with the
transaction's own reads, which see the write, so the stored properties are
exactly those of the committed graph, and they commit or roll back with it (a
refused write stores nothing; a retried one recomputes them). After commit
would be simpler, but a crash in between (or a later write's write-back
finishing first) would leave them stale until the next ``analyze``. The cost
is one one-referrer projection and analysis while the Practice lock is held:
at demo size (1,000 referrers, 20,000 referrals) ``record_referral`` took a
median 20 ms instead of 7 for a small referrer (1 to 220 referrals over the
run), 42 ms instead of 11 for the busiest (632). Its ``SET`` on the referrer
comes after the Practice lock and the write's own locks, like everything
else here, so the lock order holds.
"""

from __future__ import annotations

from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from datetime import date as Date
from typing import Any, Callable, Iterable

from neo4j.exceptions import ConstraintError

from .. import records
from ..batching import batched
from ..errors import InvalidInput, NotFound
from ..rules import Batch, Checker, Problem
from ..vocabulary import PASS_REASONS, PRACTICE, PRACTICE_ID
from .catalog import query
from .db import Graph
from .schema import ensure_schema

# The upsert statement of each kind of record: UNWIND $rows, keyed on ids.
UPSERT = {
    "clinician": "upsert_clinicians",
    "staff": "upsert_staff",
    "external_provider": "upsert_external_providers",
    "client": "upsert_clients",
    "referrer": "upsert_referrers",
    "handoff": "upsert_handoffs",
    "referral": "upsert_referrals",
    "introduction": "upsert_introductions",
    "contact": "upsert_contacts",
    "referral_out": "upsert_referrals_out",
}

# The label of each kind of event, whose ids ``record_*`` refuses to reuse.
EVENT_LABEL = {"referral": "Referral", "introduction": "Introduction", "contact": "Contact",
               "referral_out": "ReferralOut"}

# The field naming the referrer a record of each kind changes the analysis of.
REFERRER_FIELD = {"referrer": "id", "referral": "referrer_id", "introduction": "referrer_id",
                  "contact": "referrer_id", "referral_out": "referrer_id"}

# The statement that creates a new event node (CREATE under the id constraint).
CREATE = {
    "referral": "create_referral",
    "introduction": "create_introduction",
    "contact": "create_contact",
    "referral_out": "create_referral_out",
}


def save_clinician(graph: Graph, **fields) -> dict:
    """Add or update a clinician (id, name, specialties, populations, insurances, schedule, accepting_new)."""
    return _save(graph, "clinician", fields)


def save_staff(graph: Graph, **fields) -> dict:
    """Add or update a staff member (id, name, role)."""
    return _save(graph, "staff", fields)


def save_referrer(graph: Graph, **fields) -> dict:
    """Add or update a referrer (id, name, kind, organization, point_person_id, since).

    ``point_person_id`` and ``since`` name the relationship's first point
    person; to change who holds the role later, use ``hand_over``.
    """
    return _save(graph, "referrer", fields)


def save_client(graph: Graph, **fields) -> dict:
    """Add or update a client: a pseudonymous id, needs, population, insurance, schedule."""
    return _save(graph, "client", fields)


def save_external_provider(graph: Graph, **fields) -> dict:
    """Add or update a trusted outside provider (id, name, niches)."""
    return _save(graph, "external_provider", fields)


def record_referral(graph: Graph, **fields) -> dict:
    """Record a referral (id, date, referrer_id, client_id, addressed_to, assigned_to, pass_reason).

    ``addressed_to`` is a member id or ``"practice"``. ``assigned_to``
    defaults to ``addressed_to`` when that is a clinician.
    """
    if not fields.get("assigned_to") and fields.get("addressed_to") not in (None, PRACTICE):
        fields["assigned_to"] = fields["addressed_to"]
    return _save(graph, "referral", fields)


def record_introduction(graph: Graph, **fields) -> dict:
    """Record that member ``by_id`` introduced member ``introduced_id`` to a referrer."""
    return _save(graph, "introduction", fields)


def record_contact(graph: Graph, **fields) -> dict:
    """Record a contact (lunch, talk, school consult, ...) between a member and a referrer."""
    return _save(graph, "contact", fields)


def record_referral_out(graph: Graph, **fields) -> dict:
    """Record a client referred out to an external provider for one of its niches."""
    return _save(graph, "referral_out", fields)


def record_pass(graph: Graph, referral_id: str, to_clinician_id: str, reason: str) -> dict:
    """The addressed clinician passes a referral to a better-matched colleague.

    Only a referral addressed to a clinician can be passed; passing it back
    to that clinician undoes the pass.
    """
    if reason not in PASS_REASONS:
        raise InvalidInput(f"field 'reason': must be one of {', '.join(PASS_REASONS)} (got {reason!r})")
    ensure_schema(graph)

    def work(tx):
        version = _take_turn(tx)
        tx.run(query("lock_referral"), id=referral_id).consume()  # then read: check and write are one step
        found = tx.run(query("referral_parties"), id=referral_id).data()
        if not found:
            raise NotFound(f"field 'referral_id': unknown referral {referral_id!r}")
        referral = found[0]
        if referral["addressed_kind"] != "clinician":
            raise InvalidInput("field 'referral_id': only a referral addressed to a clinician can be "
                               f"passed; {referral_id!r} was addressed to {referral['addressed_to']!r}")
        _require_clinician(tx, "to_clinician_id", to_clinician_id)
        back = to_clinician_id == referral["addressed_to"]
        tx.run(query("pass_referral"), id=referral_id, to=to_clinician_id,
               reason=None if back else reason).consume()
        _store_analysis(graph, tx, version, [r["referrer_id"] for r in
                                             tx.run(query("referrer_of_referral"), id=referral_id).data()])
        return {"id": referral_id, "addressed_to": referral["addressed_to"],
                "assigned_to": to_clinician_id, "pass_reason": None if back else reason}

    return graph.write_tx(work)


def hand_over(graph: Graph, referrer_id: str, to_clinician_id: str, date: Date | str) -> dict:
    """Hand the point-person role for a referrer to another clinician from ``date`` on.

    The previous tenure is closed, not deleted, so the history stays.
    """
    handoff = records.KIND["handoff"].parse(date=date, referrer_id=referrer_id, point_person_id=to_clinician_id)
    ensure_schema(graph)

    def work(tx):
        version = _take_turn(tx)
        tx.run(query("lock_referrer"), id=referrer_id).consume()  # then read: check and write are one step
        current = tx.run(query("current_point_person"), referrer_id=referrer_id).data()
        if not current:
            raise NotFound(f"field 'referrer_id': unknown referrer {referrer_id!r}")
        current = current[0]
        _require_clinician(tx, "to_clinician_id", to_clinician_id)
        if current["point_person_id"] == to_clinician_id:
            raise InvalidInput(f"field 'to_clinician_id': {to_clinician_id!r} already holds the role")
        if current["since"] is not None and handoff.date <= current["since"].to_native():
            raise InvalidInput(f"field 'date': {handoff.date} is not after the current tenure's start "
                               f"{current['since'].iso_format()}")
        upsert(tx, "handoff", [handoff.row()])  # closes the previous tenure in the same statement
        _store_analysis(graph, tx, version, [referrer_id])
        return {"referrer_id": referrer_id, "point_person_id": to_clinician_id,
                "since": handoff.date, "previous": current["point_person_id"]}

    return graph.write_tx(work)


# -- shared --------------------------------------------------------------------


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


def write_batches(graph: Graph, name: str, rows: Iterable, *, batch_size: int, workers: int,
                  progress: Callable[[int], None] | None = None, **params) -> int:
    """Run the write statement ``name`` over ``rows`` in batches, ``workers`` at a time.

    Each batch is its own managed (retried) transaction with ``rows=batch``.
    At most ``2 * workers`` batches are held in memory. Returns the rows written.
    """
    text = query(name)

    def write(batch: list) -> int:
        graph.write_tx(lambda tx: tx.run(text, rows=batch, **params).consume())
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


def _save(graph: Graph, kind: str, fields: dict[str, Any]) -> dict:
    record = records.KIND[kind].parse(**fields)
    ensure_schema(graph)
    label = EVENT_LABEL.get(kind)

    def work(tx):
        version = _take_turn(tx)
        if kind in CREATE:
            # A taken id raises ConstraintError here (translated below); the
            # upsert then fills in the node this statement created.
            tx.run(query(CREATE[kind]), id=record.id).consume()
        problems: list[Problem] = []
        batch = Batch(records.KIND[kind], rows=[(None, record)])
        Checker([batch], problems, lookup=lambda ids: tx.run(query("existing_ids"), ids=ids).data()).check()
        if problems:
            messages = [p.message for p in problems]
            unknown = all(m.startswith("unknown ") for m in messages)
            raise (NotFound if unknown else InvalidInput)(messages)
        upsert(tx, kind, [record.row()])  # a referrer's tenures are closed by its upsert itself
        if kind in REFERRER_FIELD:
            _store_analysis(graph, tx, version, [record.row()[REFERRER_FIELD[kind]]])
        elif kind == "client":
            # Its attributes travel with its referrals in the analysed graph:
            # the referrers that sent them changed (their stored analysis did not).
            _stamp(tx, version, [r["id"] for r in tx.run(query("referrers_of_client"), id=record.id).data()])
        return record.row()

    try:
        return graph.write_tx(work)
    except ConstraintError:
        # Neo.ClientError.Schema.ConstraintValidationFailed: a client error, so
        # the driver does not retry it; it has rolled the whole transaction
        # back. In record_* the one node created is the event (create_*), so
        # the constraint is its id's. Caught here rather than around the CREATE
        # so that a violation reported at commit is translated too.
        if label is None:
            raise
        raise InvalidInput(f"field 'id': {label} {record.id!r} already exists") from None


def _take_turn(tx) -> int:
    """Bump the change counter, returning the new version: run first in every write transaction here."""
    return tx.run(query("bump_version"), practice_id=PRACTICE_ID).single()["version"]


def _stamp(tx, version: int, referrer_ids: list[str]) -> None:
    """Put these referrers in the change feed at ``version`` (see "Change feed" above)."""
    if referrer_ids:
        tx.run(query("stamp_referrers"), ids=sorted(set(referrer_ids)), version=version).consume()


def _store_analysis(graph: Graph, tx, version: int, referrer_ids: list[str]) -> None:
    """Stamp these referrers and store their fresh analysis in ``tx``, last (see "Stored analysis" above)."""
    from ..insights import write_back_of  # graphsvc.insights imports this module

    _stamp(tx, version, referrer_ids)
    write_back_of(tx, referrer_ids, graph.settings.analysis_options())


def _require_clinician(tx, field: str, member_id: str) -> None:
    found = tx.run(query("existing_ids"), ids=[member_id]).data()
    kind = found[0]["member"] if found else None
    if kind is None:
        raise NotFound(f"field {field!r}: {member_id!r} is unknown")
    if kind != "clinician":
        raise InvalidInput(f"field {field!r}: {member_id!r} is a staff member, not a clinician")
