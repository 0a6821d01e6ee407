"""The Flask web view and JSON API.

``create_app(test_config=None, *, graph=None, settings=None, accounts=None)``
follows the application-factory pattern of Flask's tutorial. Configuration
comes from ``Settings`` (its defaults, the settings file, then the
``GRAPHSVC_*`` environment variables, ``GRAPHSVC_WEB_PAGE_SIZE`` among them),
then ``test_config``. The analysis options are ``settings.analysis``, the
one ``AnalysisOptions`` (to analyse as of another day, pass settings with
other options); the Flask config keys are only these:

============================  ================================
config key                    from ``Settings``
============================  ================================
``PAGE_SIZE``                 ``web_page_size``
``ACCOUNTS_DB``               ``accounts_db`` (unless ``create_app(accounts=...)``)
``SECRET_KEY``                ``graphsvc.accounts.secret_key(settings)``
``SESSION_COOKIE_SECURE``     ``web_cookie_secure`` (the cookie is Secure over HTTPS anyway)
``TRUSTED_PROXIES``           ``web_trusted_proxies``: how many proxies in front set
                              ``X-Forwarded-For`` and ``-Proto`` (Werkzeug's ``ProxyFix``)
``RATELIMIT_STORAGE_URI``     ``web_ratelimit_storage`` (checked at start; no longer used)
``SESSION_IDLE_MINUTES``      ``web_session_idle_minutes``: a session ends after this long without a request
``SESSION_MAX_HOURS``         ``web_session_max_hours``: and this long after signing in (the cookie's lifetime)
``CONSOLE_TIMEOUT``           ``console_timeout`` (read from the settings when not set: the console's seconds)
``CONSOLE_MAX_ROWS``          ``console_max_rows`` (likewise: the rows an answer shows)
``CONSOLE_MAX_BYTES``         ``console_max_bytes`` (likewise: the bytes an answer shows)
============================  ================================

Sign-in and permissions are ``graphsvc.web.auth``'s: every page needs a
session (``/login``), every ``/api/...`` call a session or an API token
(``Authorization: Bearer``); ``/login``, ``/static/...``, ``/healthz`` and
``/api/openapi.json`` are public. Every POST form carries a CSRF token
(Flask-WTF's ``CSRFProtect``; the JSON API is exempt: it takes no form, and its
writes will take the token only). The session cookie is HttpOnly,
SameSite=Lax, and Secure when ``SESSION_COOKIE_SECURE`` is true or the request
came over HTTPS (``request.is_secure``: gunicorn sets it from
``X-Forwarded-Proto`` for proxies in ``--forwarded-allow-ips``); a session is
kept on the server and ends at logout, after ``SESSION_IDLE_MINUTES`` without a
request or ``SESSION_MAX_HOURS`` in all. Every response carries
``SECURITY_HEADERS`` (a CSP without inline script or style, no framing, no
sniffing, ``Referrer-Policy: same-origin``) and ``Server: graphsvc`` (under
gunicorn, which sends its own ``Server: gunicorn`` without a version, none).

The graph is an argument, not configuration: without ``graph`` each process
(each gunicorn worker, after its fork) opens one Neo4j driver here and closes
it at exit. One blueprint per area: ``referrers`` (``/``,
``/referrers/<id>``), ``practice`` (``/practice``), ``audit`` (``/audit``), ``console``
(``/console``), ``search`` (``/search``), ``health``
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
from datetime import UTC, date

from flask import Flask, abort, current_app, g, has_request_context, jsonify, make_response, request
from flask.json.provider import DefaultJSONProvider
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException, MethodNotAllowed, RequestEntityTooLarge, ServiceUnavailable

from ..config import Settings
from ..errors import Neo4jUnavailable
from ..limits import SHOWN
from ..presentation import STAGE_NAMES, count_of, pct, stage_label, words

# What every request and response of the web holds to, named here too (tests, ``graphsvc serve``).
from .http import (  # noqa: F401
    MAX_CONTENT_LENGTH,
    SECURITY_HEADERS,
    SERVER,
    SESSION_LIFETIME,
    WEB_RETRY_SECONDS,
    WEB_WAIT_SECONDS,
)

_log = logging.getLogger(__name__)


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, the cookie Secure also whenever the request came over HTTPS."""

    def get_cookie_secure(self, app) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or (has_request_context() and request.is_secure)


class JSONProvider(DefaultJSONProvider):
    """Dates as ISO 8601 (Flask's default is an HTTP date)."""

    @staticmethod
    def default(o):
        if isinstance(o, date):
            return o.isoformat()
        return DefaultJSONProvider.default(o)


def create_app(test_config: dict | None = None, *, graph=None, settings: Settings | None = None,
               accounts=None) -> Flask:
    """The web app.

    Parameters
    ----------
    test_config : dict, optional
        Flask config overriding the settings' (``TESTING``, ``PAGE_SIZE``,
        ``SECRET_KEY``, ...).
    graph : graphsvc.store.db.Graph, optional
        The graph to serve; connected from ``settings`` if omitted.
    settings : Settings, optional
        ``Settings.load()`` (defaults, then the environment) if omitted.
    accounts : graphsvc.accounts.Accounts, optional
        The accounts to sign in with; opened from ``ACCOUNTS_DB`` (the
        settings' ``accounts_db``) if omitted.
    """
    from ..accounts import Accounts
    from ..store.db import Graph
    from . import (  # noqa: F401  (api_writes, openapi and search register their views on api.bp)
        api,
        api_worklists,
        api_writes,
        audit,
        auth,
        clinicians,
        console,
        corrections,
        extensions,
        health,
        home,
        merges,
        openapi,
        pages,
        practice,
        record,
        referrers,
        search,
        today,
        updates,
        views,
        vocabularies,
        worklists,
    )

    if test_config and "GRAPH" in test_config:
        raise TypeError("pass the graph as create_app(graph=...), not in the config")
    moved = sorted(k for k in test_config or () if k.startswith("ANALYSIS_") or k == "FOLLOW_UP_DAYS")
    if moved:
        # These Flask keys once set the analysis; silently ignoring them would serve other options.
        raise TypeError(f"{', '.join(moved)}: the analysis options are settings.analysis; pass "
                        "create_app(settings=settings.with_(analysis={...})), not Flask config")
    settings = settings or Settings.load()
    app = _configured(Flask(__name__), settings, test_config)
    if graph is None:
        # A page waits at most a few seconds for a Neo4j that went away, then
        # says so; the CLI's commands may wait longer.
        graph = Graph.connect(settings, retry_seconds=WEB_RETRY_SECONDS, wait_seconds=WEB_WAIT_SECONDS)
    if accounts is None:
        accounts = Accounts(app.config["ACCOUNTS_DB"])
    extensions.init_app(app, graph, settings.analysis, accounts,
                        poll_seconds=0 if app.testing else settings.web_poll_seconds,
                        snapshot_dir=settings.analysis_snapshot_dir)

    app.jinja_env.globals.update(STAGE_NAMES=STAGE_NAMES, pct=pct, stage_label=stage_label,
                                 count_of=count_of, noun_for=pages.noun_for, words=words)
    for blueprint in (home, today, referrers, worklists, clinicians, views, practice, health, api, record, audit,
                      console, updates, search, vocabularies, merges, corrections):
        app.register_blueprint(blueprint.bp)

    @app.context_processor
    def analysis_state():
        return {"stale_notice": stale_notice()}

    # Before-request order: the body's size, then who is asking, then the CSRF token.
    app.before_request(_body_limit)
    auth.init_app(app, accounts)
    csrf = CSRFProtect(app)
    csrf.exempt(api.bp)
    app.after_request(_security_headers)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Neo4jUnavailable, _neo4j_down)
    return app


def _configured(app: Flask, settings: Settings, test_config: dict | None) -> Flask:
    """``app`` with its config from the settings, then ``test_config``; sessions, proxies, JSON."""
    from ..accounts import secret_key

    app.json_provider_class = JSONProvider
    app.json = JSONProvider(app)
    app.config.from_mapping(
        PAGE_SIZE=settings.web_page_size,
        TODAY_ITEMS=settings.web_today_items,
        MAX_CONTENT_LENGTH=MAX_CONTENT_LENGTH,
        ACCOUNTS_DB=settings.accounts_db,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.web_cookie_secure,  # Secure over HTTPS anyway (SessionInterface)
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
        WTF_CSRF_TIME_LIMIT=None,  # a form's token lasts as long as its session
        RATELIMIT_STORAGE_URI=settings.web_ratelimit_storage,
        SESSION_IDLE_MINUTES=settings.web_session_idle_minutes,
        SESSION_MAX_HOURS=settings.web_session_max_hours,
        TRUSTED_PROXIES=settings.web_trusted_proxies,
    )
    if test_config is not None:
        app.config.from_mapping(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = secret_key(settings)
    app.session_interface = SessionInterface()
    proxies = int(app.config["TRUSTED_PROXIES"])
    if proxies > 0:
        # Only when told: otherwise anyone could choose the address that failed logins are counted by.
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)
    app.config["PAGE_SIZE"] = int(app.config["PAGE_SIZE"])
    if app.config["PAGE_SIZE"] < 1:
        raise ValueError(f"PAGE_SIZE must be at least 1, got {app.config['PAGE_SIZE']}")
    return app


def _body_limit():
    """Flask enforces MAX_CONTENT_LENGTH only when a view reads the body; say so at once."""
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if limit is not None and (request.content_length or 0) > limit:
        abort(413, f"the request body is {request.content_length} bytes; at most {limit} are accepted")


def _security_headers(response):
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if not request.environ.get("SERVER_SOFTWARE", "").startswith("gunicorn"):
        # gunicorn writes its own "Server: gunicorn" (no version) before the app's headers;
        # a second Server header would only confuse.
        response.headers["Server"] = SERVER
    return response


def _http_error(error: HTTPException):
    """Every HTTP error in the form the path calls for (JSON under /api/, a page elsewhere)."""
    from . import pages

    if isinstance(error, CSRFError):
        error.description = (f"{error.description} A form must be sent from this site's own page: "
                             "go back, reload the page and try again.")
    if not answers_in_json():
        response = make_response(pages.error_page(error))
    else:
        response = jsonify(error=api_error_message(error))
        response.status_code = error.code
    # What the error itself says in headers: Allow (405), Retry-After (429), WWW-Authenticate (401).
    for name, value in error.get_headers():
        if name.lower() in ("allow", "retry-after", "www-authenticate"):
            response.headers[name] = value
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


def _neo4j_down(error: Neo4jUnavailable):
    """A 503 saying in plain words that the database is not reachable (the address for those signed in)."""
    from . import pages

    _log.warning("%s %s: %s", request.method, request.path, error)
    # The technical message names the database's address: only for signed-in users.
    detail = str(error) if current_user.is_authenticated else None
    if answers_in_json():
        return jsonify(error=detail or "the database is not reachable"), 503
    return pages.error_page(ServiceUnavailable(DATABASE_DOWN), detail=detail)


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
    built = analysis.data_as_of.astimezone(UTC)
    down = down.astimezone(UTC)
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
