"""``/healthz``: does Neo4j answer? 200 ``{"status": "ok", ...}`` or 503 ``{"error": ...}``."""

from __future__ import annotations

from flask import Blueprint, jsonify

from ..store.db import translate_errors
from . import extensions

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    graph = extensions.graph()
    with translate_errors(graph.settings):
        graph.driver.verify_connectivity()
    return jsonify(status="ok", neo4j=graph.settings.uri, database=graph.database)
