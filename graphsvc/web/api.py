"""The JSON API: stages, histories and metrics from the cached analysis.

Every endpoint takes only the query parameters it documents (``QUERY``,
which ``graphsvc.web.openapi`` lists too): any other one, one given twice,
or a bad ``refresh`` is a 400 naming it.

Every endpoint but ``/api/openapi.json`` needs a signed-in caller: an API
token (``Authorization: Bearer <token>``) or the session cookie of the web
view (``graphsvc.web.auth``); without one a 401. Every role reads;
``refresh`` is for managers (a 403 saying so for the others; each refresh
asked for is recorded in the audit log). The writes (``POST /api/referrals``
and the rest, ``graphsvc.web.api_writes``) take the token only
(``auth.token_required``). ``refresh`` takes exactly the words
the OpenAPI document lists (``YES`` and ``NO``), a referrer id in a path
exactly what ``graphsvc.records.ID_PATTERN`` allows (any other is a 404),
and ``POST /api/match`` a JSON object of at most ``MAX_CONTENT_LENGTH``
bytes (a 413 past it; a body that is not JSON, or nested too deep for the
parser, is a 400).
"""

from __future__ import annotations

import json
import os
import re

from flask import Blueprint, current_app, jsonify, redirect, request, url_for

from ..errors import InvalidInput, NotFound
from ..inputs import MatchRequest, SuggestionsQuery, parse
from ..limits import ID_PATTERN, shown
from ..presentation import listing
from . import auth, extensions

bp = Blueprint("api", __name__, url_prefix="/api")

# The values ``refresh`` takes, exactly as the OpenAPI document lists them.
YES = ("1", "true", "yes")
NO = ("0", "false", "no")

# The query parameters of each endpoint (by view name). ``refresh`` rebuilds
# the analysis now; the openapi document itself takes none.
QUERY = {
    "referrer": ("refresh",),
    "suggestions": (*SuggestionsQuery.model_fields, "refresh"),
    "match": ("refresh",),
    "practice_summary": ("refresh",),
    "network": ("refresh",),
    "openapi": (),
    "status": (),
}
# The writes (graphsvc.web.api_writes) take none: everything is in the JSON body.
QUERY.update((view, ()) for view in (
    "add_referral", "add_introduction", "add_contact", "add_referral_out", "add_pass", "add_handoff",
    "add_referrer", "change_referrer", "add_clinician", "change_clinician", "add_staff", "change_staff",
    "add_provider", "change_provider", "void_record", "restore_record",
    "undo_pass", "undo_handoff"))


@bp.before_request
def known_parameters():
    """Refuse a query parameter the endpoint does not take, or one given twice."""
    view = (request.endpoint or "").rpartition(".")[2]
    if view not in QUERY:  # not one of ours (a 404 or 405 follows)
        return
    known = QUERY[view]
    problems = []
    for name in request.args:
        values = request.args.getlist(name)
        if name not in known:
            takes = f"it takes {listing(known)}" if known else "it takes none"
            problems.append(f"query parameter {shown(name)}: is not a parameter of this endpoint ({takes})")
        elif len(values) > 1:
            problems.append(f"query parameter {shown(name)}: must be given once (got {len(values)} values)")
        elif name == "refresh" and values[0] not in YES + NO:
            problems.append(f"query parameter 'refresh': must be 1, true or yes (or 0, false or no) "
                            f"(got {shown(values[0])})")
    if problems:
        raise InvalidInput(problems)


@bp.before_request
def refresh_allowed():
    """``refresh`` is for managers: a 403 saying so for the others; a manager's is audited."""
    if request.url_rule is not None and request.args.get("refresh") in YES:
        auth.require("refresh")
        auth.record("refresh", user=auth.current_user.username, detail={"path": request.path})


def insights():
    return extensions.insights(refresh=request.args.get("refresh") in YES)


def query(model):
    """The query string parsed by ``model`` (``refresh``, which every endpoint takes, aside)."""
    args = request.args.to_dict()
    args.pop("refresh", None)
    return parse(model, args)


@bp.errorhandler(NotFound)
def not_found(error):
    return jsonify(error=str(error)), 404


@bp.errorhandler(InvalidInput)
def bad_input(error):
    """400: ``problems`` (a sentence per bad field); for a word no vocabulary holds, ``did_you_mean`` (field ->
    the closest known words) and ``unknown_values`` (``{"field", "value", "vocabulary", "did_you_mean"}``)."""
    body = {"error": str(error), "problems": error.problems}
    if error.words:
        body["did_you_mean"] = {}
        for word in error.words:
            close = body["did_you_mean"].setdefault(word["field"], [])
            close += [w for w in word["did_you_mean"] if w not in close]
        body["unknown_values"] = error.words
    return jsonify(body), 400


def known_id(referrer_id: str) -> str:
    """``referrer_id`` if it can name a referrer; a 404 (echoing a short part of it) if not."""
    if not re.fullmatch(ID_PATTERN, referrer_id):
        raise NotFound(f"unknown referrer {shown(referrer_id)}")
    return referrer_id


@bp.get("/referrers/<referrer_id>")
def referrer(referrer_id):
    """Stage, stage history, pace and metrics of one referrer."""
    try:
        return jsonify(insights().referrer(known_id(referrer_id)))
    except NotFound:
        went = extensions.service().merged_into(referrer_id)
        if went is None:
            raise
        # A merged record: where it went (the client follows, or reads Location).
        kept = {k: v for k, v in request.args.items() if k != "refresh"}  # refreshed here already
        return redirect(url_for("api.referrer", referrer_id=went, **kept), code=308)


@bp.get("/referrers/<referrer_id>/suggestions")
def suggestions(referrer_id):
    """The next colleagues to introduce, with scores and reasons."""
    wanted = query(SuggestionsQuery)
    known_id(referrer_id)
    analysis = insights()
    found = analysis.suggestions(referrer_id, limit=wanted.limit)
    return jsonify(referrer=referrer_id, suggestions=found, weights=analysis.weights_note())


@bp.post("/match")
def match():
    """Best clinicians for a new client, a pass suggestion, and outside providers."""
    body = json_body()
    if not isinstance(body, dict):
        raise InvalidInput(f"the body must be a JSON object with the fields {listing(MatchRequest.model_fields)}")
    request = parse(MatchRequest, body)
    extensions.service().check_match_words(request)
    return jsonify(insights().match(request))


def json_body():
    """The request's JSON body, or None if it is not JSON (``get_data`` answers 413 past
    ``MAX_CONTENT_LENGTH``). Parsed here rather than by ``request.get_json``, which lets the
    parser's RecursionError (a body nested thousands deep) through as a 500."""
    if not request.is_json:
        return None
    try:
        return json.loads(request.get_data(cache=True))
    except (ValueError, RecursionError):
        return None


@bp.get("/practice/summary")
def practice_summary():
    """Stage distribution now and month by month, headline counts, and per clinician."""
    data = insights()
    out = data.summary()
    if "clinicians" not in out:  # until Insights.summary() carries its own (Insights.clinicians)
        clinicians = getattr(data, "clinicians", None)
        if clinicians is None:
            clinicians = {m: {**s, **data.bridges.get(m, {})} for m, s in data.sharing.items()}
        out["clinicians"] = clinicians() if callable(clinicians) else clinicians
    return jsonify(out)


@bp.get("/network")
def network():
    """The practice network for ``/network``: nodes with server-computed ``x``, ``y``, and edges.

    Every referrer and member (``mode: "full"``), or above ``Insights.NETWORK_MAX_NODES`` referrers
    the members and one node per (referrer kind, stage) group (``mode: "aggregate"``).
    """
    return jsonify(insights().network)


@bp.get("/status")
def status():
    """What this process serves, from the analysis cache's state: never waits on Neo4j or on a build."""
    cache = current_app.extensions["insights"]
    served = cache.served
    down = cache.unreachable_since
    return jsonify(
        version=None if served is None else served.version,
        data_as_of=iso(None if served is None else served.data_as_of),
        last_build_at=iso(cache.last_build_at),
        last_build_seconds=None if cache.last_build_seconds is None else round(cache.last_build_seconds, 3),
        full_builds=cache.full_builds,
        incremental_updates=cache.incremental_updates,
        last_update_ms=None if cache.last_update_seconds is None else round(cache.last_update_seconds * 1000, 1),
        warm_starts=cache.warm_starts,
        rebuilding=cache.rebuilding,
        # As the cache last saw it; None until it has asked.
        neo4j_reachable=False if down is not None else (True if cache.full_builds else None),
        unreachable_since=iso(down),
        rss_mb=rss_mb(),
        pid=os.getpid(),  # which worker answered (graphsvc serve runs several)
    )


def iso(moment):
    return None if moment is None else moment.isoformat(timespec="seconds")


def rss_mb() -> float | None:
    """Resident memory of this process now (VmRSS) in MB, or None where /proc is missing."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


# The writes (``api_writes``) and the document (``openapi``) register their views on this blueprint;
# ``create_app`` imports them before registering it.
