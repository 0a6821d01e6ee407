"""How a request says who it is (login, sessions, API tokens), and the door that asks ``graphsvc.permissions``.

Permissions
-----------
Who may do what is ``graphsvc.permissions`` (``why_not``, ``can``): the
pages and the API ask it before showing a form or taking a request
(``require``: a 403 saying why), and ``graphsvc.service`` asks it again,
inside the write's transaction, with what the database holds then.

Login
-----
Pages use a session (Flask-Login): ``/login`` (``LoginForm``: ``username``,
``password``, ``csrf_token``), ``POST /logout``. A session is a row the
server keeps (``Accounts.start_session``); the signed cookie holds only its
random id. It ends at logout, after ``SESSION_IDLE_MINUTES`` without a request
or ``SESSION_MAX_HOURS`` after signing in (the settings
``web.session_idle_minutes`` and ``web.session_max_hours``), and every session
of an account ends when its password, role or clinician changes or it is
removed: a cookie saved before then opens nothing (a page redirects to
``/login``, ``/api/...`` is a 401). ``/api/...``
(and ``/healthz``) also take ``Authorization: Bearer <token>``
(``graphsvc token create``), which wins over a session cookie when sent; a
bad token is a 401, whatever cookie comes with it. API writes take the token
only (``token_required``): no cross-site form can write.

Anonymous requests: a page redirects to ``/login?next=<path>``, ``/api/...`` is
a 401 JSON ``{"error": ...}`` with ``WWW-Authenticate: Bearer``. Public:
``/login``, ``/static/...``, ``/healthz`` (without the Neo4j URI) and
``/api/openapi.json`` (``PUBLIC_ENDPOINTS``).

Failed logins are throttled, never locked (``Accounts.begin_login``, counted
in the accounts database that every worker shares): after 3 failures of one
account from one address, the next waits 1, 2, 4 ... seconds (at most 60) after
the last; the same after 20 from one address whatever the accounts, and after
failures from 10 addresses on one account (not from an address it signed in
from lately). A login that must wait is a 429 with ``Retry-After``. A success
ends its address's streak for the account; 15 minutes without a failure ends
any streak. ``RATELIMIT_STORAGE_URI`` (``web.ratelimit_storage``) is still
checked at start but counts nothing any more.

Every response but a static file carries ``Cache-Control: no-store``.

Audit (``Accounts.record``): ``login``, ``login_failed`` (the username tried),
``login throttled`` (the username tried, the wait and why), ``logout``,
``refresh``, and ``refused`` for every 403 (the action when ``require`` refused
it, the method, the path and the reason), each with the address.
"""

from __future__ import annotations

import functools
from datetime import timedelta
from urllib.parse import urlsplit

from flask import Blueprint, current_app, g, jsonify, redirect, render_template, request, session, url_for
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from limits.errors import ConfigurationError as LimitsConfigurationError
from limits.storage import storage_from_string
from werkzeug.exceptions import Forbidden, HTTPException, TooManyRequests
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired

from ..accounts import Accounts, User
from ..errors import GraphsvcError
from ..permissions import why_not

# -- permissions ------------------------------------------------------------------------


def require(action: str, **context) -> None:
    """A 403 saying why, unless the signed-in user may do ``action`` (a page, or JSON under /api/).

    The refusal is audited (``refused``, by the 403's handler, ``_audit_refusal``).
    """
    reason = why_not(current_user, action, **context)
    if reason is not None:
        g.refused_action = action
        raise Forbidden(reason)


# -- who is asking ------------------------------------------------------------------------

# Reachable without signing in (by endpoint).
PUBLIC_ENDPOINTS = {"auth.login", "static", "health.healthz", "api.openapi"}
BEARER = 'Bearer realm="graphsvc"'


class WebUser(UserMixin):
    """A signed-in account as Flask-Login sees it; ``via`` is ``"session"`` (``session_id``: the server's
    session, in the signed cookie) or ``"token"``."""

    def __init__(self, user: User, session_id: str, via: str):
        self.user, self.session_id, self.via = user, session_id, via
        self.username, self.role, self.clinician_id = user.username, user.role, user.clinician_id

    def get_id(self) -> str:
        return self.session_id


def accounts() -> Accounts:
    return current_app.extensions["accounts"]


def session_limits() -> tuple[timedelta, timedelta]:
    """``(idle, lifetime)``: how long a session lasts without a request, and in all."""
    config = current_app.config
    return timedelta(minutes=int(config["SESSION_IDLE_MINUTES"])), timedelta(hours=int(config["SESSION_MAX_HOURS"]))


def address() -> str | None:
    return request.remote_addr


def record(action: str, *, user: str | None, **kwargs) -> None:
    accounts().record(action, user=user, address=address(), **kwargs)


def _token_paths() -> bool:
    """Whether this request may authenticate with a bearer token (the API and /healthz)."""
    path = request.path
    return path == "/healthz" or path.startswith("/api/")


def _load_from_session(user_id: str):
    if _token_paths() and "Authorization" in request.headers:
        return None  # the token decides (request_loader)
    idle, lifetime = session_limits()
    user = accounts().session_user(user_id, idle=idle, lifetime=lifetime)
    if user is None:
        return None  # logged out, idle, too old, or a new password or role or removed since it began
    return WebUser(user, user_id, "session")


def _load_from_token(req):
    if not _token_paths() or "Authorization" not in req.headers:
        return None
    scheme, _, token = req.headers["Authorization"].strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        g.auth_problem = "the Authorization header must be 'Bearer <token>' (a token from `graphsvc token create`)"
        return None
    user = accounts().user_for_token(token.strip())
    if user is None:
        g.auth_problem = "the API token is unknown, revoked or malformed"
        return None
    return WebUser(user, "", "token")


def unauthorized_json(message: str | None = None):
    """The 401 of the JSON API: ``{"error": ...}`` and ``WWW-Authenticate: Bearer``."""
    problem = g.get("auth_problem")
    message = message or problem or ("sign in first: send an API token as 'Authorization: Bearer <token>' "
                                     "(`graphsvc token create`), or sign in at /login")
    response = jsonify(error=message)
    response.status_code = 401
    response.headers["WWW-Authenticate"] = BEARER + (', error="invalid_token"' if problem else "")
    return response


def require_login():
    """Before every request: a signed-in user, or the public endpoints; else a redirect or a 401."""
    if request.endpoint in PUBLIC_ENDPOINTS or request.path == "/healthz":
        return None
    if current_user.is_authenticated:
        return None
    if request.path == "/api" or request.path.startswith("/api/"):
        return unauthorized_json()
    wanted = request.full_path.rstrip("?") if request.query_string else request.path
    return redirect(url_for("auth.login", next=wanted) if wanted != "/" else url_for("auth.login"))


def token_required(view):
    """For API writes: a 401 unless the caller sent a valid API token (a session cookie is not enough)."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return unauthorized_json()
        if getattr(current_user, "via", None) != "token":
            return unauthorized_json("this endpoint takes an API token, not the session cookie: send "
                                     "'Authorization: Bearer <token>' (`graphsvc token create`)")
        return view(*args, **kwargs)

    return wrapped


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site (``/...``, not ``//host`` nor ``/\\host``), else None.

    >>> [safe_next(t) for t in ("/practice?x=1", "//evil.example", "https://evil.example/", "/\\\\evil", "x")]
    ['/practice?x=1', None, None, None, None]
    """
    if not target or len(target) > 2000 or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


# -- the login page ---------------------------------------------------------------------------

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[InputRequired()])
    password = PasswordField("Password", validators=[InputRequired()])


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The login form; on success, to ``next`` (a path on this site) or the overview."""
    target = safe_next(request.args.get("next"))
    if request.method == "GET" and current_user.is_authenticated:
        return redirect(target or url_for("home.index"))
    form = LoginForm()
    problem, status = None, 200
    if request.method == "POST":
        if not form.validate():
            problem = "Enter your username and your password."
        else:
            tried = form.username.data.strip().lower()
            wait = accounts().begin_login(tried, address())  # counted as a failure until it succeeds
            if wait is not None:
                record("login throttled", user=None,
                       detail={"username": _shown(tried), "wait_seconds": wait.seconds, "why": wait.why})
                seconds = wait.seconds
                raise TooManyRequests(f"Too many failed logins for this account or from this address: wait "
                                      f"{seconds} second{'s' if seconds != 1 else ''} and try again.",
                                      retry_after=seconds)
            user = accounts().check_password(form.username.data, form.password.data)
            if user is None:
                record("login_failed", user=None, detail={"username": _shown(tried)})
                problem, status = "Wrong username or password.", 200
            else:
                accounts().login_succeeded(tried, address())
                session.clear()  # a new session: nothing of the anonymous one carries over
                login_user(WebUser(user, accounts().start_session(user.username), "session"))
                session.permanent = True  # the cookie expires after PERMANENT_SESSION_LIFETIME (SESSION_MAX_HOURS)
                record("login", user=user.username)
                return redirect(target or url_for("home.index"))
    return render_template("login.html", form=form, problem=problem, next=target), status


def _shown(text: str) -> str:
    """A tried username as the audit log keeps it: printable, at most 100 characters."""
    clean = "".join(c if c.isprintable() else "?" for c in text)
    return clean if len(clean) <= 100 else clean[:100] + "…"


@bp.post("/logout")
def logout():
    """End the session (a POST with the CSRF token), on the server too, then the login page."""
    name = current_user.username
    accounts().end_session(current_user.session_id, "logout")
    logout_user()
    session.clear()
    record("logout", user=name)
    return redirect(url_for("auth.login"))


# -- wiring -------------------------------------------------------------------------------------


def _audit_refusal(error: Forbidden):
    """Every 403 (``require``, the service's own check, any ``abort(403)``) audited as ``refused``, then
    answered by the app's handler of HTTP errors."""
    who = current_user.username if current_user.is_authenticated else None
    detail = {"method": request.method, "path": _shown(request.path), "reason": error.description}
    if g.get("refused_action"):
        detail["action"] = g.refused_action
    record("refused", user=who, detail=detail)
    handler = current_app.error_handler_spec.get(None, {}).get(None, {}).get(HTTPException)
    return handler(error) if handler is not None else error


def _no_store(response):
    """``Cache-Control: no-store`` on every answer but a static file: pages and the API show the
    practice's data (and a page its form's CSRF token), which no browser or proxy should keep."""
    if request.endpoint != "static":
        response.headers["Cache-Control"] = "no-store"
    return response


def _check_ratelimit_storage(storage: str) -> None:
    """``web.ratelimit_storage`` is no longer used, but a configured one that cannot work still stops
    the app, as it did when failed logins were counted there."""
    try:
        storage_from_string(storage)
    except LimitsConfigurationError as error:
        # Only the scheme is named: a redis:// URI may carry a password.
        scheme = storage.partition("://")[0] or storage[:20]
        raise GraphsvcError(f"web.ratelimit_storage (GRAPHSVC_RATELIMIT_STORAGE): cannot use a {scheme!r} "
                            f"storage for failed logins: {error}") from None


def init_app(app, accounts_db: Accounts) -> None:
    """Accounts, Flask-Login, the login blueprint, ``require_login``, the 403 audit and ``no-store``."""
    app.extensions["accounts"] = accounts_db
    app.config.setdefault("SESSION_IDLE_MINUTES", 30)
    app.config.setdefault("SESSION_MAX_HOURS", 12)
    # The cookie lasts no longer than the session it names.
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=int(app.config["SESSION_MAX_HOURS"]))
    manager = LoginManager()
    manager.user_loader(_load_from_session)
    manager.request_loader(_load_from_token)
    manager.init_app(app)
    _check_ratelimit_storage(app.config.get("RATELIMIT_STORAGE_URI") or "memory://")
    app.register_blueprint(bp)
    app.before_request(require_login)
    app.register_error_handler(403, _audit_refusal)
    app.after_request(_no_store)
