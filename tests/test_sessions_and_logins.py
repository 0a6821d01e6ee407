"""Hardening round two: sessions that end on the server, logins throttled without lockout, password
strength, ``Cache-Control: no-store`` and the audit of refusals (graphsvc.accounts, graphsvc.web.auth).

Time is moved with ``Accounts.clock`` (a function the tests replace), never by sleeping.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner

from graphsvc.accounts import Accounts, LoginWait, password_problem
from graphsvc.config import Settings
from graphsvc.errors import InvalidInput
from tests.conftest import FAST_HASHER, PASSWORD, csrf_token_of, sign_in_client
from tests.helpers import snapshot

IDLE, LIFETIME = timedelta(minutes=30), timedelta(hours=12)


class Clock:
    """A settable "now" for ``Accounts.clock``."""

    def __init__(self, start: datetime | None = None):
        self.now = start or datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def accounts(tmp_path, clock) -> Accounts:
    accounts = Accounts(tmp_path / "private" / "accounts.sqlite3", hasher=PasswordHasher(**FAST_HASHER))
    accounts.clock = clock
    for name, role in (("alice", "manager"), ("bob", "analyst"), ("carl", "intake")):
        accounts.add_user(name, role, PASSWORD)
    return accounts


def counting_writes(monkeypatch, accounts) -> list:
    """Count the write transactions ``accounts`` opens from now on."""
    writes, real = [], accounts._write

    def counted():
        writes.append(1)
        return real()

    monkeypatch.setattr(accounts, "_write", counted)
    return writes


# -- passwords -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("password, message", [
    ("aaaaaaaaaa", "field 'password': too easy to guess (strength 0 of 4, at least 3 needed): Repeats like "
                   "\"aaa\" are easy to guess. Add another word or two. Uncommon words are better. Avoid "
                   "repeated words and characters."),
    ("password12", "field 'password': too easy to guess (strength 1 of 4, at least 3 needed): This is a very "
                   "common password. Add another word or two. Uncommon words are better."),
])
def test_weak_passwords_are_refused_with_the_reason(accounts, password, message):
    assert password_problem(password, "dora") == message
    with pytest.raises(InvalidInput) as e:
        accounts.add_user("dora", "analyst", password)
    assert str(e.value) == message
    with pytest.raises(InvalidInput) as e:
        accounts.set_password("bob", password)
    assert str(e.value) == message
    assert not accounts.exists("dora") and accounts.check_password("bob", PASSWORD) is not None


def test_the_username_is_among_the_words_the_estimator_tries(accounts):
    assert password_problem("xqzvbrennt77") is None  # strong for anyone else
    assert password_problem("xqzvbrennt77", "xqzvbrennt").startswith("field 'password': too easy to guess")
    with pytest.raises(InvalidInput, match="too easy to guess"):
        accounts.add_user("xqzvbrennt", "analyst", "xqzvbrennt77")
    # Its parts too: a.b@c gives a, b and c.
    assert password_problem("Quillwyndham", "wyndham.quill@example.org").startswith(
        "field 'password': too easy to guess")
    assert password_problem("Quillwyndham") is None


@pytest.mark.parametrize("password", ["anaprobe2026", "ana.probe.ana.probe", "probeana2026!", "Probe-Ana-2026!"])
def test_a_password_made_of_the_username_is_refused_however_it_is_arranged(password):
    """A probe found these scored 3 by zxcvbn for user ana.probe: the username whole, twice, or its parts
    swapped, with digits or punctuation."""
    assert password_problem(password, "ana.probe") == (
        "field 'password': too easy to guess: it is made of the username (and digits or punctuation). Add a few "
        "words of your own.")
    assert password_problem("ana likes red kites", "ana.probe") is None  # the name among words of one's own


@pytest.mark.parametrize("password", ["clinician2026", "referral2026", "manager2026!"])
def test_the_practices_own_words_are_tried_first(password):
    assert password_problem(password, "ana.probe").startswith("field 'password': too easy to guess (strength")


def test_the_length_rule_comes_first_and_the_fixtures_password_is_strong():
    assert password_problem("short") == "field 'password': must be at least 10 characters (got 5)"
    assert password_problem("x" * 1025) == "field 'password': must be at most 1024 characters (got 1025)"
    for name in ("manager", "intake", "clinician", "analyst", "alice"):
        assert password_problem(PASSWORD, name) is None
    # Only the first 72 characters are judged (zxcvbn's own limit): a long one is no error.
    assert password_problem("Qx7!vT2#" + "p" * 1000) is None


def run_cli(db, *args, input=None):
    from graphsvc.cli import main

    return CliRunner().invoke(main, list(args), input=input, env={"GRAPHSVC_ACCOUNTS_DB": str(db)})


@pytest.mark.parametrize("weak", ["aaaaaaaaaa", "password12"])
def test_the_cli_refuses_weak_passwords_with_the_reason(accounts, weak):
    db = accounts.path
    added = run_cli(db, "user", "add", "dora", "--role", "analyst", input=weak + "\n")
    assert added.exit_code == 1
    assert added.output == f"Error: {password_problem(weak, 'dora')}\n"
    assert "too easy to guess" in added.output and "Traceback" not in added.output
    changed = run_cli(db, "user", "passwd", "bob", input=weak + "\n")
    assert (changed.exit_code, changed.output) == (1, f"Error: {password_problem(weak, 'bob')}\n")
    assert not accounts.exists("dora") and accounts.check_password("bob", PASSWORD) is not None
    assert [e["action"] for e in accounts.entries()] == []
    # The username counts on the command line too.
    named = run_cli(db, "user", "add", "xqzvbrennt", "--role", "analyst", input="xqzvbrennt77\n")
    assert named.exit_code == 1 and "too easy to guess" in named.output


def test_the_cli_prompt_asks_again_for_a_weak_password(monkeypatch):
    from graphsvc.cli.accounts import _read_password

    said = []

    def prompt(text, **kwargs):
        for weak in ("aaaaaaaaaa", "xqzvbrennt77"):
            with pytest.raises(Exception) as e:
                kwargs["value_proc"](weak)
            said.append(str(e.value.message))
        return kwargs["value_proc"](PASSWORD)

    class Terminal:
        @staticmethod
        def isatty():
            return True

    monkeypatch.setattr("click.prompt", prompt)
    monkeypatch.setattr("sys.stdin", Terminal)
    assert _read_password("Password for xqzvbrennt", "xqzvbrennt") == PASSWORD
    assert [s.split(":")[0] for s in said] == ["too easy to guess (strength 0 of 4, at least 3 needed)",
                                               "too easy to guess"]  # made of the username


# -- sessions in the accounts database ----------------------------------------------------------------------


def test_a_session_lives_until_it_is_ended(accounts):
    sid = accounts.start_session("Alice")
    with sqlite3.connect(accounts.path) as db:  # only its hash is kept
        assert db.execute("SELECT id_sha256 FROM sessions").fetchall() == [(hashlib.sha256(sid.encode()).hexdigest(),)]
    assert len(sid) >= 43
    assert accounts.session_user(sid, idle=IDLE, lifetime=LIFETIME).username == "alice"
    assert accounts.session_user("nope", idle=IDLE, lifetime=LIFETIME) is None
    assert accounts.end_session(sid) is True
    assert accounts.session_user(sid, idle=IDLE, lifetime=LIFETIME) is None
    assert accounts.end_session(sid) is False
    assert [(s["username"], s["ended_why"]) for s in accounts.sessions("alice")] == [("alice", "logout")]


def test_a_new_password_role_or_removal_ends_every_session_of_the_account(accounts):
    sids = {name: [accounts.start_session(name), accounts.start_session(name)] for name in ("alice", "bob", "carl")}
    other = accounts.start_session("alice")
    accounts.add_user("dora", "manager", PASSWORD)
    accounts.set_role("bob", "analyst")  # the same role: nothing changed, nothing ends
    assert all(accounts.session_user(s, idle=IDLE, lifetime=LIFETIME) for s in sids["bob"])
    accounts.set_password("alice", "a brand new passphrase")
    accounts.set_role("bob", "intake")
    accounts.remove_user("carl")
    for name in ("alice", "bob", "carl"):
        for sid in sids[name]:
            assert accounts.session_user(sid, idle=IDLE, lifetime=LIFETIME) is None, name
    assert accounts.session_user(other, idle=IDLE, lifetime=LIFETIME) is None
    why = {(s["username"], s["ended_why"]) for s in accounts.sessions()}
    assert why == {("alice", "password changed"), ("bob", "role changed"), ("carl", "user removed")}
    # Re-added, carl's old sessions stay ended.
    accounts.add_user("carl", "intake", PASSWORD)
    assert all(accounts.session_user(s, idle=IDLE, lifetime=LIFETIME) is None for s in sids["carl"])
    assert accounts.end_sessions("dora") == 0


def test_idle_and_absolute_limits(accounts, clock):
    idle = accounts.start_session("alice")
    clock.advance(minutes=29, seconds=59)
    assert accounts.session_user(idle, idle=IDLE, lifetime=LIFETIME) is not None  # seen: idle starts again
    clock.advance(minutes=29, seconds=59)
    assert accounts.session_user(idle, idle=IDLE, lifetime=LIFETIME) is not None
    clock.advance(minutes=30)
    assert accounts.session_user(idle, idle=IDLE, lifetime=LIFETIME) is None
    clock.advance(seconds=1)  # ended stays ended
    assert accounts.session_user(idle, idle=IDLE, lifetime=LIFETIME) is None

    busy = accounts.start_session("alice")
    for _ in range(12 * 3 - 1):  # a request every 20 minutes, for 11 h 40 min
        clock.advance(minutes=20)
        assert accounts.session_user(busy, idle=IDLE, lifetime=LIFETIME) is not None
    clock.advance(minutes=20)  # 12 hours after it began
    assert accounts.session_user(busy, idle=IDLE, lifetime=LIFETIME) is None
    assert [s["ended_why"] for s in accounts.sessions("alice")] == ["too old", "idle"]


def test_last_seen_is_written_at_most_once_a_minute(accounts, clock, monkeypatch):
    sid = accounts.start_session("alice")
    writes = counting_writes(monkeypatch, accounts)
    for _ in range(59):
        clock.advance(seconds=1)
        assert accounts.session_user(sid, idle=IDLE, lifetime=LIFETIME) is not None
    assert writes == []
    clock.advance(seconds=1)
    accounts.session_user(sid, idle=IDLE, lifetime=LIFETIME)
    assert len(writes) == 1
    assert accounts.sessions("alice")[0]["last_seen_at"] == clock.now
    for _ in range(30):
        clock.advance(seconds=1)
        accounts.session_user(sid, idle=IDLE, lifetime=LIFETIME)
    assert len(writes) == 1


def test_user_logout_ends_every_web_session_of_the_account(accounts, monkeypatch):
    monkeypatch.setattr("getpass.getuser", lambda: "tester")
    sids = [accounts.start_session("bob"), accounts.start_session("bob")]
    alices = accounts.start_session("alice")
    _, token = accounts.create_token("bob")
    ended = run_cli(accounts.path, "user", "logout", "BOB")
    assert (ended.exit_code, ended.output) == (0, "Ended 2 web sessions of bob.\n")
    assert all(accounts.session_user(s, idle=IDLE, lifetime=LIFETIME) is None for s in sids)
    assert accounts.session_user(alices, idle=IDLE, lifetime=LIFETIME) is not None
    assert accounts.user_for_token(token).username == "bob"  # tokens stay
    entry = accounts.entries(limit=1)[0]
    assert (entry["user"], entry["action"], entry["ids"], entry["detail"]) == (
        "cli:tester", "user logout", ["bob"], {"sessions_ended": 2})
    again = run_cli(accounts.path, "user", "logout", "bob", "--json")
    assert json.loads(again.output) == {"username": "bob", "sessions_ended": 0}
    unknown = run_cli(accounts.path, "user", "logout", "dora")
    assert (unknown.exit_code, unknown.output) == (1, "Error: unknown user 'dora'\n")


def test_an_accounts_file_from_before_gets_the_new_tables(accounts):
    with sqlite3.connect(accounts.path) as db:
        for table in ("sessions", "login_failures", "login_addresses"):
            db.execute(f"DROP TABLE {table}")
    again = Accounts(accounts.path)
    sid = again.start_session("alice")
    assert again.session_user(sid, idle=IDLE, lifetime=LIFETIME).username == "alice"
    assert again.begin_login("alice", "10.0.0.1") is None


# -- failed logins in the accounts database ---------------------------------------------------------------


def fail(accounts, username="alice", address="10.0.0.1"):
    """One attempt that turns out wrong: the wait, if it had to wait, else None (and a failure counted)."""
    return accounts.begin_login(username, address)


def test_one_account_from_one_address_waits_longer_and_longer(accounts, clock):
    for _ in range(3):
        assert fail(accounts) is None
    waits = []
    for _ in range(9):
        wait = fail(accounts)
        assert wait is not None and wait.why == "this account from this address"
        waits.append(wait.seconds)
        clock.advance(seconds=wait.seconds - 0.5)
        assert fail(accounts).seconds == 1  # still waiting: half a second left, and not counted
        clock.advance(seconds=0.5)
        assert fail(accounts) is None  # its turn: counted, the next waits longer
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    # Another account from the same address, or the same account from another, is not held up.
    assert fail(accounts, "bob") is None and fail(accounts, "alice", "10.0.0.2") is None


def test_a_success_or_a_quarter_hour_of_quiet_starts_again(accounts, clock):
    for _ in range(3):
        fail(accounts)
    assert fail(accounts) == LoginWait(1, "this account from this address")
    clock.advance(seconds=1)
    assert accounts.begin_login("alice", "10.0.0.1") is None
    accounts.login_succeeded("alice", "10.0.0.1")
    for _ in range(3):
        assert fail(accounts) is None
    assert fail(accounts) is not None
    clock.advance(minutes=15, seconds=1)
    for _ in range(3):
        assert fail(accounts) is None
    assert fail(accounts) is not None


def test_attempts_sent_together_are_counted_before_their_passwords_are_checked(accounts):
    begun = [accounts.begin_login("alice", "10.0.0.1") for _ in range(3)]  # no answer yet
    assert begun == [None, None, None]
    assert accounts.begin_login("alice", "10.0.0.1") == LoginWait(1, "this account from this address")


def test_one_address_spraying_many_accounts_waits(accounts, clock):
    for n in range(20):
        assert fail(accounts, f"user{n}", "10.6.6.6") is None
    wait = fail(accounts, "alice", "10.6.6.6")  # even an account it never tried, even the right password
    assert wait == LoginWait(1, "this address")
    clock.advance(seconds=1)
    assert fail(accounts, "bob", "10.6.6.6") is None
    assert fail(accounts, "bob", "10.6.6.6") == LoginWait(2, "this address")
    assert fail(accounts, "bob", "10.7.7.7") is None  # other addresses are not


def test_many_addresses_on_one_account_delay_only_addresses_it_does_not_sign_in_from(accounts, clock):
    assert accounts.begin_login("alice", "192.0.2.1") is None
    accounts.login_succeeded("alice", "192.0.2.1")  # alice's own address
    for n in range(10):
        assert fail(accounts, "alice", f"10.8.0.{n}") is None
    assert fail(accounts, "alice", "10.8.0.1") == LoginWait(1, "this account from many addresses")
    assert accounts.begin_login("alice", "192.0.2.1") is None  # never held up by others' failures
    accounts.login_succeeded("alice", "192.0.2.1")
    # Nor is an address that has not failed on the account: a new network's first try goes through.
    assert accounts.begin_login("alice", "198.51.100.7") is None
    accounts.login_succeeded("alice", "198.51.100.7")
    clock.advance(seconds=1)
    assert fail(accounts, "alice", "10.8.0.1") is None  # a delay, never a lock
    # One address failing over and over counts once (its own pair's delays hold it).
    for _ in range(3):
        fail(accounts, "bob", "10.9.0.1")
    assert fail(accounts, "bob", "10.9.0.2") is None


def test_failures_are_shared_by_every_process_using_the_file(accounts):
    for _ in range(3):
        fail(accounts)
    another = Accounts(accounts.path)  # another worker
    another.clock = accounts.clock
    assert another.begin_login("ALICE ", "10.0.0.1") == LoginWait(1, "this account from this address")


# -- the web: sessions ------------------------------------------------------------------------------------


@pytest.fixture
def web_clock(web_accounts) -> Clock:
    clock = Clock()
    web_accounts.clock = clock
    return clock


def test_a_cookie_replayed_after_logout_opens_nothing_and_writes_nothing(small, graph, app, web_accounts, web_clock):
    manager = sign_in_client(app, "manager")
    saved = manager.get_cookie("session").value
    form = manager.get("/referrers/rf1/contacts/new").get_data(as_text=True)
    token = csrf_token_of(form)
    assert manager.get("/audit").status_code == 200
    page = manager.get("/practice").get_data(as_text=True)
    assert manager.post("/logout", data={"csrf_token": csrf_token_of(page)}).headers["Location"] == "/login"
    replay = app.test_client()
    replay.set_cookie("session", saved)
    answer = replay.get("/audit")
    assert (answer.status_code, answer.headers["Location"]) == (302, "/login?next=/audit")
    before, audited = snapshot(graph), len(web_accounts.entries())
    write = replay.post("/referrers/rf1/contacts/new", data={"id": "k9", "date": "2024-06-10", "member_id": "cn1",
                                                             "kind": "lunch", "csrf_token": token})
    assert (write.status_code, write.headers["Location"]) == (302, "/login?next=/referrers/rf1/contacts/new")
    api = replay.get("/api/status")
    assert (api.status_code, api.is_json) == (401, True)
    assert replay.post("/api/contacts", json={"id": "k9", "date": "2024-06-10", "referrer_id": "rf1",
                                               "member_id": "cn1", "kind": "lunch"}).status_code == 401
    assert snapshot(graph) == before and len(web_accounts.entries()) == audited
    assert [s["ended_why"] for s in web_accounts.sessions("manager")] == ["logout"]


def test_a_cookie_of_the_old_kind_is_nobody(small, app):
    """Before sessions were kept on the server the cookie held ``<username>|<stamp>``: after the upgrade
    such a cookie opens nothing; its user signs in again."""
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = "manager|" + "0" * 32
        session["_fresh"] = True
    assert client.get("/practice").headers["Location"] == "/login?next=/practice"
    assert client.get("/api/status").status_code == 401


@pytest.mark.parametrize("change", ["password", "role", "remove"])
def test_a_new_password_or_role_or_removal_refuses_a_saved_cookie(small, app, web_accounts, web_clock, change):
    analyst = sign_in_client(app, "analyst")
    saved = analyst.get_cookie("session").value
    assert analyst.get("/practice").status_code == 200
    if change == "password":
        web_accounts.set_password("analyst", "a brand new passphrase")
    elif change == "role":
        web_accounts.set_role("analyst", "intake")
    else:
        web_accounts.remove_user("analyst")
    replay = app.test_client()
    replay.set_cookie("session", saved)
    assert replay.get("/practice").headers["Location"] == "/login?next=/practice"
    assert replay.get("/api/status").status_code == 401


def test_idle_and_absolute_limits_on_the_web(small, app, web_accounts, web_clock):
    client = sign_in_client(app, "analyst")
    web_clock.advance(minutes=29)
    assert client.get("/practice").status_code == 200
    web_clock.advance(minutes=30)
    answer = client.get("/practice")
    assert (answer.status_code, answer.headers["Location"]) == (302, "/login?next=/practice")
    assert client.get("/api/status").status_code == 401

    busy = sign_in_client(app, "analyst")
    for _ in range(35):
        web_clock.advance(minutes=20)
        assert busy.get("/api/status").status_code == 200
    web_clock.advance(minutes=20)  # 12 hours after signing in
    assert busy.get("/practice").headers["Location"] == "/login?next=/practice"
    assert [s["ended_why"] for s in web_accounts.sessions("analyst")] == ["too old", "idle"]


def test_the_session_settings_reach_the_app(graph, tmp_path, web_accounts):
    from graphsvc.web import create_app

    settings = Settings.load({"GRAPHSVC_SESSION_IDLE_MINUTES": "5", "GRAPHSVC_SESSION_MAX_HOURS": "2",
                              "GRAPHSVC_DATA_DIR": str(tmp_path)})
    assert (settings.web_session_idle_minutes, settings.web_session_max_hours) == (5, 2)
    assert settings.explain()["web.session_idle_minutes"] == {
        "value": 5, "source": "environment GRAPHSVC_SESSION_IDLE_MINUTES", "env": "GRAPHSVC_SESSION_IDLE_MINUTES",
        "field": "web_session_idle_minutes"}
    defaults = Settings.load({})
    assert (defaults.web_session_idle_minutes, defaults.web_session_max_hours) == (30, 12)
    app = create_app({"TESTING": True, "SECRET_KEY": "k"}, graph=graph, settings=settings, accounts=web_accounts)
    assert (app.config["SESSION_IDLE_MINUTES"], app.config["SESSION_MAX_HOURS"]) == (5, 2)
    assert app.config["PERMANENT_SESSION_LIFETIME"] == timedelta(hours=2)
    clock = Clock()
    web_accounts.clock = clock
    client = sign_in_client(app, "analyst")
    clock.advance(minutes=5)
    assert client.get("/api/status").status_code == 401
    from graphsvc.errors import GraphsvcError

    with pytest.raises(GraphsvcError, match="must be at least 1, got 0"):
        Settings.load({"GRAPHSVC_SESSION_IDLE_MINUTES": "0"})


def test_requests_do_not_write_the_accounts_database_each_time(small, app, web_accounts, web_clock, monkeypatch):
    client = sign_in_client(app, "analyst")
    writes = counting_writes(monkeypatch, web_accounts)
    for _ in range(20):
        web_clock.advance(seconds=2)
        assert client.get("/api/status").status_code == 200
    assert writes == []
    web_clock.advance(seconds=30)
    assert client.get("/api/status").status_code == 200
    assert len(writes) == 1  # last_seen, once a minute


# -- the web: failed logins ---------------------------------------------------------------------------------


def login_from(app, address: str, username: str, password: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    token = csrf_token_of(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})


def test_failed_logins_wait_with_retry_after_and_are_audited(small, app, web_accounts, web_clock):
    for _ in range(3):
        assert login_from(app, "10.0.0.1", "manager", "wrong password!").status_code == 200
    answer = login_from(app, "10.0.0.1", "MANAGER", PASSWORD)  # the right password waits too
    assert (answer.status_code, answer.mimetype, answer.headers["Retry-After"]) == (429, "text/html", "1")
    assert answer.headers["Cache-Control"] == "no-store"
    assert ("Too many failed logins for this account or from this address: wait 1 second and try again."
            in answer.get_data(as_text=True))
    entry = web_accounts.entries(limit=1)[0]
    assert (entry["action"], entry["user"], entry["address"], entry["detail"]) == (
        "login throttled", None, "10.0.0.1",
        {"username": "manager", "wait_seconds": 1, "why": "this account from this address"})
    web_clock.advance(seconds=1)
    assert login_from(app, "10.0.0.1", "manager", "wrong password!").status_code == 200
    answer = login_from(app, "10.0.0.1", "manager", PASSWORD)
    assert (answer.status_code, answer.headers["Retry-After"]) == (429, "2")
    web_clock.advance(seconds=2)
    assert login_from(app, "10.0.0.1", "manager", PASSWORD).status_code == 302  # and the streak is over
    for _ in range(3):
        assert login_from(app, "10.0.0.1", "manager", "wrong password!").status_code == 200
    assert [e["action"] for e in reversed(web_accounts.entries())] == (
        ["login_failed"] * 3 + ["login throttled", "login_failed", "login throttled", "login"]
        + ["login_failed"] * 3)


def test_the_right_password_from_another_address_signs_in_while_an_attacker_hammers(small, app, web_accounts,
                                                                                     web_clock):
    answers = []
    for _ in range(40):  # two minutes of guesses, one every three seconds, from one address
        answers.append(login_from(app, "203.0.113.66", "manager", "guess guess guess").status_code)
        web_clock.advance(seconds=3)
    assert answers[:3] == [200, 200, 200] and 429 in answers and set(answers) == {200, 429}
    assert login_from(app, "203.0.113.66", "manager", PASSWORD).status_code == 429  # the attacker's address waits
    owner = login_from(app, "198.51.100.7", "manager", PASSWORD)
    assert (owner.status_code, owner.headers["Location"]) == (302, "/")
    assert login_from(app, "203.0.113.66", "manager", "guess guess guess").status_code == 429  # still waiting
    assert login_from(app, "203.0.113.66", "analyst", PASSWORD).status_code == 302  # other accounts from there
    throttled = web_accounts.entries(action="login throttled")
    assert len(throttled) == answers.count(429) + 2
    assert {(e["address"], e["detail"]["username"]) for e in throttled} == {("203.0.113.66", "manager")}


# -- the web: refusals audited, no-store -------------------------------------------------------------------


def test_every_403_is_audited_and_the_audit_page_shows_the_new_actions(small, app, client_as, as_role,
                                                                          web_accounts, web_clock):
    analyst = client_as("analyst")
    assert analyst.get("/audit").status_code == 403
    entry = web_accounts.entries(limit=1)[0]
    assert (entry["action"], entry["user"], entry["address"], entry["detail"]) == (
        "refused", "analyst", "127.0.0.1",
        {"action": "view_audit", "method": "GET", "path": "/audit",
         "reason": "Only a manager may read the audit log; you are signed in as analyst."})
    # A write refused by the API (JSON), and a refresh.
    answer = as_role("intake").post("/api/contacts", json={"date": "2024-06-10", "referrer_id": "rf1",
                                                           "member_id": "cn1", "kind": "lunch"})
    assert answer.status_code == 403 and answer.is_json
    entry = web_accounts.entries(limit=1)[0]
    assert (entry["action"], entry["user"], entry["detail"]["action"], entry["detail"]["method"],
            entry["detail"]["path"]) == ("refused", "intake", "record_contact", "POST", "/api/contacts")
    assert entry["detail"]["reason"] == answer.get_json()["error"]
    login_from(app, "10.1.1.1", "nobody", "wrong password!")
    for _ in range(3):
        login_from(app, "10.1.1.1", "manager", "wrong password!")
    assert login_from(app, "10.1.1.1", "manager", "wrong password!").status_code == 429
    manager = client_as("manager")
    page = manager.get("/audit").get_data(as_text=True)
    assert '<option value="refused"' in page and '<option value="login throttled"' in page
    refused = manager.get("/audit?action=refused").get_data(as_text=True)
    assert "view_audit" in refused and "record_contact" in refused and "login throttled</td>" not in refused
    download = manager.get("/audit?action=login+throttled&format=csv")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(download.get_data(as_text=True))))
    assert [(r["user"], r["address"], r["action"], r["ids"]) for r in rows] == [
        ("", "10.1.1.1", "login throttled", "")]
    assert json.loads(rows[0]["detail"]) == {"username": "manager", "wait_seconds": 1,
                                             "why": "this account from this address"}


def test_no_store_on_pages_the_api_its_errors_and_downloads(small, client, anon):
    answers = {"page": client.get("/practice"), "api": client.get("/api/status"),
               "api error": client.get("/api/referrers/nope"), "api 404": client.get("/api/nope"),
               "csv": client.get("/audit?format=csv"), "page 404": client.get("/nope"),
               "login": anon.get("/login"), "401": anon.get("/api/status"), "openapi": anon.get("/api/openapi.json")}
    assert answers["api error"].status_code == 404 and answers["csv"].mimetype == "text/csv"
    for what, answer in answers.items():
        assert answer.headers.getlist("Cache-Control") == ["no-store"], what
    static = client.get("/static/style.css")
    assert "no-store" not in static.headers.get("Cache-Control", "")
    static.close()


def test_failures_from_many_addresses_never_keep_the_owner_of_a_new_account_out(accounts, clock):
    """The probe: one wrong password from each of 16 addresses for an account that has never signed in; its
    owner, from an address of their own, signs in at once, and again after a 17th address fails."""
    for n in range(1, 17):
        fail(accounts, "newhire", f"127.0.3.{n}")
    assert accounts.begin_login("newhire", "127.0.0.1") is None
    accounts.login_succeeded("newhire", "127.0.0.1")
    fail(accounts, "newhire", "127.0.3.17")
    assert accounts.begin_login("newhire", "127.0.0.77") is None
