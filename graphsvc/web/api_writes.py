"""The JSON API's writes: the same writes as ``graphsvc.store.writes``, as JSON.

=====================================  =====================================  ====================
endpoint                               body                                   action (``auth``)
=====================================  =====================================  ====================
``POST /api/referrals``                a referral; ``client_id`` or a new     ``record_referral``
                                       ``client: {needs, population,
                                       insurance, schedule}``
``POST /api/passes``                   ``referral_id, to_clinician_id,        ``record_pass``
                                       reason``
``POST /api/introductions``            an introduction                        ``record_introduction``
``POST /api/contacts``                 a contact                              ``record_contact``
``POST /api/referrals-out``            a referral out                         ``record_referral_out``
``POST /api/handoffs``                 ``referrer_id, to_clinician_id, date`` ``hand_over``
``POST /api/referrers``, ``PUT         a referrer (PUT: without ``id``, the   ``save_referrer``
/api/referrers/<id>``                  path names it)
``.../clinicians``, ``.../staff``,     likewise                               ``save_clinician``,
``.../providers``                                                             ``save_staff``,
                                                                              ``save_provider``
=====================================  =====================================  ====================

Each takes the API token only (``auth.token_required``: the session cookie is
a 401 saying so, so no page of another site can write through a signed-in
browser), a JSON object of at most ``MAX_CONTENT_LENGTH`` bytes, and answers
201 (200 for a PUT) with the stored record, ``id`` included: a POST without
``id`` gets one made by the service (``graphsvc.records.new_id``). A POST
whose ``id`` is taken is a 400 "already exists"; a PUT of an unknown id a 404.

One validation path: the body goes to the Python write API, whose models and
reference rules are the import's, so a value is refused with the same message
on every path, and a refused write changes nothing. Before that, ``strict``
holds the body to its OpenAPI schema's JSON types (``request_schema``), so
the API takes exactly what its document says: no text for a list or a flag,
no number for a date, no spaces around a value, no ``null`` for a field that
is not nullable, no ``""`` for "none" (leave the field out), no unknown field.

Who may write what is ``auth.require`` (``auth.why_not``): a clinician's
contact and introduction are checked against the body's ``member_id`` and
``by_id``; its pass and handoff by the store itself, in the transaction that
writes (``acting_clinician``: the referral must be addressed to it, the
referrer's current point person must be it), a ``graphsvc.errors.Forbidden``
answered as a 403. Every write is audited (``write <kind>`` with the ids it
touched), then this worker's analysis is updated at once; other workers catch
up through the change feed.
"""

from __future__ import annotations

import logging
import re

from flask import current_app, jsonify
from flask_login import current_user
from werkzeug.exceptions import Forbidden as HTTPForbidden

from .. import records
from ..errors import Forbidden, InvalidInput, NotFound
from ..presentation import listing
from ..requests import shown
from ..store import writes
from . import auth, extensions
from .api import bp, json_body

log = logging.getLogger(__name__)

# Characters a name or an organization may not hold (``records._CONTROL``; lone surrogates, which no
# JSON text of the schema's regex engines holds, are refused by the model), as a pattern's class; and
# the spaces it may not start or end with (Python's and ECMAScript's whitespace both, spelled out so
# that both engines read the pattern alike).
_CONTROL = r"\x00-\x1f\x7f-\x9f\u2028\u2029"
_SPACE = r" \xa0\u1680\u2000-\u200a\u202f\u205f\u3000\ufeff"
SPACES = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007" \
         "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
# One line of text, nothing blank around it: a name (at least one character) or an organization (may be empty).
NAME_PATTERN = rf"^[^{_SPACE}{_CONTROL}](?:[^{_CONTROL}]*[^{_SPACE}{_CONTROL}])?$"
TEXT_PATTERN = rf"^(?:[^{_SPACE}{_CONTROL}](?:[^{_CONTROL}]*[^{_SPACE}{_CONTROL}])?)?$"

# The record kind each add/edit path saves, its action and its store function.
SAVES = {
    "referrers": ("referrer", "save_referrer", writes.save_referrer),
    "clinicians": ("clinician", "save_clinician", writes.save_clinician),
    "staff": ("staff", "save_staff", writes.save_staff),
    "providers": ("external_provider", "save_provider", writes.save_external_provider),
}
# The record kind each event path records.
EVENTS = {"referrals": "referral", "introductions": "introduction", "contacts": "contact",
          "referrals-out": "referral_out"}


# -- request schemas: the models' JSON schemas, held to exactly what is taken ----------------------


def _tighten(schema: dict) -> dict:
    """A model's JSON schema as the API takes it: names one line with nothing blank around
    them, lists without repeats; titles dropped."""
    schema = {k: v for k, v in schema.items() if k != "title"}
    props = {}
    for name, prop in schema.get("properties", {}).items():
        prop = {k: v for k, v in prop.items() if k != "title"}
        if name == "name":
            prop["pattern"] = NAME_PATTERN
        elif name == "organization":
            prop["pattern"] = TEXT_PATTERN
        if prop.get("type") == "array":
            prop["uniqueItems"] = True
        props[name] = prop
    schema["properties"] = props
    return schema


def record_schema(kind: str) -> dict:
    """The stored record of ``kind``, as an answer has it."""
    return _tighten(records.KIND[kind].model.model_json_schema())


def request_schema(kind: str, *, method: str = "post") -> dict:
    """The body of a write of ``kind`` (a record kind, ``"pass"`` or ``"handoff"``)."""
    if kind == "pass":
        return _tighten(records.PassRequest.model_json_schema())
    if kind == "handoff":
        return _tighten(records.HandoffRequest.model_json_schema())
    schema = record_schema(kind)
    required = [f for f in schema.get("required", []) if f != "id"]
    if method == "put":
        schema["properties"].pop("id")
    else:
        schema["properties"]["id"] = {**schema["properties"]["id"],
                                      "description": "Leave out for an id made by the service."}
    if kind == "referral":
        required = [f for f in required if f not in ("client_id", "assigned_to")]
        client = record_schema("client")
        client["properties"].pop("id")
        client["required"] = []
        client["description"] = "A new client (its id is made by the service), instead of client_id."
        schema["properties"]["client"] = client
        schema["properties"]["client_id"]["description"] = "A stored client; or give client instead."
        schema["properties"]["assigned_to"]["description"] = ("The clinician who takes the case; defaults to "
                                                              "addressed_to when that is a clinician.")
        schema["oneOf"] = [{"required": ["client_id"]}, {"required": ["client"]}]
    schema["required"] = required
    return schema


_JSON_TYPE = ((bool, "boolean"), (int, "integer"), (float, "number"), (str, "string"), (list, "array"),
              (dict, "object"), (type(None), "null"))
_TYPE_WORDS = {"boolean": "true or false", "integer": "a whole number", "number": "a number",
               "string": "text", "array": "a list", "object": "an object", "null": "null"}


def _json_type(value) -> str:
    return next(name for kind, name in _JSON_TYPE if isinstance(value, kind))


def _branches(schema: dict) -> list[dict]:
    return schema.get("anyOf") or [schema]


def strict(body: dict, schema: dict, prefix: str = "") -> list[str]:
    """What of ``body`` the model would take leniently but the schema does not allow, one
    message per field (the models judge everything else, with their own messages)."""
    problems = []
    props = schema.get("properties", {})
    for name, value in body.items():
        field = f"{prefix}{name}"
        if name not in props:
            problems.append(f"field {shown(field)}: is not a known field")
            continue
        problems += _strict_value(field, value, props[name])
    return problems


def _strict_value(field: str, value, schema: dict) -> list[str]:
    branches = _branches(schema)
    types = {b.get("type") for b in branches}
    got = _json_type(value)
    if got == "integer" and "number" in types:
        got = "number"
    if got not in types:
        if schema.get("format") == "date" or any(b.get("format") == "date" for b in branches):
            wanted = "a date in the form YYYY-MM-DD"
        else:
            wanted = " or ".join(_TYPE_WORDS[t] for t in sorted(types, key=str) if t in _TYPE_WORDS)
        return [f"field {shown(field)}: must be {wanted} (got {shown(value)})"]
    branch = next(b for b in branches if b.get("type") == got)
    if got == "string":
        if value == "":
            return [] if branch.get("pattern") in (TEXT_PATTERN,) else [
                f"field {shown(field)}: must not be empty (leave the field out for none)"]
        if value != value.strip(SPACES):
            return [f"field {shown(field)}: must not start or end with spaces (got {shown(value)})"]
    elif got == "array":
        out = []
        for i, item in enumerate(value):
            out += _strict_value(f"{field} item {i + 1}", item, branch.get("items", {}))
        return out
    elif got == "object":
        return strict(value, branch, prefix=f"{field}.")
    return []


def _body(kind: str, method: str = "post") -> dict:
    """The request's JSON object, held to its schema's types (a 400 naming each field otherwise)."""
    body = json_body()
    schema = request_schema(kind, method=method)
    if not isinstance(body, dict):
        raise InvalidInput(f"the body must be a JSON object with the fields {listing(schema['properties'])}")
    problems = strict(body, schema)
    if problems:
        raise InvalidInput(problems)
    return body


# -- answers ----------------------------------------------------------------------------------------


def _done(kind: str, row: dict, ids: list, status: int = 201):
    """Audit the write, show it in this worker's analysis at once, answer with the stored record."""
    auth.record(f"write {kind}", user=current_user.username, ids=[i for i in dict.fromkeys(ids) if i])
    try:
        current_app.extensions["insights"].update()
    except Exception:  # the write is committed; the poller catches up
        log.exception("updating the analysis after a write")
    return jsonify(row), status


@bp.app_errorhandler(Forbidden)
def forbidden(error):
    """The store's refusal of a clinician's pass or handoff: a 403 saying why, as the path calls for (JSON
    under /api/, the site's error page elsewhere, e.g. a form that lets the store check)."""
    return current_app.handle_http_exception(HTTPForbidden(str(error)))


def _clinician() -> str | None:
    """The signed-in clinician's id, when a clinician is writing (its own cases only)."""
    return current_user.clinician_id if current_user.role == "clinician" else None


# -- events -----------------------------------------------------------------------------------------


@bp.post("/referrals")
@auth.token_required
def add_referral():
    """Record a referral (and, with ``client``, its new client)."""
    auth.require("record_referral")
    body = _body("referral")
    row = writes.record_referral(extensions.graph(), **body)
    return _done("referral", row, [row["id"], row["referrer_id"], row["client_id"]])


@bp.post("/introductions")
@auth.token_required
def add_introduction():
    """Record an introduction (a clinician: one it makes, ``by_id``)."""
    body = _body("introduction")
    auth.require("record_introduction", by_id=body.get("by_id"))
    row = writes.record_introduction(extensions.graph(), **body)
    return _done("introduction", row, [row["id"], row["referrer_id"]])


@bp.post("/contacts")
@auth.token_required
def add_contact():
    """Record a contact (a clinician: its own, ``member_id``)."""
    body = _body("contact")
    auth.require("record_contact", member_id=body.get("member_id"))
    row = writes.record_contact(extensions.graph(), **body)
    return _done("contact", row, [row["id"], row["referrer_id"]])


@bp.post("/referrals-out")
@auth.token_required
def add_referral_out():
    """Record a client referred out to an outside provider."""
    auth.require("record_referral_out")
    body = _body("referral_out")
    row = writes.record_referral_out(extensions.graph(), **body)
    return _done("referral_out", row, [row["id"], row["referrer_id"], row["client_id"]])


@bp.post("/passes")
@auth.token_required
def add_pass():
    """Pass a referral to another clinician (a clinician: one addressed to it)."""
    mine = _clinician()
    auth.require("record_pass", addressed_to=mine)  # a clinician's: checked against the referral in the store
    body = _body("pass")
    missing = [f for f in ("referral_id", "to_clinician_id", "reason") if f not in body]
    if missing:
        raise InvalidInput([f"field {shown(f)}: is required" for f in missing])
    row = writes.record_pass(extensions.graph(), body["referral_id"], body["to_clinician_id"], body["reason"],
                             acting_clinician=mine)
    return _done("pass", row, [row["id"], row["assigned_to"]])


@bp.post("/handoffs")
@auth.token_required
def add_handoff():
    """Hand a referrer to another point person (a clinician: a referrer it holds)."""
    mine = _clinician()
    auth.require("hand_over", point_person_id=mine)  # a clinician's: checked against the referrer in the store
    body = _body("handoff")
    missing = [f for f in ("referrer_id", "to_clinician_id", "date") if f not in body]
    if missing:
        raise InvalidInput([f"field {shown(f)}: is required" for f in missing])
    row = writes.hand_over(extensions.graph(), body["referrer_id"], body["to_clinician_id"], body["date"],
                           acting_clinician=mine)
    return _done("handoff", row, [row["referrer_id"], row["point_person_id"], row["previous"]])


# -- adding and changing referrers, members and outside providers -----------------------------------


def _add(collection: str):
    kind, action, save = SAVES[collection]
    auth.require(action)
    body = _body(kind)
    row = save(extensions.graph(), mode="add", **body)
    return _done(kind, row, [row["id"]])


def _change(collection: str, record_id: str):
    kind, action, save = SAVES[collection]
    auth.require(action)
    if not re.fullmatch(records.ID_PATTERN, record_id):
        raise NotFound(f"unknown {kind.replace('_', ' ')} {shown(record_id)}")
    body = _body(kind, "put")
    row = save(extensions.graph(), mode="update", **body, id=record_id)
    return _done(kind, row, [row["id"]], 200)


@bp.post("/referrers")
@auth.token_required
def add_referrer():
    """Add a referrer."""
    return _add("referrers")


@bp.put("/referrers/<record_id>")
@auth.token_required
def change_referrer(record_id):
    """Change a referrer."""
    return _change("referrers", record_id)


@bp.post("/clinicians")
@auth.token_required
def add_clinician():
    """Add a clinician."""
    return _add("clinicians")


@bp.put("/clinicians/<record_id>")
@auth.token_required
def change_clinician(record_id):
    """Change a clinician."""
    return _change("clinicians", record_id)


@bp.post("/staff")
@auth.token_required
def add_staff():
    """Add a staff member."""
    return _add("staff")


@bp.put("/staff/<record_id>")
@auth.token_required
def change_staff(record_id):
    """Change a staff member."""
    return _change("staff", record_id)


@bp.post("/providers")
@auth.token_required
def add_provider():
    """Add an outside provider."""
    return _add("providers")


@bp.put("/providers/<record_id>")
@auth.token_required
def change_provider(record_id):
    """Change an outside provider."""
    return _change("providers", record_id)


# The views above, as ``graphsvc.web.api.QUERY`` lists them: none takes a query parameter.
VIEWS = ("add_referral", "add_introduction", "add_contact", "add_referral_out", "add_pass", "add_handoff",
         "add_referrer", "change_referrer", "add_clinician", "change_clinician", "add_staff", "change_staff",
         "add_provider", "change_provider")
