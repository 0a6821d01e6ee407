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
``password``, ``csrf_token``), ``POST /logout``. The session holds
``<username>|<stamp>``, the stamp an HMAC (keyed by ``SECRET_KEY``) of the
account's password hash, role, clinician and creation time: a new password, a
new role or removing the account ends the account's sessions. ``/api/...``
(and ``/healthz``) also take ``Authorization: Bearer <token>``
(``graphsvc token create``), which wins over a session cookie when sent; a
bad token is a 401, whatever cookie comes with it. API writes take the token
only (``token_required``): no cross-site form can write.

Anonymous requests: a page redirects to ``/login?next=<path>``, ``/api/...`` is
a 401 JSON ``{"error": ...}`` with ``WWW-Authenticate: Bearer``. Public:
``/login``, ``/static/...``, ``/healthz`` (without the Neo4j URI) and
``/api/openapi.json`` (``PUBLIC_ENDPOINTS``).

Failed logins are limited with Flask-Limiter's storage (``LOGIN_FAILURES``,
5 a minute) per account and per address: past them, any attempt is a 429
until the minute has passed. The storage is ``RATELIMIT_STORAGE_URI`` (the
``web.ratelimit_storage`` setting; ``memory://`` by default: per process, so N gunicorn workers allow up to N
times as many; a ``redis://`` URI shares it).

Audit (``Accounts.record``): ``login``, ``login_failed`` (the username tried),
``logout``, ``refresh``, each with the address.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import time
from urllib.parse import urlsplit

from flask import Blueprint, current_app, g, jsonify, redirect, render_template, request, session, url_for
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from limits import parse as parse_limit
from limits.errors import ConfigurationError as LimitsConfigurationError
from werkzeug.exceptions import Forbidden, TooManyRequests
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired

from ..accounts import Accounts, User
from ..errors import GraphsvcError, NotFound
from ..permissions import why_not

# -- permissions ------------------------------------------------------------------------


def require(action: str, **context) -> None:
    """A 403 saying why, unless the signed-in user may do ``action`` (a page, or JSON under /api/)."""
    reason = why_not(current_user, action, **context)
    if reason is not None:
        raise Forbidden(reason)


# -- who is asking ------------------------------------------------------------------------

# Reachable without signing in (by endpoint).
PUBLIC_ENDPOINTS = {"auth.login", "static", "health.healthz", "api.openapi"}
# Failed logins allowed per account and per address before a 429.
LOGIN_FAILURES = "5/minute"
BEARER = 'Bearer realm="graphsvc"'


class WebUser(UserMixin):
    """A signed-in account as Flask-Login sees it; ``via`` is ``"session"`` or ``"token"``."""

    def __init__(self, user: User, stamp: str, via: str):
        self.user, self.stamp, self.via = user, stamp, via
        self.username, self.role, self.clinician_id = user.username, user.role, user.clinician_id

    def get_id(self) -> str:
        return f"{self.username}|{self.stamp}"


def accounts() -> Accounts:
    return current_app.extensions["accounts"]


def session_stamp(username: str) -> str | None:
    """What changes when the account's password, role or clinician changes or it is removed (and
    re-added); None if there is no such account. An HMAC under ``SECRET_KEY`` of
    ``Accounts.session_material``, so the cookie shows nothing of the password hash.
    """
    material = accounts().session_material(username)
    if material is None:
        return None
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, material.encode(), hashlib.sha256).hexdigest()[:32]


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
    username, _, stamp = user_id.partition("|")
    current = session_stamp(username)
    if current is None or not hmac.compare_digest(current, stamp):
        return None  # removed, or a new password or role since this session began
    try:
        return WebUser(accounts().user(username), stamp, "session")
    except NotFound:  # removed meanwhile
        return None


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


def _failures_limiter():
    limiter: Limiter = current_app.extensions["login_limiter"]
    return limiter.limiter


def _failure_keys(username: str) -> list[tuple[str, ...]]:
    keys = [("login-failures", "address", address() or "?")]
    if username:
        keys.append(("login-failures", "account", username[:100]))
    return keys


def _too_many_failures(username: str) -> int | None:
    """Seconds to wait, if the account or the address has failed too often this minute; else None."""
    strategy, limit = _failures_limiter(), parse_limit(LOGIN_FAILURES)
    waits = []
    for key in _failure_keys(username):
        if not strategy.test(limit, *key):
            reset = strategy.get_window_stats(limit, *key).reset_time
            waits.append(max(1, int(reset - time.time()) + 1))
    return max(waits) if waits else None


def _count_failure(username: str) -> None:
    strategy, limit = _failures_limiter(), parse_limit(LOGIN_FAILURES)
    for key in _failure_keys(username):
        strategy.hit(limit, *key)


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
            wait = _too_many_failures(tried)
            if wait is not None:
                raise TooManyRequests(f"Too many failed logins for this account or from this address: wait "
                                      f"{wait} second{'s' if wait != 1 else ''} and try again.", retry_after=wait)
            user = accounts().check_password(form.username.data, form.password.data)
            if user is None:
                _count_failure(tried)
                record("login_failed", user=None, detail={"username": _shown(tried)})
                problem, status = "Wrong username or password.", 200
            else:
                session.clear()  # a new session: nothing of the anonymous one carries over
                login_user(WebUser(user, session_stamp(user.username), "session"))
                session.permanent = True  # expires after PERMANENT_SESSION_LIFETIME
                record("login", user=user.username)
                return redirect(target or url_for("home.index"))
    return render_template("login.html", form=form, problem=problem, next=target), status


def _shown(text: str) -> str:
    """A tried username as the audit log keeps it: printable, at most 100 characters."""
    clean = "".join(c if c.isprintable() else "?" for c in text)
    return clean if len(clean) <= 100 else clean[:100] + "…"


@bp.post("/logout")
def logout():
    """End the session (a POST with the CSRF token), then the login page."""
    name = current_user.username
    logout_user()
    session.clear()
    record("logout", user=name)
    return redirect(url_for("auth.login"))


# -- wiring -------------------------------------------------------------------------------------


def init_app(app, accounts_db: Accounts) -> None:
    """Accounts, Flask-Login, the failed-login limiter, the login blueprint and ``require_login``."""
    app.extensions["accounts"] = accounts_db
    manager = LoginManager()
    manager.user_loader(_load_from_session)
    manager.request_loader(_load_from_token)
    manager.init_app(app)
    storage = app.config.get("RATELIMIT_STORAGE_URI") or "memory://"
    try:
        app.extensions["login_limiter"] = Limiter(get_remote_address, app=app, strategy="moving-window",
                                                  storage_uri=storage)
    except LimitsConfigurationError as error:
        # Only the scheme is named: a redis:// URI may carry a password.
        scheme = storage.partition("://")[0] or storage[:20]
        raise GraphsvcError(f"web.ratelimit_storage (GRAPHSVC_RATELIMIT_STORAGE): cannot use a {scheme!r} "
                            f"storage for failed logins: {error}") from None
    app.register_blueprint(bp)
    app.before_request(require_login)
