"""Every write to the graph goes through here: check, write, refresh, audit, bring the live analysis up to date.

The forms (``graphsvc.web.record``), the JSON API (``graphsvc.web.api_writes``),
the CLI and the importer all call a ``Service``; nothing else writes the
graph. For each write it, in order:

1. takes the request model (``graphsvc.inputs``) and makes the record it
   means (``graphsvc.records``; an id is made when none is given);
2. in one transaction (``graphsvc.store.writes.run_write``), after every
   write committed before it: checks who may (``graphsvc.permissions``, with
   what the database holds now: the referral a clinician passes, the
   referrer it hands over) and the rules between records
   (``graphsvc.checks``, the only place a rule is checked), writes, and stores
   the changed referrers' fresh analysis (``insights.stored_analysis``, handed
   to the store as a callback: the store does not import the analysis);
3. audits it (``write <kind>`` with the ids it touched, who, from where);
4. brings the live analysis up to date once (``graphsvc.live``), with the
   projection and analysis the transaction made, when nothing else was
   written meanwhile.

A refused write changes nothing: ``InvalidInput`` (``NotFound`` when every
problem is an id that names nothing) with one message per problem, each
naming the request's field; ``Forbidden`` when the actor may not.

From Python, each write takes its request model or a mapping of the same
fields (parsed by that model: the same types and messages as the JSON API)::

    service = Service(db, settings.analysis, audit=Accounts.open(settings))
    service.record_contact({"date": "2024-08-02", "referrer_id": "rf3", "member_id": "cn1",
                            "kind": "talk"}, by=Actor.command_line())
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from . import permissions
from .accounts import Accounts
from .checks import LABEL, VOCABULARY_KINDS, Batch, Checker, Problem
from .config import AnalysisOptions
from .csvio.importer import FileCount, ImportRejected, ImportReport, problem_order, read_folder
from .errors import Forbidden, GraphsvcError, IdTaken, InvalidInput, NotFound, NpiTaken
from .inputs import (
    ADD,
    CHANGE,
    ContactInput,
    HandoffInput,
    Input,
    IntroductionInput,
    MergeInput,
    PassInput,
    ReferralInput,
    ReferralOutInput,
    RowAction,
    StatusInput,
    VoidInput,
    WordInput,
    parse,
)
from .insights import Insights, stored_analysis
from .limits import shown
from .live import InsightsCache
from .records import KIND, Record, new_id, today
from .rules import UPDATE_DAYS, in_update, merged_tenures, status_problem
from .store import reads, terms
from .store import weights as stored_weights
from .store import writes as store
from .store.db import Graph
from .vocabularies import BUILT_IN as VOCABULARY_BUILT_IN
from .vocabularies import NAMES as VOCABULARIES
from .vocabularies import Vocabularies, unknown_message
from .vocabulary import PRACTICE

log = logging.getLogger(__name__)

# How long a merge waits for this process's analysis to be rebuilt without the merged record.
MERGE_WAIT_SECONDS = 20

# How many generated ids a write tries before giving up (each clash is a 1 in 2**50 chance).
ID_TRIES = 5
# The events a write records: a new id each, never an update.
EVENTS = ("referral", "introduction", "contact", "referral_out")
# The field naming the referrer whose analysis a record of each kind changes.
REFERRER_FIELD = {"referrer": "id", "referral": "referrer_id", "introduction": "referrer_id",
                  "contact": "referrer_id", "referral_out": "referrer_id"}
# The permission each kind of record's write needs (``graphsvc.permissions``), and the field of the
# record a clinician's own rule is about.
ACTION = {"referral": "record_referral", "introduction": "record_introduction", "contact": "record_contact",
          "referral_out": "record_referral_out", "referrer": "save_referrer", "clinician": "save_clinician",
          "staff": "save_staff", "external_provider": "save_provider", "client": "record_referral"}
OWN_FIELD = {"introduction": "by_id", "contact": "member_id"}


@dataclass(frozen=True)
class Actor:
    """Who writes: the audit log's name for them, the role and clinician the permissions are about, and
    the address (a web request's). ``Actor.command_line()`` is whoever runs a ``graphsvc`` command."""

    user: str
    role: str = "manager"
    clinician_id: str | None = None
    address: str | None = None

    @classmethod
    def command_line(cls) -> Actor:
        """``cli:<login name>``, with every right (who may run commands is the machine's business)."""
        import getpass

        try:
            name = f"cli:{getpass.getuser()}"
        except (KeyError, OSError):  # no login name (a container without a passwd entry)
            name = f"cli:uid-{os.getuid()}"
        return cls(name)


class Service:
    """Every write to one graph (see the module docstring).

    ``options`` are the analysis options the stored analysis is computed
    with; ``audit`` the accounts database whose audit log records each write
    (None: not audited, e.g. a script); ``live`` the process's live analysis
    to bring up to date after each write (None: none).
    """

    def __init__(self, db: Graph, options: AnalysisOptions, *, audit: Accounts | None = None,
                 live: InsightsCache | None = None):
        self.db = db
        self.options = options
        self.audit = audit
        self.live = live

    # -- events ------------------------------------------------------------------------------------

    def record_referral(self, ask: ReferralInput | Mapping, *, by: Actor) -> dict:
        """Record a referral (and, with ``ask.client``, its new client, whose id is made here).

        ``assigned_to`` defaults to ``addressed_to`` when that is a clinician
        or staff member. The result is the stored record, ``id`` and
        ``client_id`` included.
        """
        fields = _ask(ReferralInput, ask).given()
        client = fields.pop("client", None)
        if fields.get("assigned_to") is None and fields["addressed_to"] != PRACTICE:
            fields["assigned_to"] = fields["addressed_to"]
        return self._add("referral", fields, by=by, client=client)

    def record_introduction(self, ask: IntroductionInput | Mapping, *, by: Actor) -> dict:
        """Record that member ``by_id`` introduced colleague ``introduced_id`` to a referrer."""
        return self._add("introduction", _ask(IntroductionInput, ask).given(), by=by)

    def record_contact(self, ask: ContactInput | Mapping, *, by: Actor) -> dict:
        """Record a contact (lunch, talk, follow-up, ...) between a member and a referrer."""
        return self._add("contact", _ask(ContactInput, ask).given(), by=by)

    def record_referral_out(self, ask: ReferralOutInput | Mapping, *, by: Actor) -> dict:
        """Record a client referred out to an outside provider for one of its niches."""
        return self._add("referral_out", _ask(ReferralOutInput, ask).given(), by=by)

    def pass_referral(self, ask: PassInput | Mapping, *, by: Actor) -> dict:
        """Pass a referral to a better-matched colleague; passing it back to the clinician it was
        addressed to undoes the pass. A clinician may pass only referrals addressed to it."""
        names = {"assigned_to": "to_clinician_id", "pass_reason": "reason"}
        ask = _ask(PassInput, ask)

        def work(unit: store.WriteUnit) -> dict:
            stored = unit.referral(ask.referral_id)
            if stored is None:
                raise NotFound(f"field 'referral_id': unknown referral {ask.referral_id!r}")
            self._allowed(by, "record_pass", addressed_to=stored["addressed_to"])
            back = ask.to_clinician_id == stored["addressed_to"]
            fields = {k: v for k, v in stored.items() if k != "statuses"}  # the record's fields only
            record = _record("referral", {**fields, "assigned_to": ask.to_clinician_id,
                                          "pass_reason": None if back else ask.reason}, names)
            _check([Batch(KIND["referral"], rows=[(None, record)])], unit, names)
            unit.pass_referral(record.id, record.assigned_to, record.pass_reason)
            unit.changed_referrers([record.referrer_id])
            return {"id": record.id, "referrer_id": record.referrer_id, "addressed_to": record.addressed_to,
                    "assigned_to": record.assigned_to, "pass_reason": record.pass_reason}

        row = self._write(work)
        self._record_audit("pass", by, [row["id"], row["referrer_id"], row["addressed_to"], row["assigned_to"]])
        return row

    def hand_over(self, ask: HandoffInput | Mapping, *, by: Actor) -> dict:
        """Hand the point-person role for a referrer to another clinician from ``ask.date`` on.

        The previous tenure is closed, not deleted, so the history stays. A
        clinician may hand over only a referrer it is the current point person
        of, checked after the referrer's lock (a concurrent handoff waits).
        """
        names = {"point_person_id": "to_clinician_id"}
        ask = _ask(HandoffInput, ask)
        handoff = _record("handoff", {"date": ask.date, "referrer_id": ask.referrer_id,
                                      "point_person_id": ask.to_clinician_id}, names)

        def work(unit: store.WriteUnit) -> dict:
            unit.lock_referrer(ask.referrer_id)
            held = {row["id"]: row for row in unit.lookup([ask.referrer_id])}.get(ask.referrer_id)
            if held is None or not held["referrer"]:
                raise NotFound(f"field 'referrer_id': unknown referrer {ask.referrer_id!r}")
            previous = held["point_person_id"]
            self._allowed(by, "hand_over", point_person_id=previous)
            _check([Batch(KIND["handoff"], rows=[(None, handoff)])], unit, names)
            unit.upsert("handoff", [handoff.row()])  # closes the previous tenure in the same statement
            unit.changed_referrers([ask.referrer_id])
            return {"referrer_id": ask.referrer_id, "point_person_id": ask.to_clinician_id, "since": ask.date,
                    "previous": previous}

        row = self._write(work)
        self._record_audit("handoff", by, [row["referrer_id"], row["point_person_id"], row["previous"]])
        return row

    def merged_into(self, referrer_id: str) -> str | None:
        """The referrer that a merged referrer's record went into (its pages lead there), or None."""
        return reads.merged_into(self.db, referrer_id)

    def merge_referrers(self, referrer_id: str, ask: MergeInput | Mapping, *, by: Actor) -> dict:
        """Merge referrer ``referrer_id``'s record into ``ask.into``'s: two records of one person (a manager's).

        Its referrals, referrals out, introductions, contacts and worklist tasks
        move to the one kept; the point-person histories are joined
        (``rules.merged_tenures``); the relationship began on the earlier
        ``since``. An introduction or contact the kept record holds already
        (same day, and colleague and introducer, or member and kind) is one
        event: the merged record's copy is deleted (``dropped``). The merged id
        stays taken and leads to the one kept (``merged_into``). Both referrers
        are locked, in id order, so a concurrent merge, handoff or write about
        either waits. Returns ``merged``, ``into``, ``point_person_id``,
        ``since`` and ``dropped``. Audited as ``merge referrer``.
        """
        ask = _ask(MergeInput, ask)
        self._allowed(by, "merge_referrers")
        if ask.into == referrer_id:
            raise InvalidInput("field 'into': a referrer cannot be merged into itself")

        def work(unit: store.WriteUnit) -> dict:
            for rid in sorted((referrer_id, ask.into)):
                unit.lock_referrer(rid)
            held = {row["id"]: row for row in unit.lookup([referrer_id, ask.into]) if row["referrer"]}
            for rid, prefix in ((referrer_id, ""), (ask.into, "field 'into': ")):
                if rid not in held:
                    went = unit.merged_into(rid)
                    raise NotFound(f"{prefix}referrer {rid!r} was merged into {went!r} already" if went
                                   else f"{prefix}unknown referrer {rid!r}")
            gone, kept = held[referrer_id], held[ask.into]
            tenures = merged_tenures([(t["since"], t["point_person_id"]) for t in kept["tenures"]],
                                     [(t["since"], t["point_person_id"]) for t in gone["tenures"]])
            rows = [{"since": since, "until": tenures[i + 1][0] if i + 1 < len(tenures) else None,
                     "point_person_id": clinician} for i, (since, clinician) in enumerate(tenures)]
            keys = {row["referrer_id"]: row for row in unit.event_keys([referrer_id, ask.into])}
            copies = _copies(keys.get(referrer_id), keys.get(ask.into))
            dropped = sorted(copies)
            unit.delete_events(copies)
            since = min(d for d in (gone["since"], kept["since"]) if d is not None)
            unit.merge_referrer(referrer_id, ask.into, rows, since, today())
            unit.changed_referrers([ask.into])
            return {"merged": referrer_id, "into": ask.into, "point_person_id": tenures[-1][1] if tenures else None,
                    "since": since, "dropped": dropped}

        row = self._write(work, bulk=True)  # a referrer went: every live analysis rebuilds
        if self.live is not None:  # the manager's next page shows one record, not two (bounded: a big practice
            self.live.wait_for_rebuild(MERGE_WAIT_SECONDS)  # answers first, its pages saying the data is catching up)
        self._audit("merge referrer", by, ids=[referrer_id, ask.into], detail={"dropped": row["dropped"]})
        return row

    # -- corrections that keep history --------------------------------------------------------------

    def void_record(self, kind: str, record_id: str, ask: VoidInput | Mapping, *, by: Actor) -> dict:
        """Void a mistaken record of ``kind`` (``VOIDABLE``: referral, introduction, contact, referral_out), with
        a reason (a manager's). It stays, marked voided, and leaves the analysis and every list; its referrer's
        analysis is brought up to date in the same transaction. Returns ``kind``, ``id``, ``referrer_id``,
        ``voided_on`` and ``void_reason``; audited as ``void <kind>``."""
        ask = _ask(VoidInput, ask)
        self._allowed(by, "void_records")
        label = _voidable(kind)

        def work(unit: store.WriteUnit) -> dict:
            found = unit.void_record(label, record_id, ask.reason, today())
            if found is None:
                raise NotFound(f"unknown {kind.replace('_', ' ')} {record_id!r}")
            if found["was_voided"]:
                raise InvalidInput(f"{LABEL[kind]} {record_id!r} is voided already ({found['void_reason']})")
            unit.changed_referrers([found["referrer_id"]])
            return {"kind": kind, "id": record_id, "referrer_id": found["referrer_id"],
                    "voided_on": found["voided_on"], "void_reason": found["void_reason"]}

        row = self._write(work)
        self._audit(f"void {kind}", by, ids=[record_id, row["referrer_id"]], detail={"reason": ask.reason})
        return row

    def undo_handoff(self, referrer_id: str, ask: VoidInput | Mapping, *, by: Actor) -> dict:
        """Undo a referrer's last handoff, a mistake (a manager's, with a reason): the point person before it
        is the point person again. Returns ``referrer_id``, ``undone`` (the clinician whose tenure went),
        ``point_person_id`` and ``since`` (the day of the handoff undone); audited as ``undo handoff``."""
        ask = _ask(VoidInput, ask)
        self._allowed(by, "void_records")

        def work(unit: store.WriteUnit) -> dict:
            unit.lock_referrer(referrer_id)
            held = {row["id"]: row for row in unit.lookup([referrer_id])}.get(referrer_id)
            if held is None or not held["referrer"]:
                raise NotFound(f"unknown referrer {referrer_id!r}")
            found = unit.undo_handoff(referrer_id)
            if found is None:
                raise InvalidInput(f"referrer {referrer_id!r} has had one point person only: no handoff to undo")
            unit.changed_referrers([referrer_id])
            return {"referrer_id": referrer_id, **found}

        row = self._write(work)
        self._audit("undo handoff", by, ids=[referrer_id, row["undone"], row["point_person_id"]],
                    detail={"since": row["since"], "reason": ask.reason})
        return row

    def undo_pass(self, referral_id: str, ask: VoidInput | Mapping, *, by: Actor) -> dict:
        """Undo a referral's pass, a mistake (a manager's, with a reason): it is assigned to the clinician it
        was addressed to again, without a pass reason. Returns ``id``, ``referrer_id``, ``addressed_to``,
        ``assigned_to`` and ``undone`` (the clinician it had been passed to); audited as ``undo pass``."""
        ask = _ask(VoidInput, ask)
        self._allowed(by, "void_records")

        def work(unit: store.WriteUnit) -> dict:
            stored = unit.referral(referral_id)  # locked: a concurrent pass waits
            if stored is None:
                raise NotFound(f"unknown referral {referral_id!r}")
            if stored["addressed_to"] == stored["assigned_to"]:
                raise InvalidInput(f"referral {referral_id!r} is not passed: it is with the clinician it was "
                                   "addressed to")
            if stored["pass_reason"] is None:  # addressed to the practice or a staff member: assigned
                raise InvalidInput(f"referral {referral_id!r} is assigned, not passed: change its assignment "
                                   "by passing it")
            unit.pass_referral(referral_id, stored["addressed_to"], None)
            unit.changed_referrers([stored["referrer_id"]])
            return {"id": referral_id, "referrer_id": stored["referrer_id"], "addressed_to": stored["addressed_to"],
                    "assigned_to": stored["addressed_to"], "undone": stored["assigned_to"]}

        row = self._write(work)
        self._audit("undo pass", by, ids=[referral_id, row["referrer_id"], row["undone"]],
                    detail={"reason": ask.reason})
        return row

    def voided_of(self, referrer_id: str) -> list[dict]:
        """The referrer's voided records, newest first (its page lists them, marked, with their reasons)."""
        return reads.voided_of_referrer(self.db, referrer_id)

    def restore_record(self, kind: str, record_id: str, *, by: Actor) -> dict:
        """Restore a voided record (a manager's): it counts again. Refused when it would now be a duplicate
        (an introduction or contact recorded again since). Returns ``kind``, ``id`` and ``referrer_id``;
        audited as ``restore <kind>``."""
        self._allowed(by, "void_records")
        label = _voidable(kind)

        def work(unit: store.WriteUnit) -> dict:
            found = unit.restore_record(label, record_id)
            if found is None:
                raise NotFound(f"unknown {kind.replace('_', ' ')} {record_id!r}")
            if not found["was_voided"]:
                raise InvalidInput(f"{LABEL[kind]} {record_id!r} is not voided")
            if kind in ("introduction", "contact"):
                keys = {row["referrer_id"]: row for row in unit.event_keys([found["referrer_id"]])}
                events = keys.get(found["referrer_id"], {}).get(f"{kind}s", [])
                mine = [tuple(e[1:]) for e in events if e[0] == record_id]
                twins = sorted(e[0] for e in events if e[0] != record_id and tuple(e[1:]) in mine)
                if twins:  # the transaction rolls back: nothing restored
                    raise InvalidInput(f"{LABEL[kind]} {record_id!r} cannot be restored: {kind} {twins[0]} records "
                                       "the same since (void that one first)")
            unit.changed_referrers([found["referrer_id"]])
            return {"kind": kind, "id": record_id, "referrer_id": found["referrer_id"]}

        row = self._write(work)
        self._audit(f"restore {kind}", by, ids=[record_id, row["referrer_id"]])
        return row

    # -- closing the loop -------------------------------------------------------------------------

    def record_status(self, referral_id: str, ask: StatusInput | Mapping, *, by: Actor) -> dict:
        """Record where a referral stands from a day on (``rules.status_problem``: forward, each status
        once, not before the referral or its last status). A clinician records only the statuses of
        referrals assigned to it. Returns ``referral_id``, ``referrer_id``, ``status``, ``date`` and every
        ``statuses`` so far."""
        ask = _ask(StatusInput, ask)

        def work(unit: store.WriteUnit) -> dict:
            stored = unit.referral(referral_id)  # locked: two statuses of one referral take turns
            if stored is None:
                raise NotFound(f"unknown referral {referral_id!r}")
            self._allowed(by, "record_status", assigned_to=stored["assigned_to"])
            statuses = {k: v for k, v in stored["statuses"].items() if v is not None}
            problem = status_problem(stored["date"], statuses, ask.status, ask.date)
            if problem:
                raise InvalidInput(problem)
            record = _record("referral_status", {"referral_id": referral_id, "status": ask.status,
                                                 "date": ask.date})
            unit.upsert("referral_status", [record.row()])
            unit.changed_referrers([stored["referrer_id"]], analysis=False)  # its rows, not its stage
            return {"referral_id": referral_id, "referrer_id": stored["referrer_id"], "status": ask.status,
                    "date": ask.date, "statuses": {**statuses, ask.status: ask.date}}

        row = self._write(work)
        self._audit("write status", by, ids=[referral_id, row["referrer_id"]], detail={"status": row["status"]})
        return row

    def send_update(self, referrer_id: str, *, by: Actor, day=None) -> dict:
        """Record that the referrer's update was sent on ``day`` (today): a contact of kind
        ``update_sent`` from its point person (or the clinician sending it), covering the referrals it
        tells about (``rules.in_update``: the last ``UPDATE_DAYS`` days' whose client agreed), which
        closes their follow-up loops. ``InvalidInput`` when there is nothing to tell. Returns the
        contact, ``covers`` included."""
        day = day or today()

        def work(unit: store.WriteUnit) -> dict:
            unit.lock_referrer(referrer_id)
            held = {r["id"]: r for r in unit.lookup([referrer_id])}.get(referrer_id)
            if held is None or not held["referrer"]:
                raise NotFound(f"unknown referrer {referrer_id!r}")
            self._allowed(by, "send_update", point_person_id=held["point_person_id"])
            covered = [x["id"] for x in unit.referrals_of(referrer_id)
                       if in_update(x["date"], x["consent_to_update"], day)]
            if not covered:
                raise InvalidInput(f"nothing to send: no referral of the last {UPDATE_DAYS} days has a client "
                                   "who agreed that the referrer be told (consent_to_update yes)")
            sender = by.clinician_id if by.role == "clinician" else held["point_person_id"]
            contact = _record("contact", {"id": new_id("contact"), "date": day, "referrer_id": referrer_id,
                                          "member_id": sender, "kind": "update_sent", "covers": covered})
            unit.create("contact", contact.id)
            _check([Batch(KIND["contact"], rows=[(None, contact)])], unit)
            unit.upsert("contact", [contact.row()])
            unit.changed_referrers([referrer_id])
            return contact.row()

        row = self._write(work)
        self._record_audit("update_sent", by, [row["id"], referrer_id, row["member_id"], *row["covers"]])
        return row

    # -- worklist rows ----------------------------------------------------------------------------

    def act_on_row(self, worklist: str, row: Mapping, ask: RowAction | Mapping, *, by: Actor) -> dict:
        """Assign, snooze, mark done or reopen a worklist row; returns the row's stored task.

        ``row`` is the row as the analysis lists it (``id``, ``referrer``,
        and ``referral`` on follow-up). Its task (``records.Task``) is made
        on the first action and changed by the next: ``assign`` sets who has
        it, ``snooze`` the day it comes back, ``done`` closes it with an
        outcome note (dated today), ``reopen`` puts a done or snoozed row
        back on the list (who has it stays). A clinician may act only on the
        rows of referrers it is the current point person of, checked after
        the referrer's lock (a concurrent handoff waits). Audited as ``write
        task`` with the action and the list (never the note).
        """
        ask = _ask(RowAction, ask)
        referrer_id = row["referrer"]
        names = {"assigned_to": "to", "snoozed_until": "until"}

        def work(unit: store.WriteUnit) -> dict:
            unit.lock_referrer(referrer_id)
            found = {r["id"]: r for r in unit.lookup([referrer_id, ask.to] if ask.to else [referrer_id])}
            held = found.get(referrer_id)
            if held is None or not held["referrer"]:
                raise NotFound(f"unknown referrer {referrer_id!r}")
            self._allowed(by, "work_on_rows", point_person_id=held["point_person_id"])
            if ask.to is not None and not (found.get(ask.to) or {}).get("member"):
                raise NotFound(f"field 'to': unknown member {ask.to!r} (a clinician's or staff member's id)")
            stored = unit.task(row["id"])
            fields = {"id": row["id"], "worklist": worklist, "referrer_id": referrer_id,
                      "referral_id": row.get("referral"), "status": "open", "assigned_to": None,
                      "snoozed_until": None, "note": "", "done_on": None}
            if stored is not None and stored["status"] != "closed":  # a closed task's row is a new start
                fields.update(assigned_to=stored["assigned_to"], snoozed_until=stored["snoozed_until"],
                              note=stored["note"] or "", status=stored["status"], done_on=stored["done_on"])
            if ask.action == "assign":
                fields["assigned_to"] = ask.to
            elif ask.action == "snooze":
                fields.update(snoozed_until=ask.until, status="open", done_on=None)
            elif ask.action == "done":
                fields.update(status="done", note=ask.note, done_on=today(), snoozed_until=None)
            else:  # reopen
                fields.update(status="open", snoozed_until=None, done_on=None)
            record = _record("task", fields, names)
            _check([Batch(KIND["task"], rows=[(None, record)])], unit, names)
            unit.upsert("task", [record.row()])
            unit.changed_referrers([referrer_id], analysis=False)  # its worklist rows, not its analysis
            return record.row()

        task = self._write(work)
        self._audit("write task", by, ids=[i for i in (task["id"], referrer_id, task["assigned_to"]) if i],
                    detail={"action": ask.action, "worklist": worklist})
        return task

    def close_gone_tasks(self, insights: Insights, *, by: Actor) -> int:
        """Mark ``closed`` the open tasks whose rows' reasons went (``Insights.gone_tasks``: no list holds
        their rows any more), so that analysts' Cypher tells them from the work in hand; ``graphsvc
        analyze`` runs it. A task done since ``insights`` was built is left as it is. Returns how many
        were closed; audited as ``close tasks``."""
        gone = insights.gone_tasks()
        if not gone:
            return 0

        def work(unit: store.WriteUnit) -> list[str]:
            closed = unit.close_tasks(gone)
            unit.changed_referrers([row["referrer"] for row in closed], analysis=False)
            return sorted(row["id"] for row in closed)

        closed = self._write(work)
        if closed:
            self._audit("close tasks", by, ids=closed[:100], detail={"tasks": len(closed)})
        return len(closed)

    # -- referrers, members, outside providers ------------------------------------------------------

    def save(self, kind: str, ask: Input | Mapping, *, by: Actor, record_id: str | None = None) -> dict:
        """Add a record of ``kind`` (``referrer``, ``clinician``, ``staff``, ``external_provider``,
        ``client``), or
        with ``record_id`` change the stored one (``ask`` a ``*Change``, without an id).

        An add refuses an id already taken (``"already exists"``, or another
        kind of party's); a change refuses an id that names no record of the
        kind (``NotFound``). A referrer's ``point_person_id`` and ``since``
        name its first point person; a handoff changes who holds the role.
        """
        if record_id is None:
            return self._add(kind, _ask(ADD[kind], ask).given(), by=by, mode="add")
        return self._add(kind, {**_ask(CHANGE[kind], ask).given(), "id": record_id}, by=by, mode="update")

    # -- many at once ------------------------------------------------------------------------------

    def import_folder(self, folder: str | Path, *, by: Actor, skip_bad: bool = False,
                      batch_size: int | None = None, workers: int | None = None,
                      progress=None, on_total=None, add_values: bool = False) -> ImportReport:
        """Validate a folder of CSV files (``graphsvc.csvio.importer``) and write it in batches.

        Every row of every file is checked before anything is written: its
        fields, duplicates within the file, and every id it refers to, which
        must be defined earlier in the folder or already be in the graph. If
        any row is bad nothing is written (``ImportRejected``), unless
        ``skip_bad``; then the good rows are written, and rows that refer to
        a bad row count as bad too. Writes are ``UNWIND`` batches of upserts
        keyed on ids, ``workers`` transactions at a time, so importing the same
        folder twice leaves the graph as it was, and an import cut short is
        finished by importing the folder again. ``progress(n)`` after each
        batch; ``on_total(n)`` once, before writing. Audited as ``import``
        with the folder and the rows written per file.
        """
        started = time.perf_counter()
        folder = Path(folder)
        # A database made before graphsvc kept vocabularies adopts the words its records use first (once), so
        # an import into it is not refused the words it already holds.
        store.ensure_schema(self.db)
        problems: list[Problem] = []
        parsed = read_folder(folder, problems)
        log.info("import %s: %d file(s) read", folder, len(parsed))
        return self.import_batches(parsed, problems, source=folder, by=by, skip_bad=skip_bad,
                                   batch_size=batch_size, workers=workers, progress=progress,
                                   on_total=on_total, add_values=add_values, started=started)

    def import_batches(self, parsed: Mapping[str, Batch], problems: list[Problem], *, source: str | Path,
                       by: Actor, skip_bad: bool = False, batch_size: int | None = None,
                       workers: int | None = None, progress=None, on_total=None, add_values: bool = False,
                       started: float | None = None, explain=None, audit_detail: Mapping | None = None,
                       order=problem_order) -> ImportReport:
        """Check and write records read from ``source`` (a CSV folder, a FHIR export, an HSDS directory):
        ``parsed`` maps a file name to its ``Batch``, in write order; ``problems`` holds what reading found.

        The one path of every import, with ``import_folder``'s guarantees: everything is checked first,
        nothing is written if anything is refused (unless ``skip_bad``), writes are idempotent upserts,
        and the import is audited. ``explain(problems)`` may rewrite the problems the checks found
        (a FHIR import names the resource each record came from) before they are reported; ``order`` is
        the key they are reported in (by default a CSV folder's: its files in write order, then lines).
        """
        started = time.perf_counter() if started is None else started
        folder = Path(source)
        store.ensure_schema(self.db)
        if add_values:
            self._allowed(by, "manage_vocabularies")
        in_use = terms.practice_in_use(self.db)
        adopt = add_values or not in_use
        checker = Checker(parsed.values(), problems, lookup=lambda ids: reads.held_by(self.db, ids),
                          words=Vocabularies(terms.stored_words(self.db)), adopt=adopt,
                          events=lambda ids: reads.event_keys(self.db, ids),
                          npis=lambda npis: reads.npi_holders(self.db, npis))
        checker.check()
        if explain is not None:
            problems[:] = explain(problems)
        report = ImportReport(folder=str(folder), values_added=checker.adopted)
        for name, rows in parsed.items():
            report.files[name] = FileCount(rows=len(rows.rows) + rows.unreadable,
                                           bad=len(rows.bad_lines) + rows.unreadable)
        problems.sort(key=order)
        report.problems = problems
        if problems and not skip_bad:
            log.warning("import %s rejected: %d problem(s), nothing written", folder, len(problems))
            raise ImportRejected(folder, problems)
        if checker.adopted and in_use and not add_values:  # a vocabularies.csv adding words to a practice in use
            self._allowed(by, "manage_vocabularies")
        self._add_words(checker.adopted, by, via=f"import {os.path.abspath(folder)}")
        settings = self.db.settings
        batch_size, workers = batch_size or settings.batch_size, workers or settings.import_workers
        store.mark_bulk_change(self.db)  # before and after: a half-done import counts too
        if on_total:
            on_total(sum(len(r.rows) - len(r.bad_lines) for r in parsed.values()))
        report.validate_seconds = time.perf_counter() - started
        try:
            for name, rows in parsed.items():
                began = time.perf_counter()
                good = (rec._asdict() for _, rec in rows.good())
                if rows.kind.name == "term":  # a built-in word listed is known already: never stored
                    good = (r for r in good if r["value"] not in VOCABULARY_BUILT_IN[r["vocabulary"]])
                report.files[name].written = store.write_records(
                    self.db, rows.kind.name, good, batch_size=batch_size, workers=workers, progress=progress)
                report.files[name].seconds = round(time.perf_counter() - began, 3)
        except NpiTaken as e:  # a single write took one of the folder's NPIs after it was checked
            raise GraphsvcError(f"{folder}: NPI {e.record_id} was taken while the import wrote ({e}); "
                                "import the folder again to see which row") from None
        except IdTaken as e:  # a single write took one of the folder's ids after it was checked
            raise GraphsvcError(f"{folder}: id {e.record_id!r} was taken while the import wrote ({e}); "
                                "import the folder again to see which row") from None
        # upsert_referrers and upsert_handoffs close the tenures they touch within each batch, so no
        # referrer ever has two current point persons, even between batches or after an import cut short.
        store.mark_bulk_change(self.db)
        report.seconds = time.perf_counter() - started
        log.info("import %s: %d rows written, %d bad, in %.1fs", folder, report.written,
                 sum(c.bad for c in report.files.values()), report.seconds)
        self._audit("import", by, detail={"folder": os.path.abspath(folder),
                                          "rows": {name: f.written for name, f in report.files.items()},
                                          **(audit_detail or {})})
        self._after_bulk()
        return report

    # -- vocabularies ------------------------------------------------------------------------------

    def words(self) -> Vocabularies:
        """The practice's vocabularies as stored now (``graphsvc.vocabularies``)."""
        return Vocabularies(terms.stored_words(self.db))

    def check_match_words(self, request) -> None:
        """Refuse a match request (``inputs.MatchRequest``) whose population or schedule is not a word of the
        practice's vocabularies, naming the closest ones: they are hard constraints, and a typo would match
        nobody. Its needs and insurance are scored, and the match names the unknown ones itself."""
        words = self.words()
        refused = [(name, vocabulary, value, words.closest(vocabulary, value))
                   for name, vocabulary, value in (("population", "populations", request.population),
                                                   ("schedule", "schedules", request.schedule))
                   if value is not None and not words.known(vocabulary, value)]
        if refused:
            raise InvalidInput([unknown_message(*r) for r in refused],
                               words=[{"field": n, "value": v, "vocabulary": voc, "did_you_mean": close}
                                      for n, voc, v, close in refused])

    def add_word(self, vocabulary: str, ask: WordInput | Mapping, *, by: Actor) -> dict:
        """Add a word to one of the vocabularies (a manager's). Returns ``vocabulary``, ``value``, ``added``
        (False: it was there already, nothing changed) and the vocabulary's ``values`` now. Audited as
        ``vocabulary add`` when it added something."""
        if vocabulary not in VOCABULARIES:
            raise NotFound(f"unknown vocabulary {shown(vocabulary)}; the vocabularies are {', '.join(VOCABULARIES)}")
        self._allowed(by, "manage_vocabularies")
        value = _ask(WordInput, ask).value
        added = self._add_words({vocabulary: [value]}, by, via="one word")
        return {"vocabulary": vocabulary, "value": value, "added": bool(added),
                "values": self.words().values(vocabulary)}

    def _add_words(self, words: dict[str, list[str]], by: Actor, *, via: str) -> list[dict]:
        """Store ``words`` (vocabulary -> words); audit the ones new, one entry per vocabulary."""
        rows = [{"vocabulary": name, "value": value} for name, values in words.items() for value in values
                if value not in VOCABULARY_BUILT_IN[name]]
        if not rows:
            return []
        added = [r for r in terms.add_words(self.db, rows, today()) if r["added"]]
        for name in VOCABULARIES:
            new = [r["value"] for r in added if r["vocabulary"] == name]
            if new:
                self._audit("vocabulary add", by, detail={"vocabulary": name, "values": new[:200],
                                                          "count": len(new), "via": via})
        return added

    def store_analysis(self, insights: Insights, *, batch_size: int | None = None,
                       workers: int | None = None) -> int:
        """Store stage, metrics and the options used on every Referrer node (``graphsvc analyze``).

        A referrer whose relationship had not started by ``as_of`` gets the
        options too, and its stage and metrics are removed. Returns how many
        referrers got a stage. Batches run ``workers`` at a time; each touches
        only its own referrers, so they never wait on each other's locks.
        """
        began = time.perf_counter()
        rows, analysed = insights.stored_rows()
        settings = self.db.settings
        store.write_back(self.db, rows, insights.options.stored(), batch_size=batch_size or settings.batch_size,
                         workers=workers or settings.import_workers)
        log.info("write-back: stage and metrics stored on %d referrers, removed from %d not started yet "
                 "(%s) in %.1fs", analysed, len(rows) - analysed, insights.options, time.perf_counter() - began)
        return analysed

    def store_weights(self, result: dict) -> None:
        """Store the suggestion weights ``evaluate --tune`` learned, for every analysis after it."""
        stored_weights.store_weights(self.db, result)
        self._after_bulk()

    # -- the steps ---------------------------------------------------------------------------------

    def _add(self, kind: str, fields: dict, *, by: Actor, mode: str | None = None, client: dict | None = None):
        """Make the record (and a referral's new client), write it; a generated id that clashes is
        made again, at most ``ID_TRIES`` times."""
        generate = fields.get("id") is None
        for _ in range(ID_TRIES):
            if generate:
                fields = {**fields, "id": new_id(kind)}
            new_client = None
            if client is not None:
                fields = {**fields, "client_id": new_id("client")}
                new_client = _new_client(client, fields["client_id"])
            record = _record(kind, fields)
            try:
                row = self._write(lambda unit, r=record, c=new_client: self._save(unit, kind, r, mode, c, by))
            except NpiTaken as e:  # taken meanwhile by a write the checks could not see (an import's)
                raise InvalidInput(f"field 'npi': {e.record_id} is already another party's NPI; "
                                   "one NPI belongs to one party") from None
            except IdTaken as e:
                if not generate and e.record_id == record.id:
                    raise InvalidInput(_taken(kind, e)) from None
                continue  # a generated id (the record's or its new client's) clashed: new ones
            self._record_audit(kind, by, _touched(kind, row))
            return row
        raise GraphsvcError(f"could not find a free id for a new {kind.replace('_', ' ')} in {ID_TRIES} tries")

    def _save(self, unit: store.WriteUnit, kind: str, record: Record, mode: str | None, client: Record | None,
              by: Actor) -> dict:
        """One record's write, in its transaction: permission, checks, then the statements."""
        own = OWN_FIELD.get(kind)
        self._allowed(by, ACTION[kind], **({own: getattr(record, own)} if own else {}))
        if kind in EVENTS:
            unit.create(kind, record.id)  # a taken id fails here (IdTaken)
        batches = [Batch(KIND[kind], rows=[(None, record)], mode=mode)]
        if client is not None:
            unit.create("client", client.id)
            batches.insert(0, Batch(KIND["client"], rows=[(None, client)], prefix="client."))
        _check(batches, unit)
        if mode == "add":
            unit.create(kind, record.id)  # under the id's constraint, after the checks
        if client is not None:
            unit.upsert("client", [client.row()])
        row = record.row()
        unit.upsert(kind, [row])  # a referrer's tenures are closed by its upsert itself
        if kind in REFERRER_FIELD:
            unit.changed_referrers([row[REFERRER_FIELD[kind]]])
        elif kind == "client":
            # Its attributes travel with its referrals in the analysed graph: the referrers that sent
            # them changed (their stored analysis did not).
            unit.changed_referrers(unit.referrers_of_client(record.id), analysis=False)
        # A record a person adds or changes is not voided (voiding is its own write): the answer leaves out
        # the two empty fields that say so.
        return {k: v for k, v in row.items() if k not in ("voided_on", "void_reason")}

    def _write(self, work, *, bulk: bool = False) -> dict:
        """Run ``work`` as one write with the stored analysis refreshed; then the live analysis (``bulk``: a
        write the change feed cannot carry, such as a merge, which the live analysis takes by a rebuild)."""
        written = store.run_write(self.db, work, analyse=self._analyse)
        if bulk:
            self._after_bulk()  # it sees the bulk mark the write made: a full rebuild
            return written.result
        if self.live is not None:
            try:
                self.live.written(written)
            except Exception:  # the write is committed: the change feed brings it to the analysis later
                log.exception("updating the analysis after a write")
        return written.result

    def _analyse(self, sub, referrer_ids: list[str]) -> store.StoredAnalysis:
        rows, histories, metrics = stored_analysis(sub, referrer_ids, self.options)
        # The options go with the results: the live analysis takes them only if it uses the same.
        return store.StoredAnalysis(rows, self.options.stored(), results=(self.options, histories, metrics))

    def _allowed(self, by: Actor, action: str, **context) -> None:
        reason = permissions.why_not(by, action, **context)
        if reason is not None:
            raise Forbidden(reason)

    def _record_audit(self, kind: str, by: Actor, ids) -> None:
        self._audit(f"write {kind}", by, ids=[i for i in dict.fromkeys(ids) if i])

    def _audit(self, action: str, by: Actor, *, ids=(), detail: dict | None = None) -> None:
        if self.audit is not None:
            self.audit.record(action, user=by.user, address=by.address, ids=ids, detail=detail)

    def _after_bulk(self) -> None:
        """After an import or new weights: the live analysis rebuilds (it sees the bulk change)."""
        if self.live is not None:
            try:
                self.live.update()
            except Exception:
                log.exception("updating the analysis after a bulk change")


# -- records, problems, ids ------------------------------------------------------------------------------


def _ask(model: type[Input], ask: Input | Mapping) -> Input:
    """A request as its model: as it is, or a mapping of its fields parsed by the model."""
    return ask if isinstance(ask, model) else parse(model, ask)


def _record(kind: str, fields: dict, names: dict | None = None) -> Record:
    """``fields`` as a record of ``kind``; ``InvalidInput`` naming each bad field as the request does."""
    try:
        return KIND[kind].parse(**fields)
    except InvalidInput as e:
        raise InvalidInput(_renamed(e.problems, names)) from None


def _new_client(fields: dict, client_id: str) -> Record:
    """A referral's new client, its problems named ``client.<field>``."""
    try:
        return KIND["client"].parse(**fields, id=client_id)
    except InvalidInput as e:
        raise InvalidInput([re.sub(r"^field '([^']*)'", r"field 'client.\1'", p) for p in e.problems]) from None


def _check(batches: list[Batch], unit: store.WriteUnit, names: dict | None = None) -> None:
    """The rules between records (``graphsvc.checks``), against what the transaction sees (the stored
    records and the vocabularies' words)."""
    problems: list[Problem] = []
    words = Vocabularies(unit.added_words()) if any(b.kind.name in VOCABULARY_KINDS for b in batches) else None
    Checker(batches, problems, lookup=unit.lookup, words=words, events=unit.event_keys,
            npis=unit.npi_holders).check()
    if problems:
        messages = _renamed([p.message for p in problems], names)
        raise (NotFound if all(p.unknown for p in problems) else InvalidInput)(
            messages, words=[p.word for p in problems if p.word])


def _renamed(messages: list[str], names: dict | None) -> list[str]:
    """Messages naming a record's field by the request's name for it (``point_person_id`` ->
    ``to_clinician_id``), so that a form puts each beside its field."""
    if not names:
        return list(messages)
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b")
    return [pattern.sub(lambda m: names[m.group(1)], message) for message in messages]


# The kinds of record a manager may void and restore, and their node labels.
VOIDABLE = {"referral": "Referral", "introduction": "Introduction", "contact": "Contact",
            "referral_out": "ReferralOut"}


def _voidable(kind: str) -> str:
    if kind not in VOIDABLE:
        raise NotFound(f"a {kind.replace('_', ' ')} is not voided; the records voided are "
                       + ", ".join(k.replace("_", " ") + "s" for k in VOIDABLE))
    return VOIDABLE[kind]


def _copies(gone: dict | None, kept: dict | None) -> dict[str, str]:
    """``gone``'s introductions and contacts (``event_keys`` rows) that ``kept`` holds already (same day,
    colleague and introducer; or same day, member and kind): the copy's id -> the kept event's id."""
    if not gone or not kept:
        return {}
    out = {}
    for events in ("introductions", "contacts"):
        held = {tuple(e[1:]): e[0] for e in kept[events]}
        out.update({e[0]: held[tuple(e[1:])] for e in gone[events] if tuple(e[1:]) in held})
    return out


def _taken(kind: str, error: IdTaken) -> str:
    if error.label == "Party":  # taken meanwhile by another kind of party (graphsvc.checks refuses it first)
        return f"field 'id': {error.record_id!r} is already another party's id"
    return f"field 'id': {LABEL[kind]} {error.record_id!r} already exists"


def _touched(kind: str, row: dict) -> list:
    """The ids a write of ``kind`` touched, for the audit log: the record's, then those it names."""
    names = {"referral": ("referrer_id", "client_id", "addressed_to", "assigned_to"),
             "introduction": ("referrer_id", "introduced_id", "by_id"),
             "contact": ("referrer_id", "member_id"),
             "referral_out": ("referrer_id", "client_id", "provider_id"),
             "referrer": ("point_person_id",)}.get(kind, ())
    return [row["id"], *(row.get(n) for n in names)]
