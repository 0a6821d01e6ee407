"""``/healthz``: does Neo4j answer? 200 ``{"status": "ok", ...}`` or 503 ``{"error": ...}``.

Public, for load balancers and monitors: an anonymous caller gets only
``{"status": "ok"}`` (or the 503 without the technical message); a signed-in
one (a session, or ``Authorization: Bearer <token>``) also which Neo4j
(``neo4j``: its URI) and ``database``.
"""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask_login import current_user

from ..store.db import translate_errors
from . import extensions

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    graph = extensions.graph()
    with translate_errors(graph.settings):
        graph.driver.verify_connectivity()
    if not current_user.is_authenticated:
        return jsonify(status="ok")
    return jsonify(status="ok", neo4j=graph.settings.uri, database=graph.database)
