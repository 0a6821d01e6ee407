"""The Flask web view and JSON API.

``create_app(test_config=None)`` follows Flask's application-factory pattern:
configuration from defaults, then the environment (``graphsvc.config``), then
``test_config``. Each process (each gunicorn worker, after its fork) opens one
Neo4j driver here and closes it at exit.
"""

from __future__ import annotations

from datetime import date

from flask import Flask, jsonify
from flask.json.provider import DefaultJSONProvider

from ..config import Settings
from ..errors import Neo4jUnavailable


class JSONProvider(DefaultJSONProvider):
    """Dates as ISO 8601 (Flask's default is an HTTP date)."""

    @staticmethod
    def default(o):
        if isinstance(o, date):
            return o.isoformat()
        return DefaultJSONProvider.default(o)


def create_app(test_config: dict | None = None, settings: Settings | None = None) -> Flask:
    from ..store.db import Graph

    from ..insights import AnalysisOptions, InsightsCache

    app = Flask(__name__)
    app.json_provider_class = JSONProvider
    app.json = JSONProvider(app)
    app.config.from_mapping(PAGE_SIZE=50, ANALYSIS_WINDOW=5, ANALYSIS_STALL_DAYS=180,
                            ANALYSIS_LAPSE_DAYS=180, ANALYSIS_AS_OF=None)
    app.config.from_prefixed_env("GRAPHSVC_WEB")
    if test_config:
        app.config.update(test_config)
    settings = settings or app.config.get("SETTINGS") or Settings.load()
    app.extensions["graph"] = app.config.get("GRAPH") or Graph.connect(settings)

    options = AnalysisOptions(window=int(app.config["ANALYSIS_WINDOW"]),
                              stall_days=int(app.config["ANALYSIS_STALL_DAYS"]),
                              lapse_days=int(app.config["ANALYSIS_LAPSE_DAYS"]),
                              as_of=_as_date(app.config["ANALYSIS_AS_OF"]))
    app.extensions["insights"] = InsightsCache(app.extensions["graph"], options)

    from . import api, views

    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)

    @app.errorhandler(Neo4jUnavailable)
    def neo4j_down(error):
        return jsonify(error=str(error)), 503

    return app


def _as_date(value):
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def graph_of(app: Flask):
    return app.extensions["graph"]
