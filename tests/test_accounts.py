"""Accounts, API tokens and the audit log (graphsvc.accounts), and `graphsvc user/token/audit`.

Only test_cli_clinician_must_be_a_clinician_in_the_graph needs Neo4j.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner

from graphsvc import accounts as accounts_module
from graphsvc.accounts import ROLES, Accounts, User, secret_key
from graphsvc.cli import main
from graphsvc.config import Settings
from graphsvc.errors import InvalidInput, NotFound

# Cheap argon2 parameters: the tests hash hundreds of passwords.
FAST = dict(time_cost=1, memory_cost=8, parallelism=1)
PASSWORD = "correct horse battery"
ACCOUNTS = "graphsvc-accounts.sqlite3"


class CountingHasher(PasswordHasher):
    def __init__(self, **kwargs):
        super().__init__(**{**FAST, **kwargs})
        self.verified = 0

    def verify(self, hash, password):
        self.verified += 1
        return super().verify(hash, password)


@pytest.fixture(autouse=True)
def accounts_env(monkeypatch, tmp_path):
    """Every test (and every CLI run) uses an accounts database and data folder of its own."""
    monkeypatch.setenv("GRAPHSVC_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("GRAPHSVC_ACCOUNTS_DB", str(tmp_path / "private" / "accounts.sqlite3"))
    monkeypatch.setattr("getpass.getuser", lambda: "tester")


@pytest.fixture
def db_path(tmp_path) -> Path:
    return tmp_path / "private" / "accounts.sqlite3"


@pytest.fixture
def accounts(db_path) -> Accounts:
    return Accounts(db_path, hasher=PasswordHasher(**FAST))


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def raw_bytes(path: Path) -> bytes:
    """The database file and any WAL or shared-memory file beside it."""
    return b"".join(p.read_bytes() for p in sorted(path.parent.glob(path.name + "*")))


# -- users ---------------------------------------------------------------------------


def test_roles():
    assert ROLES == ("manager", "intake", "clinician", "analyst")


def test_add_list_and_look_up_users(accounts, monkeypatch):
    monkeypatch.setattr(accounts_module, "_now", lambda: at(2026, 1, 2, 3, 4, 5))
    alice = accounts.add_user("  Alice@Example.org ", "manager", PASSWORD)
    assert alice == User("alice@example.org", "manager", None, at(2026, 1, 2, 3, 4, 5))
    carl = accounts.add_user("carl", "clinician", PASSWORD, clinician_id="cn1")
    accounts.add_user("b.in-take_1", "intake", PASSWORD)
    assert [(u.username, u.role, u.clinician_id) for u in accounts.users()] == [
        ("alice@example.org", "manager", None), ("b.in-take_1", "intake", None), ("carl", "clinician", "cn1")]
    assert accounts.user("CARL ") == carl
    assert accounts.user("carl").created_at.tzinfo == UTC
    assert alice.as_dict() == {"username": "alice@example.org", "role": "manager", "clinician_id": None,
                               "created_at": "2026-01-02T03:04:05+00:00"}
    with pytest.raises(NotFound, match="^unknown user 'dora'$"):
        accounts.user("dora")
    with pytest.raises(NotFound, match="unknown user"):
        accounts.user("not a name!")


@pytest.mark.parametrize("kwargs, message", [
    (dict(username="alice", role="admin"),
     "field 'role': must be one of manager, intake, clinician, analyst (got 'admin')"),
    (dict(username="carl", role="clinician"),
     "field 'clinician_id': required for role clinician (the id of its Clinician)"),
    (dict(username="carl", role="clinician", clinician_id="bad id!"),
     "field 'clinician_id': must be 1-64 letters, digits or _ . : - starting with a letter or digit "
     "(got 'bad id!')"),
    (dict(username="alice", role="manager", clinician_id="cn1"),
     "field 'clinician_id': only for role clinician (got role 'manager')"),
    (dict(username="alice", role="manager", password="short"),
     "field 'password': must be at least 10 characters (got 5)"),
    (dict(username="alice", role="manager", password="x" * 1025),
     "field 'password': must be at most 1024 characters (got 1025)"),
    (dict(username="", role="manager"),
     "field 'username': must be 1-64 characters of a-z, 0-9 and . _ @ - (got '')"),
    (dict(username="al ice", role="manager"),
     "field 'username': must be 1-64 characters of a-z, 0-9 and . _ @ - (got 'al ice')"),
    (dict(username="cli:bob", role="manager"),
     "field 'username': must be 1-64 characters of a-z, 0-9 and . _ @ - (got 'cli:bob')"),
    (dict(username="a" * 65, role="manager"),
     "field 'username': must be 1-64 characters of a-z, 0-9 and . _ @ - (got '" + "a" * 65 + "')"),
])
def test_bad_input_names_the_field(accounts, kwargs, message):
    with pytest.raises(InvalidInput) as e:
        accounts.add_user(**{"password": PASSWORD, **kwargs})
    assert str(e.value) == message
    assert accounts.users() == []


def test_every_problem_is_named_at_once(accounts):
    with pytest.raises(InvalidInput) as e:
        accounts.add_user("Bad Name", "clinician", "short")
    assert e.value.problems == [
        "field 'username': must be 1-64 characters of a-z, 0-9 and . _ @ - (got 'Bad Name')",
        "field 'clinician_id': required for role clinician (the id of its Clinician)",
        "field 'password': must be at least 10 characters (got 5)",
    ]


def test_the_longest_username_and_password_are_accepted(accounts):
    longest = ("Qx7!vT2#" + "p" * 1024)[:1024]  # zxcvbn judges the first 72 characters
    accounts.add_user("a" * 64, "analyst", longest)
    assert accounts.check_password("a" * 64, longest).username == "a" * 64


def test_a_username_is_taken_once(accounts):
    accounts.add_user("alice", "manager", PASSWORD)
    with pytest.raises(InvalidInput) as e:
        accounts.add_user("ALICE", "analyst", PASSWORD)
    assert str(e.value) == "user 'alice' already exists"
    assert [(u.username, u.role) for u in accounts.users()] == [("alice", "manager")]


def test_clinician_ids_follow_the_graphs_id_rule():
    assert accounts_module.role_problems("clinician", "c" * 64) == []
    assert accounts_module.role_problems("clinician", "cn 1") == [
        "field 'clinician_id': must be 1-64 letters, digits or _ . : - starting with a letter or digit (got 'cn 1')"]
    assert accounts_module.role_problems("clinician", "c" * 65)[0].startswith("field 'clinician_id': must be 1-64 ")


def test_set_password_role_and_remove(accounts):
    accounts.add_user("alice", "manager", PASSWORD)
    accounts.add_user("bea", "manager", PASSWORD)
    accounts.add_user("carl", "clinician", PASSWORD, "cn1")

    accounts.set_password("Alice", "a new long password")
    assert accounts.check_password("alice", PASSWORD) is None
    assert accounts.check_password("alice", "a new long password").username == "alice"
    with pytest.raises(InvalidInput, match=r"^field 'password': must be at least 10 characters \(got 3\)$"):
        accounts.set_password("alice", "abc")
    with pytest.raises(NotFound, match="^unknown user 'dora'$"):
        accounts.set_password("dora", PASSWORD)

    assert accounts.set_role("carl", "analyst") == User("carl", "analyst", None, accounts.user("carl").created_at)
    assert accounts.set_role("alice", "clinician", "cn2").clinician_id == "cn2"
    assert [(u.username, u.role, u.clinician_id) for u in accounts.users()] == [
        ("alice", "clinician", "cn2"), ("bea", "manager", None), ("carl", "analyst", None)]
    with pytest.raises(InvalidInput, match="required for role clinician"):
        accounts.set_role("carl", "clinician")
    with pytest.raises(InvalidInput, match="only for role clinician"):
        accounts.set_role("carl", "intake", "cn1")
    with pytest.raises(InvalidInput, match="must be one of"):
        accounts.set_role("carl", "root")
    with pytest.raises(NotFound, match="^unknown user 'dora'$"):
        accounts.set_role("dora", "analyst")
    assert accounts.user("carl").role == "analyst"

    accounts.create_token("carl")
    accounts.create_token("carl")
    accounts.create_token("alice")
    accounts.record("login", user="carl")
    assert accounts.remove_user("carl") == 2
    assert [u.username for u in accounts.users()] == ["alice", "bea"]
    assert [t["username"] for t in accounts.tokens()] == ["alice"]
    assert [(e["action"], e["user"]) for e in accounts.entries()] == [("login", "carl")]  # the log stays
    with pytest.raises(NotFound, match="^unknown user 'carl'$"):
        accounts.remove_user("carl")


def test_the_only_manager_can_be_neither_removed_nor_demoted(accounts):
    accounts.add_user("alice", "manager", PASSWORD)
    accounts.add_user("carl", "analyst", PASSWORD)
    only = "cannot {} 'alice': it is the only manager; make another manager first"
    with pytest.raises(InvalidInput, match=f"^{only.format('remove')}$"):
        accounts.remove_user("alice")
    with pytest.raises(InvalidInput, match=f"^{only.format('take the manager role from')}$"):
        accounts.set_role("alice", "analyst")
    assert accounts.set_role("alice", "manager").role == "manager"  # staying a manager is fine
    accounts.set_role("carl", "manager")
    assert accounts.set_role("alice", "intake").role == "intake"  # carl manages now
    with pytest.raises(InvalidInput, match="only manager"):
        accounts.remove_user("carl")
    assert [(u.username, u.role) for u in accounts.users()] == [("alice", "intake"), ("carl", "manager")]


# -- passwords ---------------------------------------------------------------------


def test_check_password_right_wrong_and_unknown(db_path):
    hasher = CountingHasher()
    accounts = Accounts(db_path, hasher=hasher)
    alice = accounts.add_user("alice", "manager", PASSWORD)
    assert accounts.check_password("alice", PASSWORD) == alice
    assert accounts.check_password(" ALICE", PASSWORD) == alice
    assert accounts.check_password("alice", PASSWORD.upper()) is None
    assert accounts.check_password("alice", "") is None
    assert accounts.check_password("alice", None) is None
    assert accounts.check_password("alice", "x" * 100_000) is None  # longer than any password

    # An unknown user costs a hash as well: the time does not tell which names exist.
    hasher.verified = 0
    assert accounts.check_password("dora", PASSWORD) is None
    assert accounts.check_password("not a username", PASSWORD) is None
    assert hasher.verified == 2


def test_passwords_are_argon2_and_rehashed_when_the_parameters_change(db_path):
    old = Accounts(db_path, hasher=PasswordHasher(**FAST))
    old.add_user("alice", "manager", PASSWORD)

    def stored() -> str:
        with sqlite3.connect(db_path) as db:
            return db.execute("SELECT password_hash FROM users").fetchone()[0]

    first = stored()
    assert first.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    new = Accounts(db_path, hasher=PasswordHasher(time_cost=2, memory_cost=16, parallelism=1))
    assert new.check_password("alice", "wrong password") is None
    assert stored() == first  # only a right password is rehashed
    assert new.check_password("alice", PASSWORD).username == "alice"
    assert stored().startswith("$argon2id$v=19$m=16,t=2,p=1$")
    assert new.check_password("alice", PASSWORD).username == "alice"
    assert old.check_password("alice", PASSWORD).username == "alice"  # argon2 reads the parameters from the hash


def test_the_default_hasher_is_argon2id(tmp_path):
    assert Accounts(tmp_path / "a.sqlite3").hasher.hash(PASSWORD).startswith("$argon2id$v=19$m=65536,t=3,p=4$")


# -- tokens ----------------------------------------------------------------------------


def test_tokens_create_use_list_revoke(accounts, monkeypatch):
    accounts.add_user("alice", "manager", PASSWORD)
    accounts.add_user("bob", "analyst", PASSWORD)
    monkeypatch.setattr(accounts_module, "_now", lambda: at(2026, 3, 1, 9, 0))
    token_id, token = accounts.create_token("Alice", name=" ci job ")
    other_id, other = accounts.create_token("bob")
    prefix, tid, secret = token.split("_", 2)
    assert (prefix, tid, len(token_id), len(secret)) == ("gst", token_id, 16, 43)
    assert accounts.tokens() == [
        {"id": token_id, "username": "alice", "name": "ci job", "created_at": at(2026, 3, 1, 9, 0),
         "last_used_at": None},
        {"id": other_id, "username": "bob", "name": "", "created_at": at(2026, 3, 1, 9, 0), "last_used_at": None},
    ]
    assert [t["id"] for t in accounts.tokens("bob")] == [other_id]
    with pytest.raises(NotFound, match="^unknown user 'dora'$"):
        accounts.tokens("dora")
    with pytest.raises(NotFound, match="^unknown user 'dora'$"):
        accounts.create_token("dora")
    with pytest.raises(InvalidInput, match="^field 'name': must be one line of at most 100 characters"):
        accounts.create_token("alice", name="two\nlines")

    monkeypatch.setattr(accounts_module, "_now", lambda: at(2026, 3, 2, 10, 0))
    assert accounts.user_for_token(token) == accounts.user("alice")
    assert accounts.user_for_token(other).username == "bob"
    assert accounts.tokens("alice")[0]["last_used_at"] == at(2026, 3, 2, 10, 0)
    monkeypatch.setattr(accounts_module, "_now", lambda: at(2026, 3, 2, 10, 0, 30))
    accounts.user_for_token(token)  # within a minute: not written again
    assert accounts.tokens("alice")[0]["last_used_at"] == at(2026, 3, 2, 10, 0)
    monkeypatch.setattr(accounts_module, "_now", lambda: at(2026, 3, 2, 10, 5))
    accounts.user_for_token(token)
    assert accounts.tokens("alice")[0]["last_used_at"] == at(2026, 3, 2, 10, 5)

    assert accounts.revoke_token(token_id)["username"] == "alice"
    assert accounts.user_for_token(token) is None
    assert accounts.user_for_token(other).username == "bob"
    with pytest.raises(NotFound, match=f"^unknown token '{token_id}'$"):
        accounts.revoke_token(token_id)
    assert [t["id"] for t in accounts.tokens()] == [other_id]

    accounts.remove_user("bob")
    assert accounts.user_for_token(other) is None


def test_malformed_or_forged_tokens_are_nobody(accounts):
    accounts.add_user("alice", "manager", PASSWORD)
    token_id, token = accounts.create_token("alice")
    secret = token[len(f"gst_{token_id}_"):]
    forged = f"gst_{token_id}_" + ("A" if secret[0] != "A" else "B") + secret[1:]
    for bad in ["", "gst_", token[:-1], token + "x", token.upper(), " " + token, token.replace("gst_", "gsx_"),
                f"gst_{'0' * 16}_{secret}", forged, token + "\n", None, 42, token.encode(), "x" * 10_000]:
        assert accounts.user_for_token(bad) is None, bad
    assert accounts.user_for_token(token).username == "alice"


def test_only_hashes_are_stored(accounts, db_path):
    accounts.add_user("alice", "manager", PASSWORD)
    token_id, token = accounts.create_token("alice", "laptop")
    secret = token[len(f"gst_{token_id}_"):]
    accounts.user_for_token(token)
    data = raw_bytes(db_path)
    assert PASSWORD.encode() not in data
    assert secret.encode() not in data and token.encode() not in data
    assert hashlib.sha256(secret.encode()).hexdigest().encode() in data
    assert b"$argon2id$" in data
    assert all("secret" not in key and "hash" not in key for t in accounts.tokens() for key in t)


# -- the audit log ---------------------------------------------------------------


def test_record_and_read_the_audit_log(accounts, monkeypatch):
    for moment, action, user, ids in [
        (at(2026, 1, 1, 8), "login", "alice", []),
        (at(2026, 1, 2, 9), "write referral", "alice", ["r1", "rf1"]),
        (at(2026, 1, 3, 10), "login_failed", None, []),
        (at(2026, 1, 3, 11), "export", "bob", []),
    ]:
        monkeypatch.setattr(accounts_module, "_now", lambda moment=moment: moment)
        accounts.record(action, user=user, address="10.0.0.7" if user else "10.0.0.9", ids=ids,
                        detail={"username": "mallory"} if user is None else None)
    everything = accounts.entries()
    assert everything[0] == {"id": 4, "at": at(2026, 1, 3, 11), "user": "bob", "address": "10.0.0.7",
                             "action": "export", "ids": [], "detail": None}
    assert everything[1] == {"id": 3, "at": at(2026, 1, 3, 10), "user": None, "address": "10.0.0.9",
                             "action": "login_failed", "ids": [], "detail": {"username": "mallory"}}
    assert [e["action"] for e in everything] == ["export", "login_failed", "write referral", "login"]
    assert everything[2]["ids"] == ["r1", "rf1"]
    assert [e["id"] for e in accounts.entries(since=date(2026, 1, 2))] == [4, 3, 2]
    assert [e["id"] for e in accounts.entries(since=date(2026, 1, 4))] == []
    assert [e["id"] for e in accounts.entries(since=at(2026, 1, 3, 10, 30))] == [4]
    assert [e["id"] for e in accounts.entries(user="alice")] == [2, 1]
    assert [e["id"] for e in accounts.entries(user="alice", since=date(2026, 1, 2))] == [2]
    assert [e["id"] for e in accounts.entries(limit=2)] == [4, 3]
    with pytest.raises(InvalidInput, match="field 'action'"):
        accounts.record(" ", user="alice")


def test_audit_entries_by_action_paged_and_counted(accounts):
    for action in ("login", "write referral", "write pass", "write_x", "writes%", "download audit.csv", "login"):
        accounts.record(action, user="alice")
    assert [e["id"] for e in accounts.entries(action="login")] == [7, 1]
    assert [e["action"] for e in accounts.entries(action="write *")] == ["write pass", "write referral"]
    # The prefix is literal: % and _ are not wildcards.
    assert [e["action"] for e in accounts.entries(action="writes%*")] == ["writes%"]
    assert [e["action"] for e in accounts.entries(action="write_*")] == ["write_x"]
    assert accounts.entries(action="writ_ *") == [] and accounts.entries(action="write%*") == []
    assert [e["id"] for e in accounts.entries(limit=3, offset=2)] == [5, 4, 3]
    assert [e["id"] for e in accounts.entries(offset=5)] == [2, 1]
    assert accounts.count_entries() == 7 and accounts.count_entries(action="write *") == 2
    assert accounts.count_entries(user="bob") == 0
    assert accounts.audit_actions() == ["download audit.csv", "login", "write pass", "write referral",
                                        "write_x", "writes%"]


def test_session_material_changes_with_password_role_and_re_adding(accounts):
    accounts.add_user("carol", "intake", "a long password")
    first = accounts.session_material("carol")
    assert first.startswith("carol\0intake\0\0$argon2id$")
    assert accounts.session_material("carol") == first
    accounts.set_password("carol", "another long password")
    second = accounts.session_material("carol")
    accounts.set_role("carol", "clinician", "cn1")
    third = accounts.session_material("carol")
    assert len({first, second, third}) == 3 and "\0clinician\0cn1\0" in third
    accounts.remove_user("carol")
    assert accounts.session_material("carol") is None and accounts.session_material("nobody") is None


def test_the_audit_log_is_append_only_in_the_database_itself(accounts, db_path):
    accounts.record("login", user="alice", address="127.0.0.1")
    with sqlite3.connect(db_path) as db:
        with pytest.raises(sqlite3.DatabaseError, match="append-only: its entries cannot be changed"):
            db.execute("UPDATE audit SET username = 'mallory'")
        with pytest.raises(sqlite3.DatabaseError, match="append-only: its entries cannot be deleted"):
            db.execute("DELETE FROM audit")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            db.execute("DELETE FROM audit WHERE id = 1")
    db.close()
    assert [(e["user"], e["action"]) for e in accounts.entries()] == [("alice", "login")]
    # Reopening the file (CREATE ... IF NOT EXISTS) keeps the log and its triggers.
    again = Accounts(db_path)
    again.record("logout", user="alice")
    assert [e["action"] for e in again.entries()] == ["logout", "login"]


# -- files -----------------------------------------------------------------------


def test_the_folder_and_file_are_private(tmp_path):
    path = tmp_path / "new" / "deeper" / "accounts.sqlite3"
    old = os.umask(0o022)
    try:
        Accounts(path, hasher=PasswordHasher(**FAST)).add_user("alice", "manager", PASSWORD)
    finally:
        os.umask(old)
    assert path.parent.stat().st_mode & 0o777 == 0o700
    assert path.stat().st_mode & 0o777 == 0o600
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        db.execute("BEGIN")
        db.execute("SELECT count(*) FROM audit").fetchone()  # a reader keeps the WAL files there
        old = os.umask(0o022)
        try:
            Accounts(path).record("login", user="alice")
        finally:
            os.umask(old)
        assert {p.name: p.stat().st_mode & 0o777 for p in path.parent.iterdir()} == {
            "accounts.sqlite3": 0o600, "accounts.sqlite3-wal": 0o600, "accounts.sqlite3-shm": 0o600}
    db.close()
    # A copy restored with looser permissions is tightened when opened.
    os.chmod(path, 0o644)
    Accounts(path)
    assert path.stat().st_mode & 0o777 == 0o600


def test_accounts_open_uses_the_setting(tmp_path):
    settings = Settings.load(environ={"GRAPHSVC_DATA_DIR": str(tmp_path / "d")})
    assert Accounts.open(settings).path == tmp_path / "d" / "graphsvc-accounts.sqlite3"
    assert (tmp_path / "d" / "graphsvc-accounts.sqlite3").exists()


# -- settings ------------------------------------------------------------------------


def test_accounts_db_follows_data_dir_unless_set(tmp_path):
    s = Settings.load(environ={"GRAPHSVC_DATA_DIR": str(tmp_path / "d")})
    assert (s.accounts_db, s.source("accounts_db")) == (tmp_path / "d" / "graphsvc-accounts.sqlite3", "default")
    assert s.with_(data_dir=tmp_path / "e").accounts_db == tmp_path / "e" / "graphsvc-accounts.sqlite3"
    assert Settings(data_dir=tmp_path / "f").accounts_db == tmp_path / "f" / "graphsvc-accounts.sqlite3"
    assert Settings.load(environ={}, data_dir=tmp_path / "g").accounts_db == tmp_path / "g" / ACCOUNTS

    s = Settings.load(environ={"GRAPHSVC_DATA_DIR": str(tmp_path / "d"),
                               "GRAPHSVC_ACCOUNTS_DB": str(tmp_path / "a.sqlite3")})
    assert (s.accounts_db, s.source("accounts_db")) == (tmp_path / "a.sqlite3", "environment GRAPHSVC_ACCOUNTS_DB")
    assert s.with_(data_dir=tmp_path / "e").accounts_db == tmp_path / "a.sqlite3"

    f = tmp_path / "graphsvc.toml"
    f.write_text('[web]\naccounts_db = "private/accounts.sqlite3"\nsecret_key = "from-the-file"\n')
    s = Settings.load(environ={"GRAPHSVC_CONFIG": str(f)})
    assert (s.accounts_db, s.web_secret_key) == (tmp_path / "private" / "accounts.sqlite3", "from-the-file")


def test_config_show_lists_the_accounts_db_and_hides_the_secret_key(tmp_path):
    env = {"GRAPHSVC_DATA_DIR": str(tmp_path / "d"), "GRAPHSVC_ACCOUNTS_DB": None,
           "GRAPHSVC_SECRET_KEY": "do-not-show-me"}
    result = CliRunner().invoke(main, ["config", "show", "--json"], env=env)
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)["settings"]
    assert rows["web.accounts_db"] == {"value": str(tmp_path / "d" / ACCOUNTS), "source": "default",
                                       "env": "GRAPHSVC_ACCOUNTS_DB", "field": "accounts_db"}
    assert rows["web.secret_key"] == {"value": "(hidden)", "source": "environment GRAPHSVC_SECRET_KEY",
                                      "env": "GRAPHSVC_SECRET_KEY", "field": "web_secret_key"}
    assert "do-not-show-me" not in result.output

    env["GRAPHSVC_SECRET_KEY"] = None
    result = CliRunner().invoke(main, ["config", "show", "--json"], env=env)
    key_file = tmp_path / "d" / "graphsvc-secret-key"
    assert json.loads(result.output)["settings"]["web.secret_key"]["value"] == (
        f"(not generated yet: the web view writes {key_file})")
    generated = secret_key(Settings.load(environ={"GRAPHSVC_DATA_DIR": str(tmp_path / "d")}))
    result = CliRunner().invoke(main, ["config", "show"], env=env)
    assert f"(generated, in {key_file})" in result.output and generated not in result.output


def test_the_secret_key_is_generated_once_and_private(tmp_path):
    settings = Settings.load(environ={"GRAPHSVC_DATA_DIR": str(tmp_path / "new")})
    key = secret_key(settings)
    assert len(key) == 64 and int(key, 16) >= 0
    path = tmp_path / "new" / "graphsvc-secret-key"
    assert path.read_text() == key + "\n"
    assert path.stat().st_mode & 0o777 == 0o600 and path.parent.stat().st_mode & 0o777 == 0o700
    assert secret_key(settings) == key
    assert secret_key(Settings.load(environ={"GRAPHSVC_DATA_DIR": str(tmp_path / "new")})) == key
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind
    assert secret_key(settings.with_(web_secret_key="configured")) == "configured"
    assert secret_key(Settings.load(environ={"GRAPHSVC_DATA_DIR": str(tmp_path / "other")})) != key

    # Without hard links (some network file systems) it is created exclusively.
    def no_links(*args):
        raise PermissionError(1, "Operation not permitted")

    with pytest.MonkeyPatch.context() as m:
        m.setattr(os, "link", no_links)
        linkless = Settings.load(environ={"GRAPHSVC_DATA_DIR": str(tmp_path / "linkless")})
        key = secret_key(linkless)
        assert secret_key(linkless) == key and len(key) == 64
        assert [p.name for p in (tmp_path / "linkless").iterdir()] == ["graphsvc-secret-key"]
        assert (tmp_path / "linkless" / "graphsvc-secret-key").stat().st_mode & 0o777 == 0o600

    # Workers starting at once all get the same key.
    fresh = Settings.load(environ={"GRAPHSVC_DATA_DIR": str(tmp_path / "race")})
    keys, barrier = [], threading.Barrier(8)

    def start():
        barrier.wait()
        keys.append(secret_key(fresh))

    threads = [threading.Thread(target=start) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(keys) == 8 and len(set(keys)) == 1


# -- concurrency -----------------------------------------------------------------


def test_threads_add_users_and_record_at_once(accounts):
    barrier, errors = threading.Barrier(8), []

    def work(n):
        try:
            barrier.wait()
            for i in range(20):
                accounts.add_user(f"t{n}-u{i}", ROLES[i % 4] if i % 4 != 2 else "analyst", PASSWORD)
            for i in range(50):
                accounts.record("write referral", user=f"t{n}-u0", ids=[f"r{n}-{i}"])
        except Exception as e:  # pragma: no cover - shown by the assertion below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(accounts.users()) == 160
    entries = accounts.entries()
    assert len(entries) == 400
    assert sorted(e["ids"][0] for e in entries) == sorted(f"r{n}-{i}" for n in range(8) for i in range(50))
    assert [e["id"] for e in entries] == list(range(400, 0, -1))


PROCESS = """\
import sys
from argon2 import PasswordHasher
from graphsvc.accounts import Accounts
accounts = Accounts(sys.argv[1], hasher=PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
n = sys.argv[2]
for i in range(10):
    accounts.add_user(f"p{n}-u{i}", "analyst", "correct horse battery")
for i in range(50):
    accounts.record("export", user=f"p{n}-u0", ids=[f"p{n}-{i}"])
"""


def test_a_new_file_locked_by_another_creator_is_waited_for(tmp_path):
    # SQLite refuses the switch to write-ahead logging at once ("database is
    # locked", no busy wait) while another connection holds the write lock: the
    # case of processes creating the same new file together (seen once in CI).
    path = tmp_path / "accounts.sqlite3"
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("CREATE TABLE IF NOT EXISTS creating (x)")
    committed = threading.Event()

    def commit_later():
        time.sleep(0.3)
        other.execute("COMMIT")
        committed.set()

    threading.Thread(target=commit_later).start()
    accounts = Accounts(path, hasher=PasswordHasher(**FAST))
    assert committed.is_set()
    other.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert accounts.users() == []


def test_processes_create_and_use_one_file_at_once(tmp_path):
    path = tmp_path / "shared" / "accounts.sqlite3"  # not there yet: they all create it
    procs = [subprocess.Popen([sys.executable, "-c", PROCESS, str(path), str(n)], stderr=subprocess.PIPE,
                              text=True) for n in range(4)]
    for p in procs:
        assert p.wait(timeout=120) == 0, p.stderr.read()
        p.stderr.close()
    accounts = Accounts(path)
    assert len(accounts.users()) == 40
    assert len(accounts.entries()) == 200


# -- the CLI -----------------------------------------------------------------------------


def run(*args, input=None):
    return CliRunner().invoke(main, list(args), input=input)


def test_cli_users(db_path):
    result = run("user", "list")
    assert (result.exit_code, result.output) == (
        0, "No users yet. Add the first manager with: graphsvc user add NAME --role manager\n")
    result = run("user", "add", "Alice", "--role", "manager", input=PASSWORD + "\n")
    assert (result.exit_code, result.output) == (0, "Added user alice (manager).\n")
    result = run("user", "add", "bob", "--role", "analyst", "--json", input=PASSWORD + "\r\nignored\n")
    assert result.exit_code == 0, result.output
    bob = json.loads(result.output)
    assert (bob["username"], bob["role"], bob["clinician_id"]) == ("bob", "analyst", None)

    accounts = Accounts(db_path)
    assert accounts.check_password("alice", PASSWORD).role == "manager"
    assert accounts.check_password("bob", PASSWORD).role == "analyst"  # \r\n stripped, only the first line

    result = run("user", "list", "--json")
    assert [(u["username"], u["role"], u["clinician_id"]) for u in json.loads(result.output)] == [
        ("alice", "manager", None), ("bob", "analyst", None)]
    lines = run("user", "list").output.splitlines()
    assert lines[0].split() == ["username", "role", "clinician", "created", "(UTC)"]
    assert [line.split()[:3] for line in lines[1:]] == [["alice", "manager", "-"], ["bob", "analyst", "-"]]

    result = run("user", "passwd", "bob", input="another long password\n")
    assert (result.exit_code, result.output) == (0, "Changed the password of bob.\n")
    assert accounts.check_password("bob", "another long password") is not None
    assert accounts.check_password("bob", PASSWORD) is None

    result = run("user", "role", "bob", "intake")
    assert (result.exit_code, result.output) == (0, "User bob is now intake (was analyst).\n")
    assert accounts.user("bob").role == "intake"

    run("token", "create", "bob")
    result = run("user", "remove", "bob")
    assert (result.exit_code, result.output) == (0, "Removed user bob; 1 token revoked.\n")
    assert [u.username for u in accounts.users()] == ["alice"]

    actions = [(e["user"], e["action"], e["ids"]) for e in reversed(accounts.entries())]
    assert actions == [
        ("cli:tester", "user add", ["alice"]), ("cli:tester", "user add", ["bob"]),
        ("cli:tester", "user passwd", ["bob"]), ("cli:tester", "user role", ["bob"]),
        ("cli:tester", "token create", [accounts.entries()[1]["ids"][0]]),
        ("cli:tester", "user remove", ["bob"]),
    ]
    assert accounts.entries(user="cli:tester")[2]["detail"] == {
        "role": "intake", "clinician_id": None, "was": {"role": "analyst", "clinician_id": None}}
    assert accounts.entries()[0]["detail"] == {"tokens_revoked": 1}
    assert PASSWORD not in json.dumps([e["detail"] for e in accounts.entries()])


@pytest.mark.parametrize("args, input, message", [
    (["user", "add", "alice", "--role", "manager"], PASSWORD + "\n", "Error: user 'alice' already exists\n"),
    (["user", "add", "bob", "--role", "manager"], "short\n",
     "Error: field 'password': must be at least 10 characters (got 5)\n"),
    (["user", "add", "bob", "--role", "manager"], "",
     "Error: no password on standard input (give it as the first line, or run the command in a terminal "
     "to be asked for it)\n"),
    (["user", "add", "Bad Name", "--role", "manager"], PASSWORD + "\n",
     "Error: field 'username': must be 1-64 characters of a-z, 0-9 and . _ @ - (got 'Bad Name')\n"),
    (["user", "add", "carl", "--role", "clinician"], PASSWORD + "\n",
     "Error: role clinician needs --clinician ID: the id of the user's Clinician in the graph\n"),
    (["user", "add", "carl", "--role", "analyst", "--clinician", "cn1"], PASSWORD + "\n",
     "Error: --clinician is only for role clinician (not analyst)\n"),
    (["user", "passwd", "dora"], PASSWORD + "\n", "Error: unknown user 'dora'\n"),
    (["user", "role", "dora", "analyst"], None, "Error: unknown user 'dora'\n"),
    (["user", "role", "alice", "clinician"], None,
     "Error: role clinician needs --clinician ID: the id of the user's Clinician in the graph\n"),
    (["user", "remove", "dora"], None, "Error: unknown user 'dora'\n"),
    (["token", "create", "dora"], None, "Error: unknown user 'dora'\n"),
    (["token", "revoke", "0123456789abcdef"], None, "Error: unknown token '0123456789abcdef'\n"),
    (["token", "list", "--user", "dora"], None, "Error: unknown user 'dora'\n"),
])
def test_cli_errors(db_path, args, input, message):
    Accounts(db_path, hasher=PasswordHasher(**FAST)).add_user("alice", "manager", PASSWORD)
    result = run(*args, input=input)
    assert (result.exit_code, result.output) == (1, message)
    assert [(e["action"], e["ids"]) for e in Accounts(db_path).entries()] == []


def test_cli_refuses_a_password_option_and_a_bad_role():
    result = run("user", "add", "alice", "--role", "manager", "--password", PASSWORD)
    assert result.exit_code == 2 and "No such option '--password'" in result.output
    result = run("user", "add", "alice", "--role", "admin", input=PASSWORD + "\n")
    assert result.exit_code == 2 and "Invalid value for '--role'" in result.output


def test_cli_prompts_twice_on_a_terminal(db_path, monkeypatch):
    prompts = []

    def prompt(text, **kwargs):
        prompts.append((text, kwargs["hide_input"], kwargs["confirmation_prompt"]))
        with pytest.raises(Exception, match="must be at least 10 characters"):
            kwargs["value_proc"]("short")
        return kwargs["value_proc"](PASSWORD)

    monkeypatch.setattr("click.prompt", prompt)
    from graphsvc.cli.accounts import _read_password

    class Terminal:
        @staticmethod
        def isatty():
            return True

    monkeypatch.setattr("sys.stdin", Terminal)
    assert _read_password("Password for alice") == PASSWORD
    assert prompts == [("Password for alice", True, True)]


def test_cli_tokens(db_path):
    Accounts(db_path, hasher=PasswordHasher(**FAST)).add_user("alice", "manager", PASSWORD)
    result = CliRunner().invoke(main, ["token", "create", "ALICE", "--name", "reporting"])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert token.startswith("gst_") and "\n" not in token
    token_id = token.split("_")[1]
    assert result.stderr == (f"Token {token_id} for alice. It is shown only now: graphsvc keeps only its hash, "
                             f"so copy it somewhere safe (`graphsvc token revoke {token_id}` withdraws it).\n")
    accounts = Accounts(db_path)
    assert accounts.user_for_token(token).username == "alice"

    created = json.loads(run("token", "create", "alice", "--json").output)
    assert set(created) == {"id", "username", "name", "token"} and created["username"] == "alice"

    listed = json.loads(run("token", "list", "--json").output)
    assert [(t["id"], t["username"], t["name"]) for t in listed] == [
        (token_id, "alice", "reporting"), (created["id"], "alice", "")]
    assert listed[0]["last_used_at"] is not None and listed[1]["last_used_at"] is None
    text = run("token", "list").output
    assert token_id in text and token not in text and created["token"] not in text

    result = run("token", "revoke", token_id)
    assert (result.exit_code, result.output) == (0, f"Revoked token {token_id} of alice.\n")
    assert accounts.user_for_token(token) is None
    assert accounts.user_for_token(created["token"]).username == "alice"
    assert [(e["action"], e["ids"], e["detail"]) for e in reversed(accounts.entries())] == [
        ("token create", [token_id], {"username": "alice", "name": "reporting"}),
        ("token create", [created["id"]], {"username": "alice", "name": ""}),
        ("token revoke", [token_id], {"username": "alice"}),
    ]


def test_cli_audit(db_path, monkeypatch):
    accounts = Accounts(db_path)
    for moment, action, user in [(at(2026, 1, 1, 8), "login", "alice"), (at(2026, 1, 2, 9), "export", "alice"),
                                 (at(2026, 1, 3, 10), "login", "bob")]:
        monkeypatch.setattr(accounts_module, "_now", lambda moment=moment: moment)
        accounts.record(action, user=user, address="10.0.0.7", ids=["rf1"] if action == "export" else [],
                        detail={"rows": 3} if action == "export" else None)
    result = run("audit")
    assert (result.exit_code, result.output) == (0, (
        "2026-01-03 10:00:00  bob  10.0.0.7  login\n"
        "2026-01-02 09:00:00  alice  10.0.0.7  export  rf1  {\"rows\": 3}\n"
        "2026-01-01 08:00:00  alice  10.0.0.7  login\n"))
    entries = json.loads(run("audit", "--json", "--since", "2026-01-02").output)
    assert entries == [
        {"id": 3, "at": "2026-01-03T10:00:00+00:00", "user": "bob", "address": "10.0.0.7", "action": "login",
         "ids": [], "detail": None},
        {"id": 2, "at": "2026-01-02T09:00:00+00:00", "user": "alice", "address": "10.0.0.7", "action": "export",
         "ids": ["rf1"], "detail": {"rows": 3}},
    ]
    assert [e["id"] for e in json.loads(run("audit", "--json", "--user", "alice").output)] == [2, 1]
    assert [e["id"] for e in json.loads(run("audit", "--json", "--limit", "1").output)] == [3]
    assert [e["id"] for e in json.loads(run("audit", "--json", "--action", "login").output)] == [3, 1]
    assert [e["id"] for e in json.loads(run("audit", "--json", "--action", "exp*").output)] == [2]
    assert run("audit", "--since", "2027-01-01").output == "No entries.\n"
    result = run("audit", "--since", "yesterday")
    assert result.exit_code == 2 and "'yesterday' does not match the format '%Y-%m-%d'" in result.output


def test_cli_clinician_must_be_a_clinician_in_the_graph(cli, graph, neo4j_env, db_path):
    from tests.helpers import fixture_path, import_folder

    import_folder(graph, fixture_path("small"))
    result = CliRunner().invoke(main, ["user", "add", "carl", "--role", "clinician", "--clinician", "cn1"],
                                input=PASSWORD + "\n", env=neo4j_env)
    assert (result.exit_code, result.output) == (0, "Added user carl (clinician, clinician cn1).\n")
    assert Accounts(db_path).user("carl").clinician_id == "cn1"

    for clinician, message in [
        ("st1", "Error: --clinician 'st1' is a staff member, not a clinician\n"),
        ("rf1", "Error: --clinician 'rf1' is a referrer, not a clinician\n"),
        ("cn9", f"Error: --clinician 'cn9': no clinician has that id in the graph at {neo4j_env['NEO4J_URI']}\n"),
    ]:
        result = cli("user", "add", "dee", "--role", "clinician", "--clinician", clinician)
        assert (result.exit_code, result.output) == (1, message)
        result = cli("user", "role", "carl", "clinician", "--clinician", clinician)
        assert (result.exit_code, result.output) == (1, message)

    result = cli("user", "role", "carl", "clinician", "--clinician", "cn2")
    assert (result.exit_code, result.output) == (0, "User carl is now clinician, clinician cn2 (was clinician).\n")
    assert [u.username for u in Accounts(db_path).users()] == ["carl"]
    assert Accounts(db_path).user("carl").clinician_id == "cn2"
