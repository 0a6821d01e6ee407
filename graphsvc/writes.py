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
"""

from __future__ import annotations

from datetime import date as Date
from typing import Any

from pydantic import ValidationError

from . import records
from .catalog import query
from .csvformat import BY_NAME
from .db import Graph
from .errors import InvalidInput, NotFound
from .references import Checker, ParsedFile, Problem
from .schema import ensure_schema
from .vocabulary import PASS_REASONS, PRACTICE, PRACTICE_ID


def save_clinician(graph: Graph, **fields) -> dict:
    """Add or update a clinician (id, name, specialties, populations, insurances, schedule, accepting_new)."""
    return _save(graph, "clinicians.csv", fields)


def save_staff(graph: Graph, **fields) -> dict:
    """Add or update a staff member (id, name, role)."""
    return _save(graph, "staff.csv", fields)


def save_referrer(graph: Graph, **fields) -> dict:
    """Add or update a referrer (id, name, kind, organization, point_person_id, since).

    ``point_person_id`` and ``since`` name the relationship's first point
    person; to change who holds the role later, use ``hand_over``.
    """
    return _save(graph, "referrers.csv", fields)


def save_client(graph: Graph, **fields) -> dict:
    """Add or update a client: a pseudonymous id, needs, population, insurance, schedule."""
    return _save(graph, "clients.csv", fields)


def save_external_provider(graph: Graph, **fields) -> dict:
    """Add or update a trusted outside provider (id, name, niches)."""
    return _save(graph, "external_providers.csv", fields)


def record_referral(graph: Graph, **fields) -> dict:
    """Record a referral (id, date, referrer_id, client_id, addressed_to, assigned_to, pass_reason).

    ``addressed_to`` is a member id or ``"practice"``. ``assigned_to``
    defaults to ``addressed_to`` when that is a clinician.
    """
    if not fields.get("assigned_to") and fields.get("addressed_to") not in (None, PRACTICE):
        fields["assigned_to"] = fields["addressed_to"]
    return _save(graph, "referrals.csv", fields, new_event="Referral")


def record_introduction(graph: Graph, **fields) -> dict:
    """Record that member ``by_id`` introduced member ``introduced_id`` to a referrer."""
    return _save(graph, "introductions.csv", fields, new_event="Introduction")


def record_contact(graph: Graph, **fields) -> dict:
    """Record a contact (lunch, talk, school consult, ...) between a member and a referrer."""
    return _save(graph, "contacts.csv", fields, new_event="Contact")


def record_referral_out(graph: Graph, **fields) -> dict:
    """Record a client referred out to an external provider for one of its niches."""
    return _save(graph, "referrals_out.csv", fields, new_event="ReferralOut")


def record_pass(graph: Graph, referral_id: str, to_clinician_id: str, reason: str) -> dict:
    """The addressed clinician passes a referral to a better-matched colleague.

    Only a referral addressed to a clinician can be passed; passing it back
    to that clinician undoes the pass.
    """
    if reason not in PASS_REASONS:
        raise InvalidInput(f"field 'reason': must be one of {', '.join(PASS_REASONS)} (got {reason!r})")
    ensure_schema(graph)

    def work(tx):
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
        tx.run(query("bump_version"), practice_id=PRACTICE_ID).consume()
        return {"id": referral_id, "addressed_to": referral["addressed_to"],
                "assigned_to": to_clinician_id, "pass_reason": None if back else reason}

    return graph.write_tx(work)


def hand_over(graph: Graph, referrer_id: str, to_clinician_id: str, date: Date | str) -> dict:
    """Hand the point-person role for a referrer to another clinician from ``date`` on.

    The previous tenure is closed, not deleted, so the history stays.
    """
    try:
        handoff = records.Handoff(date=date, referrer_id=referrer_id, point_person_id=to_clinician_id)
    except ValidationError as e:
        raise InvalidInput(records.explain(e)) from None
    ensure_schema(graph)

    def work(tx):
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
        tx.run(query("upsert_handoffs"), rows=[handoff.row()]).consume()
        tx.run(query("close_tenures"), referrer_ids=[referrer_id]).consume()
        tx.run(query("bump_version"), practice_id=PRACTICE_ID).consume()
        return {"referrer_id": referrer_id, "point_person_id": to_clinician_id,
                "since": handoff.date, "previous": current["point_person_id"]}

    return graph.write_tx(work)


# -- shared --------------------------------------------------------------------


def _save(graph: Graph, file_name: str, fields: dict[str, Any], new_event: str | None = None) -> dict:
    spec = BY_NAME[file_name]
    try:
        record = spec.record(**fields)
    except ValidationError as e:
        raise InvalidInput(records.explain(e)) from None
    ensure_schema(graph)
    params = record.row()
    if file_name == "referrals.csv":
        addressed = params.pop("addressed_to")
        params["addressed_member"] = None if addressed == PRACTICE else addressed

    def work(tx):
        if new_event is not None:
            taken = tx.run(query("event_exists"), label=new_event, id=record.id).single()["taken"]
            if taken:
                raise InvalidInput(f"field 'id': {new_event} {record.id!r} already exists")
        problems: list[Problem] = []
        parsed = {file_name: ParsedFile(spec, rows=[(1, record)])}
        Checker(parsed, problems, lookup=lambda ids: tx.run(query("existing_ids"), ids=ids).data()).check()
        if problems:
            messages = [p.message for p in problems]
            unknown = all(m.startswith("unknown ") for m in messages)
            raise (NotFound if unknown else InvalidInput)(messages)
        tx.run(query("upsert_" + spec.stem), rows=[params], practice_id=PRACTICE_ID).consume()
        tx.run(query("bump_version"), practice_id=PRACTICE_ID).consume()
        if file_name == "referrers.csv":
            tx.run(query("close_tenures"), referrer_ids=[record.id]).consume()
        return record.row()

    return graph.write_tx(work)


def _require_clinician(tx, field: str, member_id: str) -> None:
    found = tx.run(query("existing_ids"), ids=[member_id]).data()
    kind = found[0]["member"] if found else None
    if kind is None:
        raise NotFound(f"field {field!r}: {member_id!r} is unknown")
    if kind != "clinician":
        raise InvalidInput(f"field {field!r}: {member_id!r} is a staff member, not a clinician")
