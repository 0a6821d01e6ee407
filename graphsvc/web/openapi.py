"""The OpenAPI 3.1 description of the JSON API, served at /api/openapi.json.

Request bodies and query parameters come from the same pydantic models that
parse them (``graphsvc.inputs``: ``MatchRequest``, ``SuggestionsQuery``, each write's), so the
document cannot drift from what the API accepts. Each endpoint lists every
query parameter it takes (``graphsvc.web.api.QUERY``; a test holds the two
together): any other is a 400. ``refresh`` lists exactly the words
``graphsvc.web.api`` takes, and a referrer id the pattern an id must match.
A test runs schemathesis against the app to hold the document and the code
together (tests/test_api_fuzz.py).

Every operation needs a signed-in caller (``security``): an API token as
``Authorization: Bearer <token>`` (``graphsvc token create``), or the web
view's session cookie; without one a 401. ``refresh=1`` is for managers: a
403 for the other roles. The writes (``graphsvc.web.api_writes``) take the
token only, and document their bodies from their request models
(``Input.request_schema``) and their answers from the record models
(``record_schema``): 201 (200 for a PUT) with
the stored record, 400 naming each bad field, 403 for a user who may not
write it, 404 for an unknown id. The document itself is public.
"""

from __future__ import annotations

from flask import jsonify

from .. import __version__
from ..analysis.matching import GAP_ORDER
from ..inputs import ADD, CHANGE, MatchRequest, RowAction, StatusInput, SuggestionsQuery, WordInput, digits_up_to
from ..limits import ID_PATTERN, NAME_PATTERN, NPI_PATTERN, TEXT_PATTERN
from ..records import KIND
from ..vocabulary import PASS_REASONS, RECORDED_STATUSES, REFERRAL_STATUSES
from .api import NO, YES, bp
from .api_writes import EVENTS, SAVES
from .http import MAX_CONTENT_LENGTH

_ERROR = {"type": "object", "properties": {"error": {"type": "string"}}, "required": ["error"]}
_BAD_INPUT = {"type": "object", "required": ["error", "problems"], "properties": {
    "error": {"type": "string"},
    "problems": {"type": "array", "items": {"type": "string"}, "description": "One sentence per bad field."},
    "did_you_mean": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}},
                     "description": "Only when a word is on none of the practice's vocabularies: each such field "
                                    "-> the closest known words (maybe none)."},
    "unknown_values": {"type": "array", "description": "Only with did_you_mean: each unknown word.", "items": {
        "type": "object", "required": ["field", "value", "vocabulary", "did_you_mean"], "properties": {
            "field": {"type": "string"}, "value": {"type": "string"}, "vocabulary": {"type": "string"},
            "did_you_mean": {"type": "array", "items": {"type": "string"}}}}}}}
_DATE = {"type": ["string", "null"], "format": "date"}
_STRINGS = {"type": "array", "items": {"type": "string"}}


_UNAUTHORIZED = {"description": "No valid API token (Authorization: Bearer <token>) and no signed-in session",
                 "headers": {"WWW-Authenticate": {"schema": {"type": "string"}, "description": "Bearer"}},
                 "content": {"application/json": {"schema": _ERROR}}}
_FORBIDDEN = {"description": "refresh=1 by a user who is not a manager (the message says why)",
              "content": {"application/json": {"schema": _ERROR}}}
SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer",
               "description": "An API token, `gst_<id>_<secret>`, from `graphsvc token create USERNAME`."},
    "session": {"type": "apiKey", "in": "cookie", "name": "session",
                "description": "The web view's session cookie, after signing in at /login (reads only)."},
}


def _secured(paths: dict) -> dict:
    """Every operation answers 401 without a caller (a write: without an API token), and 403 for a refresh
    by anyone but a manager."""
    for operations in paths.values():
        for operation in operations.values():
            operation["responses"]["401"] = _UNAUTHORIZED
            if any(p.get("name") == "refresh" for p in operation.get("parameters", ())):
                operation["responses"]["403"] = _FORBIDDEN
    return paths


def body_schema(model) -> dict:
    """A pydantic model's JSON schema (2020-12, which OpenAPI 3.1 uses as is)."""
    return model.model_json_schema()


def query_parameters(model) -> list[dict]:
    """One OpenAPI query parameter per field of a pydantic model."""
    schema = model.model_json_schema()
    required = set(schema.get("required", ()))
    out = []
    for name, prop in schema["properties"].items():
        prop = {k: v for k, v in prop.items() if k != "title"}
        param = {"name": name, "in": "query", "required": name in required}
        if "description" in prop:
            param["description"] = prop.pop("description")
        out.append({**param, "schema": prop})
    return out


def _match_response() -> dict:
    candidate_fields = {
        "member": {"type": "string"}, "name": {"type": "string"}, "fit": {"type": "number"},
        "accepting_new": {"type": "boolean"},
        "eligible": {"type": "boolean",
                     "description": "Sees the client's population and accepts new clients (hard constraints)."},
        "reasons": _STRINGS,
        "gaps": {"type": "array", "items": {"type": "string", "enum": list(GAP_ORDER)}},
        "gap_reasons": {**_STRINGS, "description": "One phrase per gap, in the same order."},
    }
    candidate = {"type": "object", "required": list(candidate_fields), "properties": candidate_fields}
    passed = {"type": "object", "required": [*candidate_fields, "reason", "why"], "properties": {
        **candidate_fields, "reason": {"type": "string", "enum": list(PASS_REASONS)}, "why": _STRINGS}}
    provider = {"type": "object", "required": ["provider", "name", "niche", "referred_before"], "properties": {
        "provider": {"type": "string"}, "name": {"type": "string"}, "niche": {"type": "string"},
        "referred_before": {"type": "integer"}}}
    unknown = {"type": "object", "required": ["need", "did_you_mean"], "properties": {
        "need": {"type": "string"}, "did_you_mean": _STRINGS}}
    unknown_insurance = {"type": "object", "required": ["insurance", "did_you_mean"], "properties": {
        "insurance": {"type": "string"}, "did_you_mean": _STRINGS}}
    fields = {
        "candidates": {"type": "array", "items": candidate,
                       "description": "Best first; those who can take the client always before those who cannot."},
        "addressed": {"anyOf": [candidate, {"type": "null"}],
                      "description": "The addressed clinician's own entry; null if none was named, or the practice."},
        "addressed_to_practice": {"type": "boolean",
                                  "description": "Addressed to the practice, or to a staff member (which counts "
                                                 "as the practice): assign the best match, no pass."},
        "pass": {"anyOf": [passed, {"type": "null"}],
                 "description": "The colleague to pass to; never null when the addressed clinician cannot "
                                "take the client and someone else can."},
        "no_eligible_clinician": {"type": "boolean",
                                  "description": "No clinician sees the population and accepts new clients."},
        "verdict": {"type": "string", "description": "Keep, pass, the best match, or refer out, in one sentence."},
        "uncovered_needs": {**_STRINGS, "description": "Needs no clinician who can take the client covers."},
        "external_providers": {"type": "array", "items": provider,
                               "description": "Outside providers covering the uncovered needs, most used first."},
        "unknown_needs": {"type": "array", "items": unknown,
                          "description": "Needs no clinician, outside provider or past client lists, with the "
                                         "closest known ones; left out of the match."},
        "unknown_insurance": {"type": "array", "items": unknown_insurance, "maxItems": 1,
                              "description": "The insurance, if no clinician takes it and no past client had it, "
                                             "with the closest known ones; left out of fit and gaps. Empty when "
                                             "known or not given."},
    }
    return {"type": "object", "required": list(fields), "properties": fields}


def _status() -> dict:
    time = {"type": ["string", "null"], "format": "date-time"}
    fields = {
        "version": {"type": ["integer", "null"],
                    "description": "The graph version the served analysis was built from; null before the first."},
        "data_as_of": {**time, "description": "When the served analysis was last known to match the graph "
                                              "(UTC): its build, or its last check of the change feed."},
        "last_build_at": {**time, "description": "When the last full build began (UTC)."},
        "last_build_seconds": {"type": ["number", "null"], "description": "How long the last full build took."},
        "full_builds": {"type": "integer", "minimum": 0,
                        "description": "Full builds of the analysis since the process started (warm starts "
                                       "from a snapshot included)."},
        "warm_starts": {"type": "integer", "minimum": 0,
                        "description": "Builds that loaded a snapshot and applied the changes since, instead "
                                       "of reading the whole graph."},
        "incremental_updates": {"type": "integer", "minimum": 0,
                                "description": "Changes applied to the served analysis in place (the referrers "
                                               "a write touched), since the process started."},
        "last_update_ms": {"type": ["number", "null"],
                           "description": "How long the last incremental update took, reading included."},
        "rebuilding": {"type": "boolean", "description": "Whether a full rebuild runs in the background now "
                                                         "(after an import, or when asked)."},
        "neo4j_reachable": {"type": ["boolean", "null"],
                            "description": "Whether Neo4j answered the analysis cache's last check (it reads "
                                           "the change feed every poll_seconds, and every 5 s while Neo4j is "
                                           "down); null before the first build."},
        "unreachable_since": {**time, "description": "Since when Neo4j has been unreachable; null while it answers."},
        "rss_mb": {"type": ["number", "null"],
                   "description": "Resident memory of this process in MB (VmRSS); null where there is no /proc."},
        "pid": {"type": "integer", "description": "The process id of the worker that answered (`graphsvc serve` "
                                                  "runs several, each with its own analysis)."},
    }
    return {"type": "object", "required": list(fields), "properties": fields, "additionalProperties": False}


def record_schema(kind: str) -> dict:
    """The stored record of ``kind`` as an answer has it (``graphsvc.records``): names one line with
    nothing blank around them, lists without repeats; titles dropped."""
    schema = {k: v for k, v in KIND[kind].model.model_json_schema().items() if k != "title"}
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


def _write_paths(too_large: dict) -> dict:
    """The writes (``graphsvc.web.api_writes``): bodies from their request models (``graphsvc.inputs``),
    answers from the record models."""
    bad = {"description": "A field is invalid, missing, unknown or of the wrong JSON type, or a rule "
                          "between records refuses the write (each named in problems); nothing was written",
           "content": {"application/json": {"schema": _BAD_INPUT}}}
    forbidden = {"description": "The signed-in user may not make this write (the message says why)",
                 "content": {"application/json": {"schema": _ERROR}}}
    unknown = {"description": "An id the body (or the path) names is unknown; nothing was written",
               "content": {"application/json": {"schema": _ERROR}}}

    def operation(summary: str, body: dict, answer: dict, status: str = "201", parameters=()) -> dict:
        return {"summary": summary, "description": _WRITE_NOTE, "parameters": list(parameters),
                "security": [{"bearer": []}],
                "requestBody": {"required": True, "content": {"application/json": {"schema": body}}},
                "responses": {status: {"description": "The stored record",
                                       "content": {"application/json": {"schema": answer}}},
                              "400": bad, "403": forbidden, "404": unknown, "413": too_large}}

    words = {"referral": "a referral (with client_id, or a new client)", "introduction": "an introduction",
             "contact": "a contact", "referral_out": "a client referred out to an outside provider",
             "referrer": "a referrer", "clinician": "a clinician", "staff": "a staff member",
             "external_provider": "an outside provider"}
    paths = {}
    for collection, (kind, _) in EVENTS.items():
        paths[f"/api/{collection}"] = {"post": operation(f"Record {words[kind]}", ADD[kind].request_schema(),
                                                         record_schema(kind))}
    pass_answer = {"type": "object", "required": ["id", "referrer_id", "addressed_to", "assigned_to", "pass_reason"],
                   "properties": {"id": {"type": "string"}, "referrer_id": {"type": "string"},
                                  "addressed_to": {"type": "string"},
                                  "assigned_to": {"type": "string"},
                                  "pass_reason": {"type": ["string", "null"], "enum": [*PASS_REASONS, None]}}}
    handoff_answer = {"type": "object", "required": ["referrer_id", "point_person_id", "since", "previous"],
                      "properties": {"referrer_id": {"type": "string"}, "point_person_id": {"type": "string"},
                                     "since": {"type": "string", "format": "date"},
                                     "previous": {"type": ["string", "null"]}}}
    paths["/api/passes"] = {"post": operation(
        "Pass a referral to another clinician (a clinician: one addressed to it)", ADD["pass"].request_schema(),
        pass_answer)}
    paths["/api/handoffs"] = {"post": operation(
        "Hand a referrer to another point person (a clinician: a referrer it holds)",
        ADD["handoff"].request_schema(), handoff_answer)}
    for collection, (kind, _) in SAVES.items():
        record_id = {"name": "record_id", "in": "path", "required": True,
                     "description": f"The id of {words[kind]} (any other text names nothing: a 404).",
                     "schema": {"type": "string", "pattern": ID_PATTERN}}
        paths[f"/api/{collection}"] = {"post": operation(
            f"Add {words[kind]} (a taken id is a 400 \"already exists\")", ADD[kind].request_schema(),
            record_schema(kind))}
        paths[f"/api/{collection}/{{record_id}}"] = {"put": operation(
            f"Change {words[kind]} (an unknown id is a 404)", CHANGE[kind].request_schema(),
            record_schema(kind), "200", [record_id])}
    return paths


def _worklist_paths(bad_query: dict, refresh: dict) -> dict:
    """``GET /api/worklists/<name>`` and ``POST /api/worklists/<name>/<row_id>`` (``web.api_worklists``),
    one path per list: each list takes its own filters and sorts (another list's is a 400)."""
    from ..analysis.worklists import WORKLISTS
    from .api_worklists import PAGE_MAX, PAGE_SIZE_MAX

    row_id = {"name": "row_id", "in": "path", "required": True,
              "description": "A row's stable id (the rows' \"id\"); any other text names nothing: a 404.",
              "schema": {"type": "string", "pattern": ID_PATTERN}}
    text = {"type": "string"}
    nullable_text = {"type": ["string", "null"]}
    row = {"type": "object", "required": ["id", "referrer_id", "why", "next_step", "priority", "status",
                                          "task_status", "assigned_to", "snoozed_until"],
           "properties": {"id": text, "referrer_id": text, "why": text, "next_step": text,
                          "priority": {"type": "number", "description": "What is at stake: the referrer's "
                                       "referrals a year times how pressing the reason; /today ranks by it."},
                          "status": {"type": "string", "description": "open, snoozed or done (follow-up: due or "
                                                                       "overdue until done)."},
                          "task_status": {"type": "string", "enum": ["open", "snoozed", "done"]},
                          "assigned_to": nullable_text, "snoozed_until": _DATE, "note": text, "done_on": _DATE}}
    listing = {"type": "object", "required": ["worklist", "rows", "total", "page", "page_size"], "properties": {
        "worklist": text, "rows": {"type": "array", "items": row},
        "total": {"type": "integer", "description": "Rows passing the filters, on every page."},
        "page": {"type": "integer"}, "page_size": {"type": "integer"}}}
    error = {"content": {"application/json": {"schema": _ERROR}}}
    paths = {}
    for name, spec in WORKLISTS.items():
        query = [{"name": "q", "in": "query", "required": False, "schema": text,
                  "description": "Part of the referrer's name or organization (any case)."}]
        for f in spec["filters"]:
            schema = {"type": "string", "enum": ["", *(str(s) for s in range(4))]} if f == "stage" else text
            query.append({"name": f, "in": "query", "required": False, "schema": schema,
                          "description": f"Only rows whose {f} is this (empty: any)."})
        query += [
            {"name": "sort", "in": "query", "required": False, "schema": {"type": "string",
                                                                          "enum": ["", *spec["sorts"]]},
             "description": "A column to sort by (the list's own order if left out or empty)."},
            {"name": "desc", "in": "query", "required": False, "schema": {"type": "string", "enum": ["", "0", "1"]}},
            {"name": "show", "in": "query", "required": False,
             "schema": {"type": "string", "enum": ["", "open", "snoozed", "done", "all"]},
             "description": "Whose rows: open (the default: the work now), snoozed, done, or all."},
            {"name": "page", "in": "query", "required": False,
             "schema": {"type": "string", "pattern": digits_up_to(PAGE_MAX)}},
            {"name": "page_size", "in": "query", "required": False,
             "schema": {"type": "string", "pattern": digits_up_to(PAGE_SIZE_MAX)},
             "description": f"Rows a page (1 to {PAGE_SIZE_MAX:,}); every matching row if left out."},
            refresh,
        ]
        paths[f"/api/worklists/{name}"] = {"get": {
            "summary": f"The {spec['title'].lower()} worklist's rows, filtered, sorted and paged as on its page",
            "parameters": query,
            "responses": {"200": {"description": "The rows", "content": {"application/json": {"schema": listing}}},
                          "400": bad_query}}}
        paths[f"/api/worklists/{name}/{{row_id}}"] = {"post": {
            "summary": f"Assign, snooze, mark done or reopen a row of the {spec['title'].lower()} worklist",
            "description": "Takes an API token only. A manager acts on any row, a clinician on the rows of "
                           "referrers it is the point person of. Audited (never the note).",
            "parameters": [row_id], "security": [{"bearer": []}],
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": RowAction.request_schema()}}},
            "responses": {"200": {"description": "The row as it now stands",
                                  "content": {"application/json": {"schema": row}}},
                          "400": {"description": "A field is missing, unknown or bad (each named in problems)",
                                  "content": {"application/json": {"schema": _BAD_INPUT}}},
                          "403": {"description": "The signed-in user may not work on this row", **error},
                          "404": {"description": "No such row (never was, or its reason went), or an unknown "
                                                 "member", **error},
                          "413": {"description": "The body is too large", **error}}}}
    item = {"type": "object", "required": [*row["required"], "worklist", "also", "call", "introduce", "actions"],
            "properties": {**row["properties"],
                           "worklist": {"type": "string", "enum": list(WORKLISTS)},
                           "also": {"type": "array", "items": {"type": "string"},
                                    "description": "The referrer's other lists with an open row."},
                           "call": {"type": "string", "description": "Whom to call: the referrer, with its "
                                                                     "organization."},
                           "introduce": {"type": ["object", "null"], "description": "The colleague to introduce "
                                         "(id, name, by, reasons), on stalled, key-person-risk and ready rows."},
                           "actions": {"type": "array", "items": {"type": "object", "required": ["action", "api"]},
                                       "description": "What the caller may do about it in one call: "
                                                      "record_follow_up, record_introduction, record_contact, "
                                                      "snooze, done (api: the method, path and body)."}}}
    paths["/api/today"] = {"get": {
        "summary": "The few things most worth doing now for the caller (a clinician: its own; others: the "
                   "practice's), one per referrer, the most at stake first",
        "parameters": [{"name": "member", "in": "query", "required": False,
                        "schema": {"type": "string", "pattern": f"^$|{ID_PATTERN}"},
                        "description": "A clinician's or staff member's id: its own list (an unknown one is a 404); "
                                       "empty or left out: the caller's own (a clinician's) or the practice's."},
                       refresh],
        "responses": {"200": {"description": "The items", "content": {"application/json": {"schema": {
            "type": "object", "required": ["member", "limit", "items"], "properties": {
                "member": nullable_text, "limit": {"type": "integer"},
                "items": {"type": "array", "items": item}}}}}},
            "400": bad_query,
            "404": {"description": "member names no clinician or staff member",
                    "content": {"application/json": {"schema": _ERROR}}}}}}
    return paths


def _search_paths(bad_query: dict) -> dict:
    """``GET /api/search`` (``web.search``): the header's search box."""
    from .search import KINDS, Q_MAX, RESULTS

    result = {"type": "object", "required": ["kind", "id", "label", "url"], "additionalProperties": False,
              "properties": {"kind": {"type": "string", "enum": list(KINDS)}, "id": {"type": "string"},
                             "label": {"type": "string", "description": "Its name."},
                             "url": {"type": "string", "description": "Its page on this site (an outside "
                                                                      "provider's: its row on /coverage)."}}}
    return {"/api/search": {"get": {
        "summary": "Find referrers (by name, organization or id), clinicians, staff and outside providers "
                   "(by name or id), best first",
        "description": f"Any case, inside words. The exact id first, then names that begin with q, then names "
                       f"or organizations with a word that does, then the rest; at most {RESULTS}. Answered "
                       "from the live analysis; every role may search.",
        "parameters": [{"name": "q", "in": "query", "required": False,
                        "schema": {"type": "string", "maxLength": Q_MAX},
                        "description": "The text to find; left out, empty or blank: no results."}],
        "responses": {"200": {"description": "The matches", "content": {"application/json": {"schema": {
            "type": "object", "required": ["results"], "additionalProperties": False,
            "properties": {"results": {"type": "array", "maxItems": RESULTS, "items": result}}}}}},
            "400": bad_query}}}}


def _vocabulary_paths(bad_query: dict) -> dict:
    """``GET`` and ``POST /api/vocabularies/<name>`` (``web.vocabularies``): the practice's managed words."""
    from ..vocabularies import NAMES

    error = {"content": {"application/json": {"schema": _ERROR}}}
    name = {"name": "vocabulary", "in": "path", "required": True, "schema": {"type": "string", "enum": list(NAMES)},
            "description": "Which vocabulary."}
    values = {"type": "array", "items": {"type": "string"},
              "description": "graphsvc's own words first, in their order, then those a manager added, A to Z."}
    added = {"type": "object", "required": ["vocabulary", "value", "added", "values"], "properties": {
        "vocabulary": {"type": "string"}, "value": {"type": "string"}, "added": {"type": "boolean"},
        "values": values}}
    return {"/api/vocabularies/{vocabulary}": {
        "get": {"summary": "The words of one of the practice's vocabularies",
                "parameters": [name],
                "responses": {"200": {"description": "Its words", "content": {"application/json": {"schema": {
                    "type": "object", "required": ["values"], "properties": {"values": values}}}}},
                    "400": bad_query, "404": {"description": "No such vocabulary", **error}}},
        "post": {"summary": "Add a word to one of the practice's vocabularies (a manager; audited)",
                 "description": "201 when added, 200 when it was there already (nothing changed). A word is a "
                                "lowercase slug (letters, digits, _).",
                 "parameters": [name], "security": [{"bearer": []}],
                 "requestBody": {"required": True, "content": {"application/json": {
                     "schema": WordInput.request_schema()}}},
                 "responses": {"201": {"description": "Added", "content": {"application/json": {"schema": added}}},
                               "200": {"description": "It was there already",
                                       "content": {"application/json": {"schema": added}}},
                               "400": {"description": "The word is not a slug, or the body is not an object "
                                                      "with value", "content": {"application/json": {
                                                          "schema": _BAD_INPUT}}},
                               "403": {"description": "Not a manager", **error},
                               "404": {"description": "No such vocabulary", **error},
                               "413": {"description": "The body is too large", **error}}}}}


def _void_paths() -> dict:
    """``POST /api/<collection>/<id>/void`` and ``/restore`` (``web.api_writes``): corrections that keep history."""
    from ..inputs import VoidInput
    from .api_writes import EVENTS

    error = {"content": {"application/json": {"schema": _ERROR}}}
    bad = {"description": "No reason given; voided already (void) or not voided (restore); or restoring it would "
                          "make a duplicate", "content": {"application/json": {"schema": _BAD_INPUT}}}
    record_id = {"name": "record_id", "in": "path", "required": True, "schema": {"type": "string"},
                 "description": "The record's id."}
    common = {"403": {"description": "Not a manager", **error},
              "404": {"description": "No such record", **error}, "400": bad}
    paths = {}
    for collection, (kind, _) in EVENTS.items():
        noun = kind.replace("_", " ")
        paths[f"/api/{collection}/{{record_id}}/void"] = {"post": {
            "summary": f"Void a mistaken {noun} with a reason (a manager; audited)",
            "description": "It stays, marked voided with the day and reason, and leaves the analysis and every "
                           "list at once; an export carries it (voided_on, void_reason).",
            "parameters": [record_id], "security": [{"bearer": []}],
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": VoidInput.request_schema()}}},
            "responses": {"200": {"description": "Voided", "content": {"application/json": {"schema": {
                "type": "object", "required": ["kind", "id", "referrer_id", "voided_on", "void_reason"],
                "properties": {"kind": {"type": "string"}, "id": {"type": "string"},
                               "referrer_id": {"type": "string"}, "voided_on": {"type": "string", "format": "date"},
                               "void_reason": {"type": "string"}}}}}},
                          "413": {"description": "The body is too large", **error}, **common}}}
        paths[f"/api/{collection}/{{record_id}}/restore"] = {"post": {
            "summary": f"Restore a voided {noun} (a manager; audited): it counts again",
            "parameters": [record_id], "security": [{"bearer": []}],
            "responses": {"200": {"description": "Restored", "content": {"application/json": {"schema": {
                "type": "object", "required": ["kind", "id", "referrer_id"],
                "properties": {"kind": {"type": "string"}, "id": {"type": "string"},
                               "referrer_id": {"type": "string"}}}}}}, **common}}}
    text = {"type": "string"}
    undo = {"description": "No reason given, or nothing to undo (not passed; one point person only)",
            "content": {"application/json": {"schema": _BAD_INPUT}}}
    for path, name, summary, answer in (
            ("/api/passes/{referral_id}/void", "referral_id",
             "Undo a mistaken pass (a manager, with a reason): back to the clinician addressed",
             {"id": text, "referrer_id": text, "addressed_to": text, "assigned_to": text, "undone": text}),
            ("/api/handoffs/{referrer_id}/void", "referrer_id",
             "Undo a referrer's mistaken last handoff (a manager, with a reason): the point person before "
             "comes back", {"referrer_id": text, "undone": text, "point_person_id": text,
                            "since": {"type": "string", "format": "date"}})):
        paths[path] = {"post": {
            "summary": summary, "security": [{"bearer": []}],
            "parameters": [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}],
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": VoidInput.request_schema()}}},
            "responses": {"200": {"description": "Undone; audited", "content": {"application/json": {"schema": {
                "type": "object", "required": list(answer), "properties": answer}}}},
                          "400": undo, "403": common["403"], "404": {"description": "Unknown id", **error},
                          "413": {"description": "The body is too large", **error}}}}
    return paths


def _merge_paths() -> dict:
    """``POST /api/referrers/<id>/merge`` (``web.merges``): two records of one referrer made one."""
    from ..inputs import MergeInput

    error = {"content": {"application/json": {"schema": _ERROR}}}
    done = {"type": "object", "required": ["merged", "into", "point_person_id", "since", "dropped"], "properties": {
        "merged": {"type": "string"}, "into": {"type": "string"},
        "point_person_id": {"type": ["string", "null"], "description": "The current point person of the one kept."},
        "since": {"type": "string", "format": "date", "description": "When the relationship began: the earlier."},
        "dropped": {"type": "array", "items": {"type": "string"},
                    "description": "The merged record's introductions and contacts the kept one held already "
                                   "(same day and people): kept once."}}}
    return {"/api/referrers/{referrer_id}/merge": {"post": {
        "summary": "Merge a referrer's record into another record of the same person (a manager; audited)",
        "description": "Its referrals, referrals out, introductions, contacts, worklist tasks and point-person "
                       "history move to into; its id then leads there (GET /api/referrers/<id> answers 308).",
        "parameters": [{"name": "referrer_id", "in": "path", "required": True, "schema": {"type": "string"},
                        "description": "The record merged (it goes)."}],
        "security": [{"bearer": []}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": MergeInput.request_schema()}}},
        "responses": {"200": {"description": "Merged", "content": {"application/json": {"schema": done}}},
                      "400": {"description": "into is missing or the same referrer",
                              "content": {"application/json": {"schema": _BAD_INPUT}}},
                      "403": {"description": "Not a manager", **error},
                      "404": {"description": "Either referrer is unknown, or was merged already", **error},
                      "413": {"description": "The body is too large", **error}}}}}


def _loop_paths(bad_query: dict, refresh: dict) -> dict:
    """Closing the loop (``web.updates``): a referral's status, the referrer's update, and sending it."""
    error = {"content": {"application/json": {"schema": _ERROR}}}
    bad = {"description": "A field is missing or bad, or the rules refuse it (each named in problems)",
           "content": {"application/json": {"schema": _BAD_INPUT}}}
    day = {"type": "string", "format": "date"}
    referral_id = {"name": "referral_id", "in": "path", "required": True, "description": "A referral's id.",
                   "schema": {"type": "string", "pattern": ID_PATTERN}}
    referrer_id = {"name": "referrer_id", "in": "path", "required": True, "description": "A referrer's id.",
                   "schema": {"type": "string", "pattern": ID_PATTERN}}
    status = {"type": "object", "required": ["referral_id", "referrer_id", "status", "date", "statuses"],
              "properties": {"referral_id": {"type": "string"}, "referrer_id": {"type": "string"},
                             "status": {"type": "string", "enum": list(RECORDED_STATUSES)}, "date": day,
                             "statuses": {"type": "object", "additionalProperties": day}}}
    update = {"type": "object", "required": ["referrer", "as_of", "days", "referrals"], "properties": {
        "referrer": {"type": "string"}, "as_of": day, "days": {"type": "integer"},
        "referrals": {"type": "array", "items": {"type": "object", "required": [
            "id", "date", "clinician", "clinician_name", "status", "status_on"], "properties": {
            "id": {"type": "string"}, "date": day, "clinician": {"type": "string"},
            "clinician_name": {"type": "string"}, "status": {"type": "string", "enum": list(REFERRAL_STATUSES)},
            "status_on": day}}}}}
    too_large = {"description": "The body is too large", **error}
    return {
        "/api/referrals/{referral_id}/status": {"post": {
            "summary": "Record where a referral stands from a day on (forward, each status once)",
            "description": "Takes an API token only. A manager or intake; a clinician for a referral assigned to "
                           "it. A status dated before the referral or before its last status is a 400 naming it.",
            "parameters": [referral_id], "security": [{"bearer": []}],
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": StatusInput.request_schema()}}},
            "responses": {"201": {"description": "The status recorded, and every status so far",
                                  "content": {"application/json": {"schema": status}}},
                          "400": bad, "403": {"description": "The caller may not record it", **error},
                          "404": {"description": "No such referral", **error}, "413": too_large}}},
        "/api/referrers/{referrer_id}/update": {
            "get": {"summary": "What the referrer's update tells: its referrals of the last 90 days whose clients "
                               "agreed, each with its clinician and where it stands (nothing else about the client)",
                    "parameters": [referrer_id, refresh],
                    "responses": {"200": {"description": "The update",
                                          "content": {"application/json": {"schema": update}}},
                                  "400": bad_query, "404": {"description": "No such referrer", **error}}},
            "post": {"summary": "Record that the referrer's update was sent: a contact of kind update_sent covering "
                                "those referrals, which closes their follow-up rows",
                     "description": "Takes an API token only. A manager or intake; a clinician for a referrer it is "
                                    "the point person of. A 400 when there is nothing to tell.",
                     "parameters": [referrer_id], "security": [{"bearer": []}],
                     "responses": {"201": {"description": "The contact recorded, covers included",
                                           "content": {"application/json": {"schema": record_schema("contact")}}},
                                   "400": bad, "403": {"description": "The caller may not send it", **error},
                                   "404": {"description": "No such referrer", **error}}}},
    }


_WRITE_NOTE = ("Takes an API token only (Authorization: Bearer <token>; the session cookie is a 401). A POST "
               "without id gets one made by the service; the answer is the stored record, id included. "
               "Audited with the ids it touched.")


@bp.get("/openapi.json")
def openapi():
    """The document itself (public)."""
    return jsonify(document())


def document() -> dict:

    metrics = {
        "type": "object",
        "properties": {
            "point_person": {"type": ["string", "null"]},
            "referrals": {"type": "integer"}, "reached": {"type": "integer"}, "breadth": {"type": "integer"},
            "concentration": {"type": ["number", "null"]}, "effective_breadth": {"type": ["number", "null"]},
            "point_person_share": {"type": ["number", "null"]}, "practice_share": {"type": ["number", "null"]},
            "recent_practice_share": {"type": ["number", "null"]},
            "passes": {"type": "object", "additionalProperties": {"type": "integer"}},
            "passes_total": {"type": "integer"}, "introductions": {"type": "integer"},
            "contacts": {"type": "integer"}, "last_referral": _DATE, "last_contact": _DATE,
            "trend": {"type": "object", "properties": {
                "last_12_months": {"type": "integer"}, "previous_12_months": {"type": "integer"},
                "change": {"type": "integer"}}},
        },
    }
    conversion = {"type": "object", "required": ["referrals", "first_visits", "share", "median_days", "ended",
                                                 "waiting"],
                  "description": "Referrals of the last 12 months, unseen_days or more old: how many reached a first "
                                 "visit, the median days to it, how many ended without one or still wait.",
                  "properties": {"referrals": {"type": "integer"}, "first_visits": {"type": "integer"},
                                 "share": {"type": ["number", "null"]}, "median_days": {"type": ["number", "null"]},
                                 "ended": {"type": "integer"}, "waiting": {"type": "integer"}}}
    referrer = {
        "type": "object",
        "required": ["id", "stage", "history", "metrics", "conversion"],
        "properties": {
            "id": {"type": "string"}, "name": {"type": "string"}, "kind": {"type": "string"},
            "organization": {"type": "string"}, "since": _DATE,
            "npi": {"type": ["string", "null"], "pattern": NPI_PATTERN,
                    "description": "The referrer's National Provider Identifier; null when it has none."},
            "stage": {"type": "integer", "enum": [0, 1, 2, 3]},
            "history": {"type": "array", "items": {"type": "object", "properties": {
                "stage": {"type": "integer"}, "date": _DATE, "referral": {"type": "string"}}}},
            "reached": {"type": "object", "additionalProperties": _DATE},
            "point_person_history": {"type": "array", "items": {"type": "object", "properties": {
                "clinician": {"type": "string"}, "since": _DATE, "until": _DATE}}},
            "referrals": {"type": "integer"}, "first_referral": _DATE, "last_referral": _DATE,
            "days_to_stage_2": {"type": ["integer", "null"]}, "days_to_stage_3": {"type": ["integer", "null"]},
            "jumped": {"type": "boolean"}, "stalled": {"type": "boolean"}, "lapsed": {"type": "boolean"},
            "metrics": metrics,
            "conversion": conversion,
        },
    }
    suggestion = {"type": "object", "properties": {
        "member": {"type": "string"}, "name": {"type": "string"}, "kind": {"type": "string"},
        "score": {"type": "number"}, "accepting_new": {"type": "boolean"},
        "parts": {"type": "object", "properties": {"fit": {"type": "number"}, "trust": {"type": "number"},
                                                   "track": {"type": "number"}}},
        "reasons": {"type": "array", "items": {"type": "string"}}}}
    refresh = {"name": "refresh", "in": "query", "required": False,
               "schema": {"type": "string", "enum": [*YES, *NO]},
               "description": "1 (true, yes): re-read the graph now instead of using the cached analysis."}
    referrer_id = {"name": "referrer_id", "in": "path", "required": True,
                   "description": "A referrer's id (any other text names no referrer: a 404).",
                   "schema": {"type": "string", "pattern": ID_PATTERN}}
    bad_query = {"description": "A query parameter the endpoint does not take, one given twice, or a bad value "
                                "(each named in problems)",
                 "content": {"application/json": {"schema": _BAD_INPUT}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "graphsvc", "version": __version__,
                 "description": "Referral-relationship analysis of a group practice. Every call needs an API "
                                "token (Authorization: Bearer <token>) or a signed-in session."},
        "components": {"securitySchemes": SECURITY_SCHEMES},
        "security": [{"bearer": []}, {"session": []}],
        "paths": _secured({
            "/api/referrers/{referrer_id}": {"get": {
                "summary": "A referrer's stage, stage history, pace and metrics",
                "parameters": [referrer_id, refresh],
                "responses": {
                    "200": {"description": "The referrer", "content": {"application/json": {"schema": referrer}}},
                    "400": bad_query,
                    "308": {"description": "The id is a record merged into another: Location names that one"},
                    "404": {"description": "No referrer with that id",
                            "content": {"application/json": {"schema": _ERROR}}},
                }}},
            "/api/referrers/{referrer_id}/suggestions": {"get": {
                "summary": "The next colleagues to introduce to this referrer, with scores and reasons",
                "parameters": [referrer_id,
                               *query_parameters(SuggestionsQuery), refresh],
                "responses": {
                    "200": {"description": "Ranked suggestions", "content": {"application/json": {
                        "schema": {"type": "object", "properties": {
                            "referrer": {"type": "string"},
                            "suggestions": {"type": "array", "items": suggestion},
                            "weights": {"type": "object", "description": "The weights in force: fit, trust, track, "
                                        "decay, source (tuned on this practice, or the defaults) and weighs_most "
                                        "(which parts weigh most, in words)"}}}}}},
                    "400": bad_query,
                    "404": {"description": "No referrer with that id",
                            "content": {"application/json": {"schema": _ERROR}}},
                }}},
            "/api/match": {"post": {
                "summary": "Best clinicians for a new client; a pass suggestion; outside providers",
                "parameters": [refresh],
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": body_schema(MatchRequest)}}},
                "responses": {
                    "200": {"description": "Candidates, keep or pass, outside providers, unknown needs",
                            "content": {"application/json": {"schema": _match_response()}}},
                    "400": {"description": "A field is invalid (named in the message); none of needs, "
                                           "population and insurance is given, or only needs and an insurance "
                                           "nobody knows (named, with the closest known ones); or a query "
                                           "parameter other than refresh",
                            "content": {"application/json": {"schema": _BAD_INPUT}}},
                    "404": {"description": "addressed_to is neither a clinician, a staff member nor 'practice'",
                            "content": {"application/json": {"schema": _ERROR}}},
                    "413": {"description": f"The body is larger than {MAX_CONTENT_LENGTH // 1024} KB, "
                                           "the most accepted",
                            "content": {"application/json": {"schema": _ERROR}}},
                }}},
            **_worklist_paths(bad_query, refresh),
            **_loop_paths(bad_query, refresh),
            **_search_paths(bad_query),
            **_vocabulary_paths(bad_query),
            **_merge_paths(),
            **_void_paths(),
            **_write_paths({"description": f"The body is larger than {MAX_CONTENT_LENGTH // 1024} KB, the most "
                                          "accepted", "content": {"application/json": {"schema": _ERROR}}}),
            "/api/status": {"get": {
                "summary": "What this process serves: graph version, builds, Neo4j reachability, memory",
                "description": "Answered from the analysis cache's state, even while Neo4j is down; it never "
                               "waits on Neo4j or builds the analysis.",
                "parameters": [],
                "responses": {
                    "200": {"description": "The status", "content": {"application/json": {"schema": _status()}}},
                    "400": bad_query,
                }}},
            "/api/network": {"get": {
                "summary": "The practice network with positions computed on the server (NetworkX-style layout)",
                "description": "Referrers and members as nodes with x and y, edges weighted by referrals and "
                               "introductions; above 2,000 referrers, members and referrer groups (kind x stage).",
                "parameters": [refresh],
                "responses": {
                    "200": {"description": "Nodes and edges", "content": {"application/json": {"schema": {
                        "type": "object", "required": ["mode", "nodes", "edges"],
                        "properties": {
                            "mode": {"type": "string", "enum": ["full", "aggregate"]},
                            "nodes": {"type": "array", "items": {"type": "object",
                                                                 "required": ["id", "kind", "x", "y"]}},
                            "edges": {"type": "array", "items": {"type": "object",
                                                                 "required": ["id", "source", "target",
                                                                              "weight"]}}}}}}},
                    "400": bad_query,
                }}},
            "/api/practice/summary": {"get": {
                "summary": "Stage distribution now and by month; per-clinician sharing and bridges",
                "parameters": [refresh],
                "responses": {
                    "200": {"description": "The summary", "content": {"application/json": {"schema": {
                        "type": "object", "required": ["referrers", "stages", "monthly", "clinicians", "conversion"],
                        "properties": {"conversion": {"type": "object", "required": ["practice", "by_kind"],
                                                      "properties": {"practice": conversion, "by_kind": {
                                                          "type": "object", "additionalProperties": conversion}}},
                                       "clinicians": {
                            "type": "object", "additionalProperties": {"type": "object"},
                            "description": "Per clinician id: sharing, bridging and other "
                                           "per-clinician figures."}}}}}},
                    "400": bad_query,
                }}},
        }),
    }
