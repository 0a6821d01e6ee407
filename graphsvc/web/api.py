"""The JSON API: stages, histories and metrics from the cached analysis."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from ..errors import InvalidInput, NotFound
from ..presentation import listing
from ..records import MatchRequest, SuggestionsQuery
from ..requests import parse

bp = Blueprint("api", __name__, url_prefix="/api")


def insights():
    refresh = request.args.get("refresh", "").lower() in ("1", "true", "yes")
    return current_app.extensions["insights"].get(refresh=refresh)


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
    return jsonify(error=str(error), problems=error.problems), 400


@bp.get("/referrers/<referrer_id>")
def referrer(referrer_id):
    """Stage, stage history, pace and metrics of one referrer."""
    return jsonify(insights().referrer(referrer_id))


@bp.get("/referrers/<referrer_id>/suggestions")
def suggestions(referrer_id):
    """The next colleagues to introduce, with scores and reasons."""
    wanted = query(SuggestionsQuery)
    found = insights().suggestions(referrer_id, limit=wanted.limit)
    return jsonify(referrer=referrer_id, suggestions=found)


@bp.post("/match")
def match():
    """Best clinicians for a new client, a pass suggestion, and outside providers."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidInput(f"the body must be a JSON object with the fields {listing(MatchRequest.model_fields)}")
    return jsonify(insights().match(parse(MatchRequest, body)))


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


@bp.get("/openapi.json")
def openapi():
    from .openapi import document

    return jsonify(document())
