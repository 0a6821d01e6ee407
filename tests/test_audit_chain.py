"""The audit log's hash chain (graphsvc.audit_chain, Accounts.record and verify_audit) and
`graphsvc audit verify`. No Neo4j."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from graphsvc import accounts as accounts_module
from graphsvc import audit_chain
from graphsvc.accounts import Accounts, backup_database, database_counts, verify_audit_file
from graphsvc.cli import main


@pytest.fixture(autouse=True)
def accounts_env(monkeypatch, tmp_path):
    monkeypatch.setenv("GRAPHSVC_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("GRAPHSVC_ACCOUNTS_DB", str(tmp_path / "private" / "accounts.sqlite3"))
    monkeypatch.setattr("getpass.getuser", lambda: "tester")


@pytest.fixture
def db_path(tmp_path) -> Path:
    return tmp_path / "private" / "accounts.sqlite3"


def at(day: int) -> datetime:
    return datetime(2026, 3, day, 9, 30, tzinfo=UTC)


@pytest.fixture
def ten(db_path, monkeypatch) -> Accounts:
    """An accounts database with ten entries, one a day from 2026-03-01 (entry n on day n)."""
    accounts = Accounts(db_path)
    now = accounts_module._now
    for n in range(1, 11):
        monkeypatch.setattr(accounts_module, "_now", lambda n=n: at(n))
        accounts.record("login" if n % 2 else "export", user=f"user{n}", address="10.0.0.1", ids=[f"rf{n}"],
                        detail={"n": n, "name": "Zoë"} if n % 3 == 0 else None)
    monkeypatch.setattr(accounts_module, "_now", now)
    return accounts


def tamper(path: Path, *statements: str) -> None:
    """Drop the append-only triggers, as someone with the file could, and run ``statements``."""
    with sqlite3.connect(path, isolation_level=None) as db:
        db.execute("DROP TRIGGER IF EXISTS audit_no_update")
        db.execute("DROP TRIGGER IF EXISTS audit_no_delete")
        for statement in statements:
            db.execute(statement)
    db.close()


def verify(*args):
    return CliRunner().invoke(main, ["audit", "verify", *args])


def stamp(day: int) -> str:
    return at(day).isoformat(timespec="microseconds")


# -- the hash ---------------------------------------------------------------------------------------


def test_an_entry_hash_is_sha256_of_canonical_json():
    entry = {"id": 7, "at": "2026-03-01T09:30:00.000000+00:00", "username": "alice", "address": None,
             "action": "login", "ids": "[]", "detail": '{"é": 1}'}
    text = audit_chain.canonical(entry, audit_chain.GENESIS)
    assert text == ('{"action":"login","address":null,"at":"2026-03-01T09:30:00.000000+00:00",'
                    '"detail":"{\\"é\\": 1}","id":7,"ids":"[]","prev_hash":"' + "0" * 64 + '","username":"alice"}')
    import hashlib

    assert audit_chain.entry_hash(entry, audit_chain.GENESIS) == hashlib.sha256(text.encode()).hexdigest()
    # every field counts, and so does the entry before it
    assert len({audit_chain.entry_hash({**entry, key: 8 if key == "id" else "x"}, audit_chain.GENESIS)
                for key in entry}
               | {audit_chain.entry_hash(entry, "1" * 64)}) == len(entry) + 1


def test_each_entry_is_chained_to_the_one_before(ten, db_path):
    with sqlite3.connect(db_path) as db:
        rows = db.execute("SELECT id, prev_hash, hash FROM audit ORDER BY id").fetchall()
        head = db.execute("SELECT entries, last_id, hash, at, action FROM chain_head").fetchall()
    db.close()
    assert [r[0] for r in rows] == list(range(1, 11))
    assert rows[0][1] == audit_chain.GENESIS
    assert all(rows[i][1] == rows[i - 1][2] for i in range(1, 10))
    assert head == [(10, 10, rows[-1][2], stamp(10), "export")]
    verdict = ten.verify_audit()
    assert verdict.as_dict() == {"ok": True, "entries": 10, "head": {"id": 10, "hash": rows[-1][2]},
                                 "problem": None, "notes": []}
    assert ten.audit_head() == {"entries": 10, "id": 10, "hash": rows[-1][2]}
    # entries() and the page's reads ignore the hash columns
    assert ten.entries(limit=1)[0] == {"id": 10, "at": at(10), "user": "user10", "address": "10.0.0.1",
                                       "action": "export", "ids": ["rf10"], "detail": None}


def test_an_empty_log_is_intact(db_path):
    verdict = Accounts(db_path).verify_audit()
    assert (verdict.ok, verdict.entries, verdict.head) == (True, 0, {"id": 0, "hash": audit_chain.GENESIS})
    result = verify()
    assert (result.exit_code, result.output) == (0, "The audit log is intact: 0 entries chained.\n")


# -- tampering ----------------------------------------------------------------------------------------


def test_a_removed_middle_entry_is_named(ten, db_path):
    tamper(db_path, "DELETE FROM audit WHERE id = 5")
    result = verify()
    assert result.exit_code == 1
    assert result.output == (
        "The audit log was tampered with: entry 5 was removed after entry 4 "
        f"({stamp(4)}, export): entry 6 ({stamp(6)}, export) names another entry before it.\n")
    answer = json.loads(verify("--json").output)
    assert answer["ok"] is False
    assert answer["problem"] == {"kind": "removed", "id": 5, "at": None, "action": None,
                                 "message": answer["problem"]["message"]}


def test_several_removed_entries_name_the_first(ten, db_path):
    tamper(db_path, "DELETE FROM audit WHERE id IN (1, 2)")
    problem = ten.verify_audit().problem
    assert (problem["kind"], problem["id"]) == ("removed", 1)
    assert problem["message"].startswith("entry 1 was removed (and the 1 after it) at the start of the log")


def test_a_changed_field_is_named_with_its_time_and_action(ten, db_path):
    tamper(db_path, "UPDATE audit SET username = 'mallory' WHERE id = 3")
    result = verify()
    assert (result.exit_code, result.output) == (1, (
        f"The audit log was tampered with: entry 3 ({stamp(3)}, login) was changed: "
        "its hash does not match its fields.\n"))
    assert json.loads(verify("--json").output)["problem"] == {
        "kind": "changed", "id": 3, "at": stamp(3), "action": "login",
        "message": f"entry 3 ({stamp(3)}, login) was changed: its hash does not match its fields"}


def test_a_field_turned_into_a_blob_is_named_not_a_traceback(ten, db_path):
    tamper(db_path, "UPDATE audit SET detail = CAST(detail AS BLOB) WHERE id = 6")  # the same bytes, as a BLOB
    result = verify()
    assert (result.exit_code, result.output) == (1, (
        f"The audit log was tampered with: entry 6 ({stamp(6)}, export) was changed: a field holds a value of a "
        "type graphsvc never writes.\n"))


@pytest.mark.parametrize("column, value", [("at", "'2026-03-02T00:00:00.000000+00:00'"), ("address", "NULL"),
                                           ("action", "'logout'"), ("ids", "'[]'"), ("detail", "'{}'"),
                                           ("id", "70"), ("prev_hash", "'" + "1" * 64 + "'")])
def test_every_field_is_covered(ten, db_path, column, value):
    tamper(db_path, f"UPDATE audit SET {column} = {value} WHERE id = 6")
    problem = ten.verify_audit().problem
    # a new id moves the entry: it is gone from its place
    assert (problem["kind"], problem["id"]) == ("removed" if column == "id" else "changed", 6)


def test_a_changed_entry_with_its_hash_recomputed_is_named(ten, db_path):
    with sqlite3.connect(db_path) as db:
        db.row_factory = sqlite3.Row
        row = dict(db.execute("SELECT * FROM audit WHERE id = 4").fetchone())
    db.close()
    row["username"] = "mallory"
    forged = audit_chain.entry_hash(row, row["prev_hash"])
    tamper(db_path, f"UPDATE audit SET username = 'mallory', hash = '{forged}' WHERE id = 4")
    problem = ten.verify_audit().problem
    assert (problem["kind"], problem["id"], problem["action"]) == ("changed", 4, "export")
    assert "its hash recomputed" in problem["message"]


def test_removed_last_entries_are_told_by_the_head(ten, db_path):
    tamper(db_path, "DELETE FROM audit WHERE id >= 9")
    result = verify()
    assert result.exit_code == 1
    assert result.output == (
        "The audit log was tampered with: entry 9 was removed (and the 1 after it, up to entry 10 "
        f"({stamp(10)}, export)): the log ends at entry 8 but its head records 10 entries up to entry 10 "
        "(truncated).\n")
    assert json.loads(verify("--json").output)["problem"]["kind"] == "truncated"
    # an entry recorded after the truncation does not hide it
    ten.record("login", user="later")
    problem = ten.verify_audit().problem
    assert (problem["kind"], problem["id"]) == ("removed", 9)


def test_the_head_cannot_be_moved_back_or_removed_without_dropping_its_triggers(ten, db_path):
    with sqlite3.connect(db_path) as db:
        for statement in ("UPDATE chain_head SET entries = 8, last_id = 8", "DELETE FROM chain_head"):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                db.execute(statement)
    db.close()
    tamper(db_path, "DROP TRIGGER chain_head_no_delete", "DELETE FROM chain_head", "DELETE FROM audit WHERE id = 10")
    problem = Accounts(db_path).verify_audit().problem  # opening it again does not make a new head
    assert problem["kind"] == "head_missing"


def test_an_anchor_kept_elsewhere_tells_a_rewritten_log(ten, db_path):
    head = ten.verify_audit().head
    anchor = f"{head['id']}:{head['hash']}"
    assert verify("--anchor", anchor).exit_code == 0
    # the whole log replaced by an older copy, head and all: only the anchor tells
    tamper(db_path, "DROP TRIGGER chain_head_forward", "DELETE FROM audit WHERE id = 10",
           "UPDATE chain_head SET entries = 9, last_id = 9, hash = (SELECT hash FROM audit WHERE id = 9)")
    assert verify().exit_code == 0
    result = verify("--anchor", anchor)
    assert result.exit_code == 1 and "entry 10 was removed: the head kept outside the database names entry 10" \
        in result.output
    other = verify("--anchor", f"5:{'a' * 64}")  # an entry the log holds, with another hash
    assert other.exit_code == 1 and "entry 5 is not the entry the head kept outside the database names" \
        in other.output
    bad = verify("--anchor", "10:abc")
    assert bad.exit_code == 1 and "--anchor: give an entry's id and its hash as ID:HASH" in bad.output


# -- the old format, concurrency, copies --------------------------------------------------------------------


OLD_SCHEMA = """
CREATE TABLE audit (id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, username TEXT, address TEXT,
                    action TEXT NOT NULL, ids TEXT NOT NULL DEFAULT '[]', detail TEXT);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: its entries cannot be changed'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: its entries cannot be deleted'); END;
"""


def test_a_database_from_before_the_chain_is_chained_once(db_path):
    db_path.parent.mkdir(mode=0o700)
    with sqlite3.connect(db_path) as db:
        db.executescript(OLD_SCHEMA)
        db.executemany("INSERT INTO audit (at, username, action, ids) VALUES (?, ?, ?, ?)",
                       [(stamp(n), f"u{n}", "login", "[]") for n in range(1, 6)])
    db.close()
    accounts = Accounts(db_path)
    verdict = accounts.verify_audit()
    assert (verdict.ok, verdict.entries, verdict.head["id"]) == (True, 5, 5)
    before = verdict.head["hash"]
    Accounts(db_path)  # again: nothing rehashed
    assert accounts.verify_audit().head["hash"] == before
    accounts.record("logout", user="u5")
    assert accounts.verify_audit().entries == 6
    assert [e["user"] for e in accounts.entries()] == ["u5", "u5", "u4", "u3", "u2", "u1"]
    with sqlite3.connect(db_path) as db:  # the trigger is back
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute("UPDATE audit SET username = 'x' WHERE id = 1")
    db.close()


PROCESS = """
import sys
from graphsvc.accounts import Accounts
accounts = Accounts(sys.argv[1])
for i in range(40):
    accounts.record("write referral", user="p" + sys.argv[2], ids=[str(i)])
"""


def test_writers_in_several_processes_keep_one_line(db_path):
    Accounts(db_path)
    procs = [subprocess.Popen([sys.executable, "-c", PROCESS, str(db_path), str(n)], stderr=subprocess.PIPE,
                              text=True) for n in range(4)]
    for p in procs:
        assert p.wait(timeout=120) == 0, p.stderr.read()
        p.stderr.close()
    verdict = Accounts(db_path).verify_audit()
    assert (verdict.ok, verdict.entries, verdict.head["id"]) == (True, 160, 160)


def test_a_copy_is_checked_read_only(ten, db_path, tmp_path):
    copy = tmp_path / "copy.sqlite3"
    backup_database(db_path, copy)
    assert copy.stat().st_mode & 0o777 == 0o600
    assert not Path(f"{copy}-wal").exists()
    before = copy.read_bytes()
    assert verify_audit_file(copy).ok
    assert database_counts(copy) == {"users": 0, "tokens": 0, "audit": 10,
                                     "audit_head": {"entries": 10, "id": 10, "hash": ten.audit_head()["hash"]}}
    result = verify("--db", str(copy))
    assert result.exit_code == 0 and result.output.startswith("The audit log is intact: 10 entries chained")
    assert copy.read_bytes() == before
    tamper(copy, "DELETE FROM audit WHERE id = 2")
    assert verify("--db", str(copy)).exit_code == 1
    missing = verify("--db", str(tmp_path / "nope.sqlite3"))
    assert missing.exit_code == 1 and "nope.sqlite3: no such accounts database" in missing.output
    (tmp_path / "junk.sqlite3").write_text("not a database")
    junk = verify("--db", str(tmp_path / "junk.sqlite3"))
    assert junk.exit_code == 1 and "junk.sqlite3: not a readable SQLite database" in junk.output


def test_the_audit_listing_still_works_beside_verify(ten):
    result = CliRunner().invoke(main, ["audit", "--limit", "1"])
    assert (result.exit_code, result.output) == (0, "2026-03-10 09:30:00  user10  10.0.0.1  export  rf10\n")
    assert "verify" in CliRunner().invoke(main, ["audit", "--help"]).output
