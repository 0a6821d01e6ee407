"""The JSON API: stages, histories and metrics from the cached analysis."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from pydantic import ValidationError

from ..errors import InvalidInput, NotFound
from ..records import MatchRequest, explain

bp = Blueprint("api", __name__, url_prefix="/api")


def insights():
    refresh = request.args.get("refresh", "").lower() in ("1", "true", "yes")
    return current_app.extensions["insights"].get(refresh=refresh)


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
    raw = request.args.get("limit", "5")
    if not raw.isdigit() or not 1 <= int(raw) <= 100:
        raise InvalidInput(f"field 'limit': must be a whole number from 1 to 100 (got {raw!r})")
    found = insights().suggestions(referrer_id, limit=int(raw))
    return jsonify(referrer=referrer_id, suggestions=found)


@bp.post("/match")
def match():
    """Best clinicians for a new client, a pass suggestion, and outside providers."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object with needs, population, insurance, schedule")
    try:
        wanted = MatchRequest(**body)
    except ValidationError as e:
        raise InvalidInput(explain(e)) from None
    return jsonify(insights().match(wanted))


@bp.get("/practice/summary")
def practice_summary():
    """Stage distribution now and month by month, and headline counts."""
    data = insights()
    out = data.summary()
    out["clinicians"] = {m: {**s, **data.bridges.get(m, {})} for m, s in data.sharing.items()}
    return jsonify(out)


@bp.get("/openapi.json")
def openapi():
    from .openapi import document

    return jsonify(document())
