"""The writes a user makes, one record at a time.

Each function validates its arguments with the same record model and the
same reference rules as ``graphsvc import``, then writes in one managed
transaction. The checks run inside that transaction, so a refused write
changes nothing: it raises ``InvalidInput`` (or its subclass ``NotFound``
for an unknown id) naming the field.

``save_*`` adds a record or updates the one with that id (``mode="add"``
refuses an id already taken, ``mode="update"`` an unknown one). ``record_*``
adds an event (referral, introduction, contact, referral out) and refuses an
id that is already taken. ``record_pass`` and ``hand_over`` change who holds
a case or a referrer relationship and keep the history.

Ids. Without an ``id`` (missing, None or blank) every ``save_*`` and
``record_*`` adds a new record with an id made here (``records.new_id``: a
prefix naming the kind, ten random base32 characters), created under its
uniqueness constraint like any new event (``create_*``); on the vanishingly
rare clash the whole write is tried again with a new id, at most ``ID_TRIES``
times. ``record_referral(client={...})`` creates the referral's new client
(generated id) in the same transaction. The CSV import does not come through
here, and keeps requiring explicit ids.

The acting clinician. ``record_pass`` and ``hand_over`` take
``acting_clinician``: a clinician acting on its own (the web and the API pass
the signed-in clinician's id) may pass only a referral addressed to it and
hand over only a referrer it is the current point person of. The check reads
the referral or referrer after taking its lock, in the transaction that
writes, so a concurrent handoff cannot slip in between; a refusal is
``graphsvc.errors.Forbidden`` and changes nothing.

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

import re
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from datetime import date as Date
from typing import Any

from neo4j.exceptions import ConstraintError
from pydantic import ValidationError

from .. import records
from ..batching import batched
from ..errors import Forbidden, GraphsvcError, InvalidInput, NotFound
from ..requests import shown
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

# The statement that creates a new node of each kind with just its id (CREATE
# under the id's uniqueness constraint): every new event, and a record added
# with ``mode="add"`` or a generated id.
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

# How each kind is named in "already exists".
LABEL = {**EVENT_LABEL, "clinician": "Clinician", "staff": "Staff member", "referrer": "Referrer",
         "client": "Client", "external_provider": "Outside provider"}

# How many generated ids a write tries before giving up (each clash is a 1 in 2**50 chance).
ID_TRIES = 5


def save_clinician(graph: Graph, *, mode: str | None = None, **fields) -> dict:
    """Add or update a clinician (id, name, specialties, populations, insurances, schedule, accepting_new).

    Without an ``id`` a new clinician gets a generated one. ``mode`` (every
    ``save_*``): None adds or updates; ``"add"`` refuses an id already taken
    (``InvalidInput`` "already exists"); ``"update"`` refuses an unknown id
    (``NotFound``).
    """
    return _save(graph, "clinician", fields, mode=mode)


def save_staff(graph: Graph, *, mode: str | None = None, **fields) -> dict:
    """Add or update a staff member (id, name, role); ``id`` and ``mode`` as for ``save_clinician``."""
    return _save(graph, "staff", fields, mode=mode)


def save_referrer(graph: Graph, *, mode: str | None = None, **fields) -> dict:
    """Add or update a referrer (id, name, kind, organization, point_person_id, since).

    ``point_person_id`` and ``since`` name the relationship's first point
    person; to change who holds the role later, use ``hand_over``. ``id`` and
    ``mode`` as for ``save_clinician``.
    """
    return _save(graph, "referrer", fields, mode=mode)


def save_client(graph: Graph, *, mode: str | None = None, **fields) -> dict:
    """Add or update a client: a pseudonymous id, needs, population, insurance, schedule."""
    return _save(graph, "client", fields, mode=mode)


def save_external_provider(graph: Graph, *, mode: str | None = None, **fields) -> dict:
    """Add or update a trusted outside provider (id, name, niches); ``id`` and ``mode`` as for ``save_clinician``."""
    return _save(graph, "external_provider", fields, mode=mode)


def record_referral(graph: Graph, *, client: dict | None = None, **fields) -> dict:
    """Record a referral (id, date, referrer_id, client_id, addressed_to, assigned_to, pass_reason).

    ``addressed_to`` is a member id or ``"practice"``. ``assigned_to``
    defaults to ``addressed_to`` when that is a clinician. Either
    ``client_id`` names a stored client, or ``client`` (``{needs, population,
    insurance, schedule}``) describes a new one, created with a generated id
    in the same transaction (a refused referral leaves no client behind).
    The result includes ``id`` and ``client_id``.
    """
    if not fields.get("assigned_to") and fields.get("addressed_to") not in (None, PRACTICE):
        fields["assigned_to"] = fields["addressed_to"]
    given = not _blank(fields.get("client_id"))
    if client is not None and given:
        raise InvalidInput("field 'client_id': give either client_id (a stored client) or client (a new "
                           "client's needs, population, insurance and schedule), not both")
    if client is None:
        if not given:
            raise InvalidInput("field 'client_id': is required (or client: a new client's needs, population, "
                               "insurance and schedule)")
        return _save(graph, "referral", fields)
    if not isinstance(client, dict):
        raise InvalidInput("field 'client': must be an object with the fields needs, population, insurance "
                           "and schedule")
    if "id" in client:
        raise InvalidInput("field 'client.id': is not a known field (a new client's id is generated)")
    return _save(graph, "referral", fields, client=dict(client))


def record_introduction(graph: Graph, **fields) -> dict:
    """Record that member ``by_id`` introduced member ``introduced_id`` to a referrer (``id``: made if not given)."""
    return _save(graph, "introduction", fields)


def record_contact(graph: Graph, **fields) -> dict:
    """Record a contact (lunch, talk, school consult, ...) between a member and a referrer (``id`` as above)."""
    return _save(graph, "contact", fields)


def record_referral_out(graph: Graph, **fields) -> dict:
    """Record a client referred out to an external provider for one of its niches (``id`` as above)."""
    return _save(graph, "referral_out", fields)


def record_pass(graph: Graph, referral_id: str, to_clinician_id: str, reason: str, *,
                acting_clinician: str | None = None) -> dict:
    """The addressed clinician passes a referral to a better-matched colleague.

    Only a referral addressed to a clinician can be passed; passing it back
    to that clinician undoes the pass. With ``acting_clinician`` (a
    clinician's own pass), ``Forbidden`` unless the referral is addressed to
    that clinician, checked after the referral's lock, in the transaction
    that writes.
    """
    if not isinstance(reason, str) or reason not in PASS_REASONS:
        raise InvalidInput(f"field 'reason': must be one of {', '.join(PASS_REASONS)} (got {shown(reason)})")
    asked = _parse(records.PassRequest, referral_id=referral_id, to_clinician_id=to_clinician_id, reason=reason)
    referral_id, to_clinician_id = asked.referral_id, asked.to_clinician_id
    ensure_schema(graph)

    def work(tx):
        version = _take_turn(tx)
        tx.run(query("lock_referral"), id=referral_id).consume()  # then read: check and write are one step
        found = tx.run(query("referral_parties"), id=referral_id).data()
        if not found:
            raise NotFound(f"field 'referral_id': unknown referral {referral_id!r}")
        referral = found[0]
        if acting_clinician is not None and referral["addressed_to"] != acting_clinician:
            raise Forbidden(f"A clinician may record passes only of referrals addressed to it; {referral_id!r} "
                            f"is addressed to {referral['addressed_to']!r}, you are clinician {acting_clinician!r}.")
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


def hand_over(graph: Graph, referrer_id: str, to_clinician_id: str, date: Date | str, *,
              acting_clinician: str | None = None) -> dict:
    """Hand the point-person role for a referrer to another clinician from ``date`` on.

    The previous tenure is closed, not deleted, so the history stays. With
    ``acting_clinician`` (a clinician handing over its own referrer),
    ``Forbidden`` unless that clinician is the current point person, checked
    after the referrer's lock, in the transaction that writes (a concurrent
    handoff cannot slip in between).
    """
    asked = _parse(records.HandoffRequest, referrer_id=referrer_id, to_clinician_id=to_clinician_id, date=date)
    referrer_id, to_clinician_id = asked.referrer_id, asked.to_clinician_id
    handoff = records.KIND["handoff"].parse(date=asked.date, referrer_id=referrer_id, point_person_id=to_clinician_id)
    ensure_schema(graph)

    def work(tx):
        version = _take_turn(tx)
        tx.run(query("lock_referrer"), id=referrer_id).consume()  # then read: check and write are one step
        current = tx.run(query("current_point_person"), referrer_id=referrer_id).data()
        if not current:
            raise NotFound(f"field 'referrer_id': unknown referrer {referrer_id!r}")
        current = current[0]
        if acting_clinician is not None and current["point_person_id"] != acting_clinician:
            raise Forbidden(f"A clinician may hand over only referrers it is the point person of; "
                            f"{referrer_id!r}'s point person is {current['point_person_id']!r}, you are "
                            f"clinician {acting_clinician!r}.")
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


def _blank(value) -> bool:
    """No id given: missing, None, or only whitespace (a form's empty field)."""
    return value is None or (isinstance(value, str) and not value.strip())


def _parse(model, **fields):
    try:
        return model(**fields)
    except ValidationError as e:
        raise InvalidInput(records.explain(e)) from None


def _client_record(fields: dict, client_id: str):
    """A referral's new client, its problems named ``client.<field>``."""
    try:
        return records.KIND["client"].parse(**fields, id=client_id)
    except InvalidInput as e:
        raise InvalidInput([re.sub(r"^field '([^']*)'", r"field 'client.\1'", p) for p in e.problems]) from None


def _save(graph: Graph, kind: str, fields: dict[str, Any], *, mode: str | None = None,
          client: dict | None = None) -> dict:
    """Validate and write one record (and a referral's new ``client``), in one transaction.

    A missing id is generated (``records.new_id``), and so is a new client's;
    a generated id is created under its uniqueness constraint, and on the
    vanishingly rare clash the whole write is tried again with new ids, at
    most ``ID_TRIES`` times.
    """
    if mode not in (None, "add", "update"):
        raise ValueError(f"mode must be None, 'add' or 'update' (got {mode!r})")
    fields = dict(fields)
    generate = _blank(fields.get("id"))
    if generate and mode == "update":
        raise InvalidInput("field 'id': is required")
    for _ in range(ID_TRIES):
        if generate:
            fields["id"] = records.new_id(kind)
        problems, client_record = [], None
        if client is not None:
            fields["client_id"] = records.new_id("client")
            try:
                client_record = _client_record(client, fields["client_id"])
            except InvalidInput as e:
                problems += e.problems
        try:
            record = records.KIND[kind].parse(**fields)
        except InvalidInput as e:
            raise InvalidInput(problems + e.problems) from None
        if problems:
            raise InvalidInput(problems)
        try:
            return _write(graph, kind, record, mode="add" if generate else mode, client=client_record)
        except ConstraintError as e:
            # Neo.ClientError.Schema.ConstraintValidationFailed: a client error, so
            # the driver does not retry it; it has rolled the whole transaction
            # back. The node created is the record's own (create_*) or its new
            # client's, so the constraint is one of their ids': a given id is
            # taken; a generated one clashed, and the next turn tries new ones.
            # Caught here rather than around the CREATE so that a violation
            # reported at commit is translated too.
            if not generate and (client is None or repr(record.id) in str(e.message)
                                 or f'"{record.id}"' in str(e.message)):
                label = LABEL.get(kind)
                if label is None:
                    raise
                raise InvalidInput(f"field 'id': {label} {record.id!r} already exists") from None
    raise GraphsvcError(f"could not find a free id for a new {kind.replace('_', ' ')} in {ID_TRIES} tries")


def _write(graph: Graph, kind: str, record, *, mode: str | None, client=None) -> dict:
    ensure_schema(graph)

    def work(tx):
        version = _take_turn(tx)
        if kind in EVENT_LABEL:
            # A taken id raises ConstraintError here (translated by _save); the
            # upsert then fills in the node this statement created.
            tx.run(query(CREATE[kind]), id=record.id).consume()
        lookup = lambda ids: tx.run(query("existing_ids"), ids=ids).data()  # noqa: E731
        if kind not in EVENT_LABEL and mode is not None:
            stored = lookup([record.id])
            exists = bool(stored) and _is_kind(stored[0], kind)
            if mode == "add" and exists:
                raise InvalidInput(f"field 'id': {LABEL[kind]} {record.id!r} already exists")
            if mode == "update" and not exists:
                raise NotFound(f"field 'id': unknown {kind.replace('_', ' ')} {record.id!r}")
        problems: list[Problem] = []
        batches = [Batch(records.KIND[kind], rows=[(None, record)])]
        if client is not None:
            tx.run(query(CREATE["client"]), id=client.id).consume()
            batches.insert(0, Batch(records.KIND["client"], rows=[(None, client)]))
        Checker(batches, problems, lookup=lookup).check()
        if problems:
            messages = [p.message for p in problems]
            unknown = all(m.startswith("unknown ") for m in messages)
            raise (NotFound if unknown else InvalidInput)(messages)
        if mode == "add" and kind not in EVENT_LABEL:
            tx.run(query(CREATE[kind]), id=record.id).consume()  # under the id's constraint, after the checks
        if client is not None:
            upsert(tx, "client", [client.row()])
        upsert(tx, kind, [record.row()])  # a referrer's tenures are closed by its upsert itself
        if kind in REFERRER_FIELD:
            _store_analysis(graph, tx, version, [record.row()[REFERRER_FIELD[kind]]])
        elif kind == "client":
            # Its attributes travel with its referrals in the analysed graph:
            # the referrers that sent them changed (their stored analysis did not).
            _stamp(tx, version, [r["id"] for r in tx.run(query("referrers_of_client"), id=record.id).data()])
        return record.row()

    return graph.write_tx(work)


def _is_kind(stored: dict, kind: str) -> bool:
    """Whether an ``existing_ids`` row says its id is a record of ``kind``."""
    return {"clinician": stored["member"] == "clinician", "staff": stored["member"] == "staff",
            "referrer": stored["referrer"], "client": stored["client"],
            "external_provider": stored["provider"]}[kind]


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
