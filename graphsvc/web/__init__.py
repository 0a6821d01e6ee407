"""The Flask web view and JSON API.

``create_app(test_config=None)`` follows Flask's application-factory pattern:
configuration from defaults, then the environment (``graphsvc.config``), then
``test_config``. Each process (each gunicorn worker, after its fork) opens one
Neo4j driver here and closes it at exit.
"""

from __future__ import annotations

from flask import Flask, jsonify

from ..config import Settings
from ..errors import Neo4jUnavailable


def create_app(test_config: dict | None = None, settings: Settings | None = None) -> Flask:
    from ..db import Graph

    app = Flask(__name__)
    app.config.from_mapping(PAGE_SIZE=50)
    app.config.from_prefixed_env("GRAPHSVC_WEB")
    if test_config:
        app.config.update(test_config)
    settings = settings or app.config.get("SETTINGS") or Settings.load()
    app.extensions["graph"] = app.config.get("GRAPH") or Graph.connect(settings)

    from . import views

    app.register_blueprint(views.bp)

    @app.errorhandler(Neo4jUnavailable)
    def neo4j_down(error):
        return jsonify(error=str(error)), 503

    return app


def graph_of(app: Flask):
    return app.extensions["graph"]
