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

A request body is at most ``MAX_CONTENT_LENGTH`` bytes (64 KB; the config
key of the same name overrides it): past it, a 413. Errors are answered in
the form the path calls for, by the app's own handlers: ``/api/...`` and
``/healthz`` in JSON (``{"error": ...}``, e.g. a 404 for ``/api/nope``),
every other path as a page in the site's layout
(a 400 naming a bad parameter, a 404, and a 503 saying in plain words that
the database is not reachable when Neo4j is down).

A page answered from the cached analysis while Neo4j is unreachable (the
referrer page, ``/practice``) says so above its content: how old its data
is and since when the database is away (``stale_notice``). The JSON answers
carry no such note; ``GET /api/status`` says it.
"""

from __future__ import annotations

import logging
from datetime import date, timezone

from flask import Flask, abort, current_app, g, jsonify, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException, MethodNotAllowed, RequestEntityTooLarge, ServiceUnavailable

from ..config import Settings
from ..errors import Neo4jUnavailable
from ..presentation import STAGE_NAMES, count_of, pct, stage_label, words
from ..requests import SHOWN

_log = logging.getLogger(__name__)


WEB_RETRY_SECONDS = 2

# The largest request body taken, in bytes: a POST /api/match is a few hundred
# bytes, and the pages take none. Past it a 413 (JSON under /api/, a page
# elsewhere), before the body is read.
MAX_CONTENT_LENGTH = 64 * 1024


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
    from . import api, extensions, health, pages, practice, referrers

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
        MAX_CONTENT_LENGTH=MAX_CONTENT_LENGTH,
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
    if graph is None:
        # A page waits at most a few seconds for a Neo4j that went away, then
        # says so; the CLI's commands may wait longer.
        graph = Graph.connect(settings, retry_seconds=WEB_RETRY_SECONDS)
    extensions.init_app(app, graph, options,
                        poll_seconds=int(app.config.get("ANALYSIS_POLL_SECONDS", 0 if app.testing else
                                                        settings.web_poll_seconds)),
                        snapshot_dir=app.config.get("ANALYSIS_SNAPSHOT_DIR", settings.analysis_snapshot_dir))

    app.jinja_env.globals.update(STAGE_NAMES=STAGE_NAMES, pct=pct, stage_label=stage_label,
                                 count_of=count_of, noun_for=pages.noun_for, words=words)

    app.register_blueprint(referrers.bp)
    app.register_blueprint(practice.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(api.bp)

    @app.context_processor
    def analysis_state():
        return {"stale_notice": stale_notice()}

    @app.before_request
    def body_limit():
        # Flask enforces MAX_CONTENT_LENGTH only when a view reads the body; say so at once.
        limit = app.config["MAX_CONTENT_LENGTH"]
        if limit is not None and (request.content_length or 0) > limit:
            abort(413, f"the request body is {request.content_length} bytes; at most {limit} are accepted")

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if not answers_in_json():
            return pages.error_page(error)
        response = jsonify(error=api_error_message(error))
        if isinstance(error, MethodNotAllowed) and error.valid_methods:
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response, error.code

    @app.errorhandler(Neo4jUnavailable)
    def neo4j_down(error: Neo4jUnavailable):
        _log.warning("%s %s: %s", request.method, request.path, error)
        if answers_in_json():
            return jsonify(error=str(error)), 503
        return pages.error_page(ServiceUnavailable(DATABASE_DOWN), detail=str(error))

    return app


# What a person sees when Neo4j is down (the technical message is folded away under it).
DATABASE_DOWN = ("The database is not reachable right now, so this page cannot be shown. "
                 "Try again in a few minutes; if it stays down, tell the administrator.")


def stale_notice() -> str | None:
    """For a page answered from the analysis cache while Neo4j is unreachable: how old its data is.

    None when the page used no analysis (``extensions.insights`` was not
    called) or the cache last reached Neo4j.
    """
    analysis = g.get("analysis")
    down = current_app.extensions["insights"].unreachable_since
    if analysis is None or down is None:
        return None
    built = analysis.data_as_of.astimezone(timezone.utc)
    down = down.astimezone(timezone.utc)
    since = down.strftime("%H:%M UTC" if down.date() == built.date() else "%Y-%m-%d %H:%M UTC")
    return (f"Data as of {built:%Y-%m-%d %H:%M} UTC; the database has been unreachable since {since}, "
            "so recent changes may be missing.")


def answers_in_json() -> bool:
    """Whether the request's path is the JSON API's or ``/healthz`` (the others are pages)."""
    path = request.path
    return path == "/healthz" or path == "/api" or path.startswith("/api/")


def api_error_message(error: HTTPException) -> str:
    """The ``error`` of an API answer for an HTTP error: where the URL names nothing, say what does."""
    path = request.path if len(request.path) <= SHOWN else request.path[:SHOWN] + "…"
    if request.url_rule is None and error.code == 404:
        return f"no API endpoint at {path}; the endpoints are listed at /api/openapi.json"
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        allowed = " or ".join(m for m in error.valid_methods if m not in ("HEAD", "OPTIONS"))
        return f"{request.method} is not allowed on {path}; use {allowed}"
    if isinstance(error, RequestEntityTooLarge) and error.description == RequestEntityTooLarge.description:
        limit = current_app.config["MAX_CONTENT_LENGTH"]
        return f"the request body is larger than {limit} bytes, the most accepted"
    return error.description or error.name


def _as_date(value):
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))
