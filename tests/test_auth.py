"""Signing in, permissions and the web's front door (graphsvc.web.auth), and `graphsvc user demo`.

The ``app`` fixture signs in against ``web_accounts`` (one user per role, see
tests/conftest.py); ``test_can_*`` need no database.
"""

from __future__ import annotations

import json
import re
import threading
import urllib.request
from pathlib import Path

import pytest
from flask import Blueprint, jsonify

from graphsvc.accounts import ROLES, User
from graphsvc.permissions import ACTIONS, can, why_not
from graphsvc.web import auth
from graphsvc.web.auth import safe_next
from tests.conftest import PASSWORD, csrf_token_of
from tests.helpers import free_port

PAGES = ["/", "/dashboard", "/referrers", "/referrers/rf1", "/practice", "/worklists", "/worklists/new",
         "/worklists/stalled", "/worklists/ready", "/worklists/lapsed", "/worklists/follow-up",
         "/worklists/key-person-risk", "/clinicians/cn1", "/clinicians/st1", "/network", "/outreach", "/coverage"]
API_READS = [("GET", "/api/referrers/rf1"), ("GET", "/api/referrers/rf1/suggestions"), ("GET", "/api/network"),
             ("GET", "/api/practice/summary"), ("GET", "/api/status"), ("POST", "/api/match")]
MATCH_BODY = {"needs": ["adhd"], "population": "child"}
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def call(client, method, url, **kwargs):
    if method == "POST" and url.startswith("/api/match"):
        kwargs.setdefault("json", MATCH_BODY)
    return client.open(url, method=method, **kwargs)


def client_from(app, address: str):
    """A test client whose requests come from ``address``."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def user(role, clinician_id=None) -> User:
    return User(role, role, clinician_id, None)


# -- can: the permission rules -----------------------------------------------------------------

# Without context: what each role may do outright (a clinician's own-actions need their context).
OUTRIGHT = {
    "manager": set(ACTIONS),
    "intake": {"record_referral", "record_pass", "record_status", "send_update"},
    "clinician": set(),
    "analyst": {"run_queries"},
}


@pytest.mark.parametrize("role", ROLES)
def test_can_without_context(role):
    who = user(role, "cn1" if role == "clinician" else None)
    assert {a for a in ACTIONS if can(who, a)} == OUTRIGHT[role]


def test_the_actions():
    assert ACTIONS == ("refresh", "manage_accounts", "view_audit", "run_queries", "record_referral", "record_pass",
                       "record_introduction", "record_contact", "record_referral_out", "hand_over",
                       "save_referrer", "save_clinician", "save_staff", "save_provider", "work_on_rows",
                       "record_status", "send_update", "manage_vocabularies", "merge_referrers", "void_records")


@pytest.mark.parametrize("action, kwargs, expected", [
    ("record_pass", {"addressed_to": "cn1"}, True),
    ("record_pass", {"addressed_to": "cn2"}, False),
    ("record_pass", {"addressed_to": "practice"}, False),
    ("record_introduction", {"by_id": "cn1"}, True),
    ("record_introduction", {"by_id": "cn2"}, False),
    ("record_contact", {"member_id": "cn1"}, True),
    ("record_contact", {"member_id": "st1"}, False),
    ("hand_over", {"point_person_id": "cn1"}, True),
    ("hand_over", {"point_person_id": "cn2"}, False),
    ("work_on_rows", {"point_person_id": "cn1"}, True),
    ("work_on_rows", {"point_person_id": "cn2"}, False),
    ("work_on_rows", {"point_person_id": None}, False),
    ("record_status", {"assigned_to": "cn1"}, True),
    ("record_status", {"assigned_to": "cn2"}, False),
    ("send_update", {"point_person_id": "cn1"}, True),
    ("send_update", {"point_person_id": "cn2"}, False),
    # The wrong keyword is no permission.
    ("record_contact", {"by_id": "cn1"}, False),
    ("record_pass", {"member_id": "cn1"}, False),
    # Never a clinician's, whatever the context.
    ("record_referral", {"addressed_to": "cn1"}, False),
    ("record_referral_out", {"member_id": "cn1"}, False),
    ("refresh", {}, False), ("manage_accounts", {}, False), ("view_audit", {}, False),
    ("save_referrer", {"point_person_id": "cn1"}, False), ("save_clinician", {}, False),
    ("save_staff", {}, False), ("save_provider", {}, False),
])
def test_can_a_clinician_only_its_own(action, kwargs, expected):
    assert can(user("clinician", "cn1"), action, **kwargs) is expected


def test_contexts_change_nothing_for_the_other_roles():
    mine = {"addressed_to": "cn1", "by_id": "cn1", "member_id": "cn1", "point_person_id": "cn1", "assigned_to": "cn1"}
    for role in ("manager", "intake", "analyst"):
        assert {a for a in ACTIONS if can(user(role), a, **mine)} == OUTRIGHT[role]
    # A clinician account linked to no clinician owns nothing.
    assert not any(can(user("clinician"), a, **mine) for a in ACTIONS)
    assert not any(can(user("clinician"), a, addressed_to=None, by_id=None) for a in ACTIONS)


def test_why_not_says_why():
    assert why_not(user("intake"), "run_queries") == (
        "Only a manager or an analyst may run queries in the console; you are signed in as intake.")
    assert why_not(user("manager"), "save_staff") is None
    assert why_not(user("analyst"), "refresh") == (
        "Only a manager may start a full rebuild of the analysis (refresh); you are signed in as analyst.")
    assert why_not(user("analyst"), "record_pass", addressed_to="cn1") == (
        "Only a manager, intake or a clinician (its own) may record passes; you are signed in as analyst.")
    assert why_not(user("intake"), "record_contact") == (
        "Only a manager or a clinician (its own) may record contacts; you are signed in as intake.")
    assert why_not(user("clinician", "cn1"), "record_pass", addressed_to="cn2") == (
        "A clinician may record passes only of referrals addressed to it; you are clinician cn1.")
    assert why_not(user("clinician", "cn1"), "hand_over") == (
        "A clinician may hand over only referrers it is the point person of; you are clinician cn1.")
    assert why_not(None, "refresh") == "Only a signed-in user may start a full rebuild of the analysis (refresh)."
    with pytest.raises(ValueError, match="unknown action 'delete_everything'"):
        can(user("manager"), "delete_everything")


def test_safe_next_keeps_only_paths_on_this_site():
    assert [safe_next(t) for t in ("/practice", "/?stage=1&page=2", "/referrers/rf1")] == [
        "/practice", "/?stage=1&page=2", "/referrers/rf1"]
    for bad in (None, "", "practice", "//evil.example/x", "https://evil.example/", "/\\evil.example",
                "\\\\evil.example", "/\r\nLocation: x", "javascript:alert(1)", "/" + "x" * 3000):
        assert safe_next(bad) is None, bad


# -- every route, every role ---------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_every_role_reads_every_page_and_api_read(small, client_as, role):
    client = client_as(role)
    for url in PAGES:
        page = client.get(url)
        assert page.status_code == 200 and page.mimetype == "text/html", (role, url)
    for method, url in API_READS:
        answer = call(client, method, url)
        assert answer.status_code == 200 and answer.is_json, (role, method, url)
    for url in ("/healthz", "/api/openapi.json", "/static/style.css"):
        answer = client.get(url)
        assert answer.status_code == 200, (role, url)
        answer.close()


def test_anonymous_pages_redirect_to_the_login_with_next(small, anon):
    for url, wanted in (("/", "/login"), ("/referrers/rf1", "/login?next=/referrers/rf1"),
                        ("/practice", "/login?next=/practice"),
                        ("/?stage=1&page=2", "/login?next=/?stage%3D1%26page%3D2"),
                        ("/worklists/stalled", "/login?next=/worklists/stalled"), ("/network", "/login?next=/network"),
                        ("/nope", "/login?next=/nope")):
        page = anon.get(url)
        assert page.status_code == 302 and page.headers["Location"] == wanted, url
    assert anon.post("/logout").headers["Location"] == "/login?next=/logout"


def test_anonymous_api_calls_are_401_json_with_www_authenticate(small, anon):
    for method, url in [*API_READS, ("GET", "/api/nope"), ("GET", "/api/referrers/rf1?refresh=1")]:
        answer = call(anon, method, url)
        assert answer.status_code == 401 and answer.is_json, url
        assert answer.headers["WWW-Authenticate"] == 'Bearer realm="graphsvc"'
        assert answer.get_json() == {"error": "sign in first: send an API token as 'Authorization: Bearer "
                                              "<token>' (`graphsvc token create`), or sign in at /login"}


def test_public_paths(small, anon):
    assert anon.get("/login").status_code == 200
    css = anon.get("/static/style.css")
    assert css.status_code == 200
    css.close()
    assert anon.get("/api/openapi.json").status_code == 200
    assert anon.get("/healthz").status_code == 200


def test_api_tokens(small, anon, app, web_accounts):
    _, token = web_accounts.create_token("analyst", "tests")
    bearer = {"Authorization": f"Bearer {token}"}
    for method, url in API_READS:
        assert call(anon, method, url, headers=bearer).status_code == 200, url
    assert "Set-Cookie" not in anon.get("/api/status", headers=bearer).headers  # no session for a token
    # A token is for the API (and /healthz): pages want a session.
    assert anon.get("/practice", headers=bearer).status_code == 302
    for header, error in ((f"Bearer {token}x", "the API token is unknown, revoked or malformed"),
                          ("Bearer gst_0123456789abcdef_" + "A" * 43, "the API token is unknown, revoked or malformed"),
                          (f"Basic {token}", "the Authorization header must be 'Bearer <token>' "
                                             "(a token from `graphsvc token create`)"),
                          ("Bearer", "the Authorization header must be 'Bearer <token>' "
                                     "(a token from `graphsvc token create`)")):
        answer = anon.get("/api/status", headers={"Authorization": header})
        assert (answer.status_code, answer.get_json()) == (401, {"error": error}), header
        assert answer.headers["WWW-Authenticate"] == 'Bearer realm="graphsvc", error="invalid_token"'
    # A bad token is refused even beside a good session cookie.
    from tests.conftest import sign_in_client

    signed_in = sign_in_client(app, "manager")
    assert signed_in.get("/api/status").status_code == 200
    assert signed_in.get("/api/status", headers={"Authorization": "Bearer nope"}).status_code == 401
    # A revoked token is nobody.
    token_id = token.split("_")[1]
    web_accounts.revoke_token(token_id)
    assert anon.get("/api/status", headers=bearer).status_code == 401


# -- refresh: managers only -------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["intake", "clinician", "analyst"])
def test_refresh_is_for_managers(small, client_as, role):
    client = client_as(role)
    for method, url in API_READS:
        if url == "/api/status":
            continue  # takes no refresh at all (a 400)
        answer = call(client, method, url + "?refresh=1")
        assert answer.status_code == 403 and answer.is_json, url
        assert answer.get_json() == {"error": "Only a manager may start a full rebuild of the analysis (refresh); "
                                              f"you are signed in as {role}."}
        assert call(client, method, url + "?refresh=0").status_code == 200
    # Bad values are still 400s naming them, before the permission.
    assert client.get("/api/practice/summary?refresh=maybe").status_code == 400


def test_a_managers_refresh_is_answered_and_audited(small, client, web_accounts):
    assert client.get("/api/practice/summary?refresh=1").status_code == 200
    entry = web_accounts.entries(limit=1)[0]
    assert (entry["action"], entry["user"], entry["address"], entry["detail"]) == (
        "refresh", "manager", "127.0.0.1", {"path": "/api/practice/summary"})


def test_a_forbidden_action_is_a_403_page_or_json_saying_why(small, app, sign_in):
    def audit_page():
        auth.require("view_audit")
        return "the audit log"

    app.add_url_rule("/audit-test", "audit_test", audit_page)
    test_api = Blueprint("api_test", __name__, url_prefix="/api/test")
    test_api.add_url_rule("/audit", "audit", lambda: (auth.require("view_audit"), jsonify(ok=True))[1])
    app.register_blueprint(test_api)
    analyst = sign_in(app, "analyst")
    page = analyst.get("/audit-test")
    assert (page.status_code, page.mimetype) == (403, "text/html")
    html = page.get_data(as_text=True)
    assert '<link rel="stylesheet" href="/static/style.css">' in html
    assert "403 · Forbidden" in html and "Only a manager may read the audit log; you are signed in as analyst." in html
    answer = analyst.get("/api/test/audit")
    assert (answer.status_code, answer.get_json()) == (
        403, {"error": "Only a manager may read the audit log; you are signed in as analyst."})
    assert sign_in(app, "manager").get("/audit-test").get_data(as_text=True) == "the audit log"


def test_token_required_takes_a_token_not_the_session(small, app, sign_in, web_accounts):
    test_api = Blueprint("api_writes_test", __name__, url_prefix="/api/test")

    @test_api.post("/write")
    @auth.token_required
    def write():
        auth.require("record_contact", member_id="cn1")
        return jsonify(written=True, by=auth.current_user.username)

    app.register_blueprint(test_api)
    app.extensions["csrf"].exempt(test_api)
    manager = sign_in(app, "manager")
    by_cookie = manager.post("/api/test/write")
    assert by_cookie.status_code == 401 and by_cookie.get_json()["error"].startswith(
        "this endpoint takes an API token, not the session cookie")
    assert app.test_client().post("/api/test/write").status_code == 401
    for name, expected in (("clinician", 200), ("manager", 200), ("intake", 403), ("analyst", 403)):
        _, token = web_accounts.create_token(name)
        answer = app.test_client().post("/api/test/write", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == expected, name
        if expected == 200:
            assert answer.get_json() == {"written": True, "by": name}


# -- login, logout, CSRF ---------------------------------------------------------------------------


def login(client, username, password, token=None, **kwargs):
    if token is None:
        token = csrf_token_of(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token}, **kwargs)


def test_login_and_logout(small, anon, web_accounts):
    assert anon.get("/").headers["Location"] == "/login"
    form = anon.get("/login").get_data(as_text=True)
    for field in ('name="username"', 'name="password"', 'name="csrf_token"', 'method="post"'):
        assert field in form
    assert 'action="/logout"' not in form  # nobody to log out
    answer = login(anon, " Clinician ", PASSWORD)
    assert (answer.status_code, answer.headers["Location"]) == (302, "/")
    page = anon.get("/").get_data(as_text=True)
    assert re.search(r'<span class="user">clinician <span class="role">\(clinician\)</span></span>', page)
    assert '<form class="who" method="post" action="/logout">' in page
    assert anon.get("/login").headers["Location"] == "/"  # signed in already
    logout = anon.post("/logout", data={"csrf_token": csrf_token_of(page)})
    assert (logout.status_code, logout.headers["Location"]) == (302, "/login")
    assert anon.get("/").status_code == 302
    assert [(e["action"], e["user"], e["address"]) for e in web_accounts.entries()[:2]] == [
        ("logout", "clinician", "127.0.0.1"), ("login", "clinician", "127.0.0.1")]


def test_wrong_password_or_unknown_user(small, anon, web_accounts):
    for username, password in (("manager", "wrong password!"), ("nobody", PASSWORD), ("MANAGER", PASSWORD[:-1])):
        answer = login(anon, username, password)
        assert answer.status_code == 200
        assert '<p class="notice" role="alert">Wrong username or password.</p>' in answer.get_data(as_text=True)
        assert anon.get("/").status_code == 302
    empty = login(anon, "", "")
    assert "Enter your username and your password." in empty.get_data(as_text=True)
    failed = [(e["action"], e["user"], e["address"], e["detail"]) for e in web_accounts.entries()]
    assert failed == [("login_failed", None, "127.0.0.1", {"username": name})
                      for name in ("manager", "nobody", "manager")]


def test_csrf_is_required(small, anon, client):
    no_token = anon.post("/login", data={"username": "manager", "password": PASSWORD})
    assert (no_token.status_code, no_token.mimetype) == (400, "text/html")
    assert "The CSRF token is missing." in no_token.get_data(as_text=True)
    assert login(anon, "manager", PASSWORD, token="forged").status_code == 400
    assert anon.get("/").status_code == 302  # not signed in
    # Logging out takes the token too.
    assert client.post("/logout").status_code == 400
    assert client.get("/").status_code == 200
    # Another session's token does not do.
    other = csrf_token_of(anon.get("/login").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": other}).status_code == 400
    # The JSON API takes no CSRF token.
    assert client.post("/api/match", json=MATCH_BODY).status_code == 200


def test_next_stays_on_the_site(small, app, sign_in):
    for target, lands in (("/practice", "/practice"), ("/?stage=1", "/?stage=1"), ("//evil.example/", "/"),
                          ("https://evil.example/", "/"), ("/\\evil.example", "/"), ("", "/")):
        client = app.test_client()
        page = client.get("/login", query_string={"next": target}).get_data(as_text=True)
        token = csrf_token_of(page)
        if lands != "/":
            assert 'action="/login?next=' in page
        answer = client.post("/login", query_string={"next": target},
                             data={"username": "analyst", "password": PASSWORD, "csrf_token": token})
        assert answer.headers["Location"] == lands, target
    # A signed-in user sent to /login goes on to next.
    client = sign_in(app, "analyst")
    assert client.get("/login?next=/practice").headers["Location"] == "/practice"
    assert client.get("/login?next=https://evil.example/").headers["Location"] == "/"


def test_a_removed_user_or_a_new_password_or_role_ends_sessions(small, app, sign_in, web_accounts):
    clients = {name: sign_in(app, name) for name in ("analyst", "intake", "clinician", "manager")}
    assert all(c.get("/practice").status_code == 200 for c in clients.values())
    web_accounts.remove_user("analyst")
    web_accounts.set_password("intake", "a new password")
    web_accounts.set_role("clinician", "analyst")
    for name in ("analyst", "intake", "clinician"):
        assert clients[name].get("/practice").headers["Location"] == "/login?next=/practice", name
        assert clients[name].get("/api/status").status_code == 401, name
    assert clients["manager"].get("/practice").status_code == 200
    # Back with the new password.
    assert login(app.test_client(), "intake", "a new password").status_code == 302


def test_a_session_cookie_from_another_key_is_nobody(small, app, client):
    from graphsvc.web import create_app

    other = create_app({"TESTING": True, "SECRET_KEY": "another key"}, graph=app.extensions["graph"],
                       settings=app.extensions["graph"].settings, accounts=app.extensions["accounts"])
    forged = other.test_client()
    forged.set_cookie("session", client.get_cookie("session").value)
    assert forged.get("/practice").status_code == 302


# -- failed logins are throttled ---------------------------------------------------------------------------


def test_failures_from_many_addresses_delay_one_account_but_never_lock_it(small, app, web_accounts):
    assert login(client_from(app, "10.0.0.100"), "manager", PASSWORD).status_code == 302  # its usual address
    for n in range(10):
        client = client_from(app, f"10.0.0.{n + 1}")
        assert login(client, "manager", "wrong password!").status_code == 200
    client = client_from(app, "10.0.0.50")
    assert login(client, "manager", "wrong password!").status_code == 200  # an address's first try goes
    for password in ("wrong password!", PASSWORD):  # then it waits, the right password too
        answer = login(client, "MANAGER", password)
        assert (answer.status_code, answer.mimetype) == (429, "text/html")
        text = answer.get_data(as_text=True)
        assert "Too many failed logins for this account or from this address: wait" in text
        assert 1 <= int(answer.headers["Retry-After"]) <= 60
    # From the address it signs in from, from an address that has not failed, and for another account,
    # nothing waits.
    assert login(client_from(app, "10.0.0.100"), "manager", PASSWORD).status_code == 302
    assert login(client_from(app, "10.0.0.60"), "manager", PASSWORD).status_code == 302
    assert login(client, "analyst", PASSWORD).status_code == 302


def test_failures_from_one_address_over_many_accounts_delay_that_address(small, app, web_accounts):
    client = client_from(app, "10.1.1.1")
    for n in range(20):
        assert login(client, f"guess{n}", "wrong password!").status_code == 200
    assert login(client, "analyst", PASSWORD).status_code == 429
    assert login(client, "guess99", "wrong password!").status_code == 429
    # Another address still signs in; the failures and the waits were audited.
    other = client_from(app, "10.1.1.2")
    assert login(other, "analyst", PASSWORD).status_code == 302
    assert [e["action"] for e in web_accounts.entries()] == ["login"] + ["login throttled"] * 2 + \
        ["login_failed"] * 20


def test_good_logins_do_not_count(small, app):
    for _ in range(8):
        assert login(client_from(app, "10.2.2.2"), "analyst", PASSWORD).status_code == 302


# -- headers and cookies ------------------------------------------------------------------------------


def test_security_headers_everywhere(small, client, anon):
    answers = {"page": client.get("/practice"), "api": client.get("/api/status"), "404 page": client.get("/nope"),
               "404 api": client.get("/api/nope"), "login": anon.get("/login"), "401": anon.get("/api/status"),
               "redirect": anon.get("/"), "static": anon.get("/static/style.css"), "healthz": anon.get("/healthz")}
    assert answers["404 page"].status_code == 404 and answers["404 api"].status_code == 404
    for what, answer in answers.items():
        headers = answer.headers
        assert headers["Content-Security-Policy"] == CSP, what
        assert (headers["X-Frame-Options"], headers["X-Content-Type-Options"], headers["Referrer-Policy"]) == (
            "DENY", "nosniff", "same-origin"), what
        assert headers.getlist("Server") == ["graphsvc"], what
        answer.close()


def test_templates_have_no_inline_script_or_style():
    folder = Path(auth.__file__).parent / "templates"
    for path in folder.rglob("*.html"):
        text = path.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), path
        assert not re.search(r"\sstyle\s*=|<style|\son[a-z]+\s*=", text), path


def test_session_cookie_flags(small, app):
    client = app.test_client()
    token = csrf_token_of(client.get("/login").get_data(as_text=True))
    cookie = login(client, "analyst", PASSWORD, token=token).headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    secure = app.test_client()
    token = csrf_token_of(secure.get("/login", base_url="https://localhost").get_data(as_text=True))
    cookie = secure.post("/login", base_url="https://localhost", headers={"Referer": "https://localhost/login"},
                         data={"username": "analyst", "password": PASSWORD, "csrf_token": token}).headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie
    app.config["SESSION_COOKIE_SECURE"] = True
    client = app.test_client()
    assert "Secure" in client.get("/login").headers["Set-Cookie"]  # the CSRF token's session


def test_the_server_names_no_version(small, app):
    """`graphsvc serve`'s request handler, on a real socket."""
    from werkzeug.serving import make_server

    from graphsvc.cli.serve import RequestHandler

    server = make_server("127.0.0.1", free_port(), app, threaded=True, request_handler=RequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/login") as answer:
            assert answer.headers.get_all("Server") == ["graphsvc"]
            assert answer.headers["Content-Security-Policy"] == CSP
    finally:
        server.shutdown()
        thread.join(5)


def test_under_gunicorn_one_server_header_without_a_version(small, neo4j_env, tmp_path):
    """The Docker image's server: gunicorn writes ``Server: gunicorn`` itself; the app adds no second one."""
    import os
    import subprocess
    import sys
    import time

    port = free_port()
    env = {**os.environ, **neo4j_env, "GRAPHSVC_CONFIG": os.devnull, "GRAPHSVC_DATA_DIR": str(tmp_path),
           "GRAPHSVC_SNAPSHOT_DIR": str(tmp_path / "snapshots"), "GRAPHSVC_LOG_FILE": str(tmp_path / "log")}
    server = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "--bind", f"127.0.0.1:{port}",
                               "--workers", "1", "graphsvc.web.wsgi:app"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as answer:
                    assert answer.headers.get_all("Server") == ["gunicorn"]
                    assert answer.headers["Content-Security-Policy"] == CSP
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(server.stderr.read().decode() if server.poll() is not None
                                         else "gunicorn did not answer in 60 s") from None
                time.sleep(0.3)
    finally:
        server.terminate()
        server.wait(20)


# -- healthz and errors for anonymous callers ------------------------------------------------------------


def test_healthz_shows_the_database_only_to_signed_in_callers(small, anon, client, web_accounts, neo4j_settings):
    assert anon.get("/healthz").get_json() == {"status": "ok"}
    full = {"status": "ok", "neo4j": neo4j_settings.uri, "database": neo4j_settings.neo4j_database}
    assert client.get("/healthz").get_json() == full
    _, token = web_accounts.create_token("analyst")
    assert anon.get("/healthz", headers={"Authorization": f"Bearer {token}"}).get_json() == full


def test_healthz_down_hides_the_uri_from_anonymous_callers(web_accounts):
    from neo4j import GraphDatabase

    from graphsvc.config import Settings
    from graphsvc.store.db import Graph
    from graphsvc.web import create_app

    uri = f"bolt://127.0.0.1:{free_port()}"
    settings = Settings.load(environ={}, neo4j_uri=uri, neo4j_password="unused")
    driver = GraphDatabase.driver(uri, auth=("neo4j", "unused"), connection_timeout=2, max_transaction_retry_time=0)
    try:
        app = create_app({"TESTING": True, "SECRET_KEY": "k"}, graph=Graph(settings, driver), settings=settings,
                         accounts=web_accounts)
        answer = app.test_client().get("/healthz")
        assert (answer.status_code, answer.get_json()) == (503, {"error": "the database is not reachable"})
        assert "127.0.0.1" not in answer.get_data(as_text=True)
        _, token = web_accounts.create_token("analyst")
        signed = app.test_client().get("/healthz", headers={"Authorization": f"Bearer {token}"})
        assert signed.status_code == 503 and uri in signed.get_json()["error"]
    finally:
        driver.close()


def test_the_openapi_document_says_how_to_authenticate(anon):
    spec = anon.get("/api/openapi.json").get_json()
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert spec["security"] == [{"bearer": []}, {"session": []}]
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert "401" in operation["responses"], (method, path)
            takes_refresh = any(p["name"] == "refresh" for p in operation["parameters"])
            writes = method in ("post", "put") and path != "/api/match"
            assert ("403" in operation["responses"]) == (takes_refresh or writes), (method, path)
            # A write takes the token only.
            assert operation.get("security", spec["security"]) == ([{"bearer": []}] if writes else spec["security"])


# -- graphsvc user demo ------------------------------------------------------------------------------------


@pytest.fixture
def demo_env(monkeypatch, tmp_path):
    db = tmp_path / "private" / "accounts.sqlite3"
    monkeypatch.setenv("GRAPHSVC_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("GRAPHSVC_ACCOUNTS_DB", str(db))
    monkeypatch.setattr("getpass.getuser", lambda: "tester")
    return db


def test_user_demo_creates_a_manager_and_the_busiest_point_person(small, cli, demo_env):
    from graphsvc.accounts import Accounts

    first = cli("user", "demo")
    assert first.exit_code == 0, first.output
    lines = first.output.splitlines()
    manager = re.fullmatch(r"Created user manager \(manager\): password (\S+)", lines[0])
    # cn2 (Ben Okafor) is the point person of rf2 and rf3; cn1 of rf1 only.
    clinician = re.fullmatch(r"Created user clinician \(clinician, clinician cn2 \(Ben Okafor, point person "
                             r"of 2 referrers\)\): password (\S+)", lines[1])
    assert manager and clinician, first.output
    assert lines[2] == "The passwords are shown only now: graphsvc keeps only their hashes."
    accounts = Accounts(demo_env)
    assert accounts.check_password("manager", manager.group(1)).role == "manager"
    linked = accounts.check_password("clinician", clinician.group(1))
    assert (linked.role, linked.clinician_id) == ("clinician", "cn2")
    assert len(manager.group(1)) == 16 and manager.group(1) != clinician.group(1)
    assert [(e["action"], e["user"], e["ids"]) for e in accounts.entries()] == [
        ("user add", "cli:tester", ["clinician"]), ("user add", "cli:tester", ["manager"])]
    # Again: nothing changes, and no password is shown.
    again = cli("user", "demo")
    assert again.exit_code == 0
    assert again.output.splitlines() == [
        "User manager exists (manager); its password is not shown again. "
        "Set a new one with: graphsvc user passwd manager",
        "User clinician exists (clinician); its password is not shown again. "
        "Set a new one with: graphsvc user passwd clinician"]
    assert accounts.check_password("manager", manager.group(1)) is not None
    as_json = json.loads(cli("user", "demo", "--json").output)
    assert [(u["username"], u["created"], u["password"]) for u in as_json] == [
        ("manager", False, None), ("clinician", False, None)]


def test_user_demo_needs_the_practice_first(graph, cli, demo_env):
    answer = cli("user", "demo")
    assert answer.exit_code == 1
    assert "no referrer has a point person yet: import the practice first" in answer.output


def test_trusted_proxies_only_when_configured(small, app, web_accounts):
    forwarded = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
    client = app.test_client()
    token = csrf_token_of(client.get("/login", headers=forwarded).get_data(as_text=True))
    answer = login(client, "analyst", PASSWORD, token=token, headers=forwarded)
    assert "Secure" not in answer.headers["Set-Cookie"]
    assert web_accounts.entries(limit=1)[0]["address"] == "127.0.0.1"  # the header is not believed


def test_trusted_proxies_set_the_address_and_scheme(small, graph, neo4j_settings, web_accounts):
    from graphsvc.web import create_app

    app = create_app({"TESTING": True, "SECRET_KEY": "k", "TRUSTED_PROXIES": 1}, graph=graph,
                     settings=neo4j_settings, accounts=web_accounts)
    forwarded = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
    client = app.test_client()
    token = csrf_token_of(client.get("/login", headers=forwarded).get_data(as_text=True))
    answer = client.post("/login", headers={**forwarded, "Referer": "https://localhost/login"},
                         data={"username": "analyst", "password": PASSWORD, "csrf_token": token})
    assert answer.status_code == 302 and "Secure" in answer.headers["Set-Cookie"]
    assert web_accounts.entries(limit=1)[0]["address"] == "203.0.113.7"


def test_serve_uses_the_bannerless_handler_and_says_when_nobody_can_sign_in(cli, demo_env, monkeypatch):
    from flask import Flask

    from graphsvc.accounts import Accounts
    from graphsvc.cli.serve import RequestHandler

    runs = []
    monkeypatch.setattr(Flask, "run", lambda self, **kwargs: runs.append(kwargs))
    first = cli("serve", "--dev", "--port", "5999")
    assert first.exit_code == 0, first.output
    assert runs[0]["request_handler"] is RequestHandler and runs[0]["port"] == 5999
    assert "No accounts yet, so nobody can sign in: add the first manager with " in first.output
    Accounts(demo_env).add_user("boss", "manager", PASSWORD)
    assert "No accounts yet" not in cli("serve", "--dev").output


def test_the_web_door_settings_reach_the_app(small, graph, tmp_path, web_accounts):
    from graphsvc.config import Settings
    from graphsvc.web import create_app

    settings = Settings.load({"GRAPHSVC_COOKIE_SECURE": "true", "GRAPHSVC_TRUSTED_PROXIES": "1",
                              "GRAPHSVC_RATELIMIT_STORAGE": "memory://", "GRAPHSVC_DATA_DIR": str(tmp_path)})
    assert (settings.web_cookie_secure, settings.web_trusted_proxies, settings.web_ratelimit_storage) == \
        (True, 1, "memory://")
    app = create_app({"TESTING": True, "SECRET_KEY": "k"}, graph=graph, settings=settings, accounts=web_accounts)
    assert (app.config["SESSION_COOKIE_SECURE"], app.config["TRUSTED_PROXIES"]) == (True, 1)
    client = app.test_client()
    token = csrf_token_of(client.get("/login").get_data(as_text=True))
    answer = login(client, "analyst", PASSWORD, token=token, headers={"X-Forwarded-For": "203.0.113.9"})
    assert answer.status_code == 302 and "Secure" in answer.headers["Set-Cookie"]  # over plain HTTP
    assert web_accounts.entries(limit=1)[0]["address"] == "203.0.113.9"


@pytest.mark.parametrize("uri, scheme", [("bogus://x", "bogus"), ("redis://:s3cret@localhost:1", "redis")])
def test_an_unusable_ratelimit_storage_is_a_clear_error_without_its_password(graph, tmp_path, web_accounts,
                                                                           uri, scheme):
    from graphsvc.config import Settings
    from graphsvc.errors import GraphsvcError
    from graphsvc.web import create_app

    settings = Settings.load({"GRAPHSVC_RATELIMIT_STORAGE": uri, "GRAPHSVC_DATA_DIR": str(tmp_path)})
    with pytest.raises(GraphsvcError) as caught:
        create_app({"TESTING": True, "SECRET_KEY": "k"}, graph=graph, settings=settings, accounts=web_accounts)
    message = str(caught.value)
    assert message.startswith(f"web.ratelimit_storage (GRAPHSVC_RATELIMIT_STORAGE): cannot use a '{scheme}' "
                              "storage for failed logins: ")
    assert "s3cret" not in message
