"""The Flask web view and JSON API.

``create_app(test_config=None, *, graph=None, settings=None)`` follows the
application-factory pattern of Flask's tutorial. Configuration comes from
``Settings`` (its defaults, then the ``GRAPHSVC_*`` environment variables it
reads, ``GRAPHSVC_WEB_PAGE_SIZE`` among them), then ``test_config``:

============================  ================================
config key                    from ``Settings``
============================  ================================
``PAGE_SIZE``                 ``web_page_size``
``ANALYSIS_WINDOW``           ``analysis_window``
``ANALYSIS_STALL_DAYS``       ``analysis_stall_days``
``ANALYSIS_LAPSE_DAYS``       ``analysis_lapse_days``
``ANALYSIS_AS_OF``            ``analysis_as_of`` (a date or ``YYYY-MM-DD``; none: today)
============================  ================================

The graph is an argument, not configuration: without ``graph`` each process
(each gunicorn worker, after its fork) opens one Neo4j driver here and closes
it at exit. One blueprint per area: ``referrers`` (``/``,
``/referrers/<id>``), ``practice`` (``/practice``), ``health``
(``/healthz``) and ``api`` (``/api/...``).
"""

from __future__ import annotations

from datetime import date

from flask import Flask, jsonify
from flask.json.provider import DefaultJSONProvider

from ..config import Settings
from ..errors import Neo4jUnavailable
from ..presentation import STAGE_NAMES, count_of, pct, stage_label, words


class JSONProvider(DefaultJSONProvider):
    """Dates as ISO 8601 (Flask's default is an HTTP date)."""

    @staticmethod
    def default(o):
        if isinstance(o, date):
            return o.isoformat()
        return DefaultJSONProvider.default(o)


def create_app(test_config: dict | None = None, *, graph=None, settings: Settings | None = None) -> Flask:
    """The web app.

    Parameters
    ----------
    test_config : dict, optional
        Flask config overriding the settings' (``TESTING``, ``PAGE_SIZE``,
        ``ANALYSIS_AS_OF``, ...).
    graph : graphsvc.store.db.Graph, optional
        The graph to serve; connected from ``settings`` if omitted.
    settings : Settings, optional
        ``Settings.load()`` (defaults, then the environment) if omitted.
    """
    from ..insights import AnalysisOptions
    from ..store.db import Graph
    from . import api, extensions, health, practice, referrers

    if test_config and "GRAPH" in test_config:
        raise TypeError("pass the graph as create_app(graph=...), not in the config")
    settings = settings or Settings.load()

    app = Flask(__name__)
    app.json_provider_class = JSONProvider
    app.json = JSONProvider(app)
    app.config.from_mapping(
        PAGE_SIZE=settings.web_page_size,
        ANALYSIS_WINDOW=settings.analysis_window,
        ANALYSIS_STALL_DAYS=settings.analysis_stall_days,
        ANALYSIS_LAPSE_DAYS=settings.analysis_lapse_days,
        ANALYSIS_AS_OF=settings.analysis_as_of,
    )
    if test_config is not None:
        app.config.from_mapping(test_config)
    app.config["PAGE_SIZE"] = int(app.config["PAGE_SIZE"])
    if app.config["PAGE_SIZE"] < 1:
        raise ValueError(f"PAGE_SIZE must be at least 1, got {app.config['PAGE_SIZE']}")

    options = AnalysisOptions(window=int(app.config["ANALYSIS_WINDOW"]),
                              stall_days=int(app.config["ANALYSIS_STALL_DAYS"]),
                              lapse_days=int(app.config["ANALYSIS_LAPSE_DAYS"]),
                              as_of=_as_date(app.config["ANALYSIS_AS_OF"]))
    extensions.init_app(app, graph if graph is not None else Graph.connect(settings), options)

    app.jinja_env.globals.update(STAGE_NAMES=STAGE_NAMES, pct=pct, stage_label=stage_label,
                                 count_of=count_of, words=words)

    app.register_blueprint(referrers.bp)
    app.register_blueprint(practice.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(api.bp)

    @app.errorhandler(Neo4jUnavailable)
    def neo4j_down(error):
        return jsonify(error=str(error)), 503

    return app


def _as_date(value):
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))
