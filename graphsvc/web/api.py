"""The JSON API: stages, histories and metrics from the cached analysis."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from ..errors import InvalidInput, NotFound

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
