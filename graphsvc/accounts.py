"""Accounts, API tokens and the audit log, kept outside the analysed graph.

They live in a SQLite file (``accounts_db``: by default
``<data_dir>/graphsvc-accounts.sqlite3``, mode 0600 in a 0700 folder), not in
Neo4j, so that nothing an analyst can run against the graph (the console's
Cypher, an export) can read a password hash, a token hash or the audit log.

* Passwords are hashed with argon2id (argon2-cffi's defaults), rehashed on the
  next good login when those defaults change. A new password must be 10 to
  1024 characters and hard to guess: zxcvbn's score at least 3 of 4, with the
  username among the words it knows (``password_problem``).
* A web session is a row of ``sessions`` (``start_session``): its id is 256
  random bits kept in the signed cookie, only its SHA-256 stored. It ends at
  logout, after ``idle`` without a request or ``lifetime`` in all
  (``session_user``), and every session of an account ends when its password,
  role or clinician changes or it is removed.
* Failed logins are counted in ``login_failures`` (``begin_login``,
  ``login_succeeded``), so every process sharing the file counts the same.
* An API token is ``gst_<id>_<secret>``; only a SHA-256 of the secret is
  stored. The token is shown once, when it is created.
* The audit log is append-only, enforced by SQLite itself: triggers abort
  any UPDATE or DELETE of its rows. It is also a hash chain
  (``graphsvc.audit_chain``): each entry stores the hash of the one before it
  and its own, and the table ``chain_head`` the last entry's id and hash and
  how many there are, all written in the transaction that appends the entry.
  ``verify_audit`` names the first entry changed or removed, even by someone
  who dropped the triggers.

Every call opens its own connection (WAL mode, a busy timeout, write
transactions taken with ``BEGIN IMMEDIATE``), so one ``Accounts`` may be
shared by the threads of a web server, and any number of processes (gunicorn
workers, the CLI) may use the same file at once.

The library does not audit itself: callers ``record`` what they did, with
who did it and from where (the CLI as ``cli:<login name>``).

Roles: ``manager``, ``intake``, ``clinician`` (linked to its Clinician node by
``clinician_id``) and ``analyst``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import os
import re
import secrets
import sqlite3
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from . import audit_chain
from .errors import GraphsvcError, InvalidInput, NotFound
from .keys import kept_key, private_folder
from .limits import CONTROL, ID_PATTERN, ID_RE, PATTERN_RULES, shown
from .permissions import ROLES  # noqa: E402

USERNAME_MAX = 64
USERNAME_PATTERN = re.compile(rf"[a-z0-9._@-]{{1,{USERNAME_MAX}}}")
PASSWORD_MIN, PASSWORD_MAX = 10, 1024
TOKEN_NAME_MAX = 100

TOKEN_PREFIX = "gst_"
_TOKEN = re.compile(r"gst_([0-9a-f]{16})_([A-Za-z0-9_-]{43})")
# last_used_at is written at most this often per token, so that an API client
# making many calls does not make as many writes.
LAST_USED_RESOLUTION = timedelta(minutes=1)

BUSY_TIMEOUT_SECONDS = 30.0

# Password strength: zxcvbn's score (0-4) must be at least this; it sees the first
# PASSWORD_ESTIMATED characters (its own limit; the estimate's time grows with the length).
PASSWORD_SCORE_MIN = 3
PASSWORD_ESTIMATED = 72

# Web sessions: last_seen_at is written at most this often per session (an idle
# limit is kept to within it); rows are forgotten this long after they began.
SESSION_SEEN_RESOLUTION = timedelta(minutes=1)
SESSIONS_KEPT = timedelta(days=31)

# Failed logins (``begin_login``). A streak of failures is forgotten after
# LOGIN_QUIET without one. Past the free failures of a streak, each attempt
# waits 1, 2, 4 ... seconds (at most LOGIN_DELAY_MAX) after the last failure:
# for one account from one address after LOGIN_FREE_PAIR failures; from one
# address, whatever the accounts, after LOGIN_FREE_ADDRESS; for one account from
# LOGIN_FREE_ACCOUNT different addresses, only for an address that has failed on
# the account itself, never one the account signed in from in the last
# LOGIN_KNOWN_DAYS days.
LOGIN_QUIET = timedelta(minutes=15)
LOGIN_DELAY_MAX = 60
LOGIN_FREE_PAIR = 3
LOGIN_FREE_ADDRESS = 20
LOGIN_FREE_ACCOUNT = 10
LOGIN_KNOWN_DAYS = 30
LOGIN_KEY_MAX = 100  # characters of a tried username (or an address) kept

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    username      TEXT PRIMARY KEY,
    role          TEXT NOT NULL,
    clinician_id  TEXT,
    password_hash TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL,
    name          TEXT NOT NULL DEFAULT '',
    secret_sha256 TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    last_used_at  TEXT
);
CREATE INDEX IF NOT EXISTS tokens_username ON tokens (username);
CREATE TABLE IF NOT EXISTS sessions (
    id_sha256    TEXT PRIMARY KEY,
    username     TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    ended_at     TEXT,
    ended_why    TEXT
);
CREATE INDEX IF NOT EXISTS sessions_username ON sessions (username);
CREATE INDEX IF NOT EXISTS sessions_created_at ON sessions (created_at);
CREATE TABLE IF NOT EXISTS login_failures (
    scope    TEXT NOT NULL,
    key      TEXT NOT NULL,
    failures INTEGER NOT NULL,
    last_at  TEXT NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX IF NOT EXISTS login_failures_last_at ON login_failures (last_at);
CREATE TABLE IF NOT EXISTS login_addresses (
    username TEXT NOT NULL,
    address  TEXT NOT NULL,
    last_at  TEXT NOT NULL,
    PRIMARY KEY (username, address)
);
CREATE TABLE IF NOT EXISTS audit (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    at       TEXT NOT NULL,
    username TEXT,
    address  TEXT,
    action   TEXT NOT NULL,
    ids      TEXT NOT NULL DEFAULT '[]',
    detail   TEXT,
    prev_hash TEXT,
    hash     TEXT
);
CREATE INDEX IF NOT EXISTS audit_at ON audit (at);
CREATE INDEX IF NOT EXISTS audit_username ON audit (username);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only: its entries cannot be changed');
END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only: its entries cannot be deleted');
END;
CREATE TABLE IF NOT EXISTS chain_head (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    entries INTEGER NOT NULL,
    last_id INTEGER NOT NULL,
    hash    TEXT NOT NULL,
    at      TEXT,
    action  TEXT
);
CREATE TRIGGER IF NOT EXISTS chain_head_no_delete BEFORE DELETE ON chain_head
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only: its head cannot be deleted');
END;
CREATE TRIGGER IF NOT EXISTS chain_head_forward BEFORE UPDATE ON chain_head
WHEN NEW.entries != OLD.entries + 1 OR NEW.last_id <= OLD.last_id
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only: its head only moves forward, one entry at a time');
END;
"""


@dataclass(frozen=True)
class User:
    username: str
    role: str
    clinician_id: str | None
    created_at: datetime  # UTC

    def as_dict(self) -> dict:
        return {"username": self.username, "role": self.role, "clinician_id": self.clinician_id,
                "created_at": self.created_at.isoformat()}


# -- validation ------------------------------------------------------------------


def normalise_username(username) -> str:
    """``username`` trimmed and lower-cased; ``InvalidInput`` unless 1-64 of ``a-z 0-9 . _ @ -``."""
    problem = username_problem(username)
    if problem:
        raise InvalidInput(problem)
    return username.strip().lower()


def username_problem(username) -> str | None:
    if not isinstance(username, str):
        return "field 'username': must be text"
    name = username.strip().lower()
    if not USERNAME_PATTERN.fullmatch(name):
        return (f"field 'username': must be 1-{USERNAME_MAX} characters of a-z, 0-9 and . _ @ - "
                f"(got {shown(username)})")
    return None


def role_problems(role, clinician_id) -> list[str]:
    """What is wrong with ``role`` and ``clinician_id`` together (empty: nothing)."""
    problems = []
    if role not in ROLES:
        problems.append(f"field 'role': must be one of {', '.join(ROLES)} (got {shown(role)})")
    if role == "clinician":
        if clinician_id is None or clinician_id == "":
            problems.append("field 'clinician_id': required for role clinician (the id of its Clinician)")
        elif not isinstance(clinician_id, str) or not ID_RE.fullmatch(clinician_id):
            problems.append(f"field 'clinician_id': {PATTERN_RULES[ID_PATTERN]} (got {shown(clinician_id)})")
    elif clinician_id is not None and role in ROLES:
        problems.append(f"field 'clinician_id': only for role clinician (got role {role!r})")
    return problems


def password_problem(password, username: str | None = None) -> str | None:
    """What is wrong with ``password`` as a new password of ``username`` (None: nothing).

    10 to 1024 characters, and not easy to guess: zxcvbn's score at least
    ``PASSWORD_SCORE_MIN`` (3 of 4), the username and its parts among the words
    it tries; if it is easy, zxcvbn's warning and suggestions say why.
    """
    if not isinstance(password, str):
        return "field 'password': must be text"
    if len(password) < PASSWORD_MIN:
        return f"field 'password': must be at least {PASSWORD_MIN} characters (got {len(password)})"
    if len(password) > PASSWORD_MAX:
        return f"field 'password': must be at most {PASSWORD_MAX} characters (got {len(password)})"
    return password_weakness(password, username)


PASSWORD_CONTEXT_WORDS = ("graphsvc", "referral", "referrals", "referrer", "clinician", "manager", "analyst",
                          "intake", "practice", "therapy", "counseling", "mental", "health")


def password_weakness(password: str, username: str | None = None) -> str | None:
    """Why ``password`` is too easy to guess (zxcvbn's reasons), or None when its score is high enough."""
    from zxcvbn import zxcvbn  # its word lists take a moment to load: only when a password is set

    # The words anyone guessing here would try first: the product's, the practice's roles and trade, and the
    # username whole, without its punctuation, and in parts ("ana.probe", "anaprobe", "ana", "probe").
    inputs = list(PASSWORD_CONTEXT_WORDS)
    if isinstance(username, str) and username.strip():
        name = username.strip().lower()
        parts = [part for part in re.split(r"[._@-]+", name) if part]
        inputs += [name, "".join(parts), *parts]
    if isinstance(username, str) and username.strip():
        # zxcvbn scores the username twice, or its parts swapped, as strong: take the username's parts out
        # and see what is left beside digits and punctuation.
        rest = password.lower()
        for part in sorted({p for p in inputs[len(PASSWORD_CONTEXT_WORDS):] if len(p) >= 3}, key=len, reverse=True):
            rest = rest.replace(part, "")
        if len(re.sub(r"[\W\d_]+", "", rest)) < 4:
            return ("field 'password': too easy to guess: it is made of the username (and digits or "
                    "punctuation). Add a few words of your own.")
    result = zxcvbn(password[:PASSWORD_ESTIMATED], user_inputs=inputs)
    score = result["score"]
    if score >= PASSWORD_SCORE_MIN:
        return None
    feedback = result.get("feedback") or {}
    reasons = [feedback.get("warning") or "", *(feedback.get("suggestions") or [])]
    why = " ".join(r.strip() for r in reasons if r and r.strip()) or \
        "Add another word or two. Uncommon words are better."
    return (f"field 'password': too easy to guess (strength {score} of 4, at least {PASSWORD_SCORE_MIN} "
            f"needed): {why}")


def _check(*problems) -> None:
    found = [p for group in problems for p in ([group] if isinstance(group, str) else group or []) if p]
    if found:
        raise InvalidInput(found)


# -- the store ---------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC)


def _stamp(moment: datetime) -> str:
    """UTC, fixed width, so that text order is time order."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _parse_stamp(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _user(row) -> User:
    return User(username=row["username"], role=row["role"], clinician_id=row["clinician_id"],
                created_at=_parse_stamp(row["created_at"]))


def _use_wal(db: sqlite3.Connection) -> None:
    """Switch the file to write-ahead logging (persistent: readers never wait for a writer).

    The switch needs the file to itself, and SQLite answers "database is locked"
    at once, without its busy handler, while another process that is creating
    the same new file holds it: so wait here, as long as any other lock wait.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
    while True:
        try:
            if db.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
                return
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class Accounts:
    """The accounts, tokens and audit log in the SQLite file ``path`` (created on first use)."""

    def __init__(self, path: Path | str, *, hasher: PasswordHasher | None = None):
        self.path = Path(path)
        # Thread-safe and stateless; tests pass cheaper parameters.
        self.hasher = hasher or PasswordHasher()
        self._dummy_hash: str | None = None
        self._dummy_lock = threading.Lock()
        self._create()

    @classmethod
    def open(cls, settings, **kwargs) -> Accounts:
        """The accounts database the settings name (``accounts_db``)."""
        return cls(settings.accounts_db, **kwargs)

    def __repr__(self) -> str:
        return f"Accounts({str(self.path)!r})"

    # -- files and connections

    def _create(self) -> None:
        try:
            _private_folder(self.path.parent)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            try:  # a copy restored with looser permissions is tightened
                if self.path.stat().st_mode & 0o077:
                    os.chmod(self.path, 0o600)
            except PermissionError:
                pass
        except OSError as e:
            raise GraphsvcError(f"Cannot create the accounts database {self.path}: {e.strerror}") from None
        else:
            os.fchmod(fd, 0o600)
            os.close(fd)
        with self._connect() as db:
            _use_wal(db)
            # One transaction, every statement IF NOT EXISTS: processes that
            # open a new file at once do not conflict.
            db.executescript("BEGIN IMMEDIATE;\n" + SCHEMA + "\nCOMMIT;")
            with self._transaction(db):
                _chain_audit(db)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
        except sqlite3.Error as e:
            raise GraphsvcError(f"Cannot open the accounts database {self.path}: {e}") from None
        db.row_factory = sqlite3.Row
        with closing(db):
            yield db

    @staticmethod
    @contextmanager
    def _transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
        """A write transaction that takes the write lock at once (waiting up to the busy timeout)."""
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as db, self._transaction(db):
            yield db

    def _read(self, sql: str, params: Iterable = ()) -> list[sqlite3.Row]:
        with self._connect() as db:
            return db.execute(sql, tuple(params)).fetchall()

    # -- users

    def add_user(self, username: str, role: str, password: str, clinician_id: str | None = None) -> User:
        _check(username_problem(username), role_problems(role, clinician_id),
               password_problem(password, username if isinstance(username, str) else None))
        user = User(username.strip().lower(), role, clinician_id, _now())
        password_hash = self.hasher.hash(password)
        with self._write() as db:
            try:
                db.execute("INSERT INTO users (username, role, clinician_id, password_hash, created_at) "
                           "VALUES (?, ?, ?, ?, ?)",
                           (user.username, role, clinician_id, password_hash, _stamp(user.created_at)))
            except sqlite3.IntegrityError:
                raise InvalidInput(f"user {user.username!r} already exists") from None
        return user

    def users(self) -> list[User]:
        return [_user(r) for r in self._read("SELECT * FROM users ORDER BY username")]

    def user(self, username: str) -> User:
        name = self._name(username)
        rows = self._read("SELECT * FROM users WHERE username = ?", (name,))
        if not rows:
            raise NotFound(f"unknown user {name!r}")
        return _user(rows[0])

    def exists(self, username: str) -> bool:
        try:
            self.user(username)
        except NotFound:
            return False
        return True

    def set_password(self, username: str, password: str) -> None:
        """A new password (``password_problem`` first); every web session of the account ends."""
        name = self._name(username)
        _check(password_problem(password, name))
        password_hash = self.hasher.hash(password)
        with self._write() as db:
            changed = db.execute("UPDATE users SET password_hash = ? WHERE username = ?",
                                 (password_hash, name)).rowcount
            if changed == 0:
                raise NotFound(f"unknown user {name!r}")
            self._end_sessions(db, name, "password changed")

    def set_role(self, username: str, role: str, clinician_id: str | None = None) -> User:
        name = self._name(username)
        _check(role_problems(role, clinician_id))
        with self._write() as db:  # one write transaction: two demotions at once cannot both pass the check
            if role != "manager":
                _keep_a_manager(db, name, "take the manager role from")
            before = db.execute("SELECT role, clinician_id FROM users WHERE username = ?", (name,)).fetchone()
            if before is None:
                raise NotFound(f"unknown user {name!r}")
            db.execute("UPDATE users SET role = ?, clinician_id = ? WHERE username = ?", (role, clinician_id, name))
            if (before["role"], before["clinician_id"]) != (role, clinician_id):
                self._end_sessions(db, name, "role changed")
        return self.user(name)

    def remove_user(self, username: str) -> int:
        """Remove the user and revoke its tokens (how many: the result); its audit entries stay."""
        name = self._name(username)
        with self._write() as db:
            _keep_a_manager(db, name, "remove")
            revoked = db.execute("DELETE FROM tokens WHERE username = ?", (name,)).rowcount
            if db.execute("DELETE FROM users WHERE username = ?", (name,)).rowcount == 0:
                raise NotFound(f"unknown user {name!r}")
            self._end_sessions(db, name, "user removed")
            db.execute("DELETE FROM login_addresses WHERE username = ?", (name,))
        return revoked

    def _update_user(self, name: str, assignments: str, params: tuple) -> None:
        with self._write() as db:
            changed = db.execute(f"UPDATE users SET {assignments} WHERE username = ?", (*params, name)).rowcount
            if changed == 0:
                raise NotFound(f"unknown user {name!r}")

    @staticmethod
    def _name(username) -> str:
        """A username as looked up: trimmed and lower-cased; one that cannot exist is unknown."""
        if not isinstance(username, str) or not USERNAME_PATTERN.fullmatch(username.strip().lower()):
            raise NotFound(f"unknown user {shown(username)}")
        return username.strip().lower()

    # -- passwords

    def check_password(self, username: str, password: str) -> User | None:
        """The user if ``password`` is theirs, else None.

        An unknown user costs one hash too, so that the time taken does not
        tell which usernames exist. A hash made with older parameters is
        replaced by one with the current parameters.
        """
        if not isinstance(password, str) or len(password) > PASSWORD_MAX:
            return None  # no account has such a password
        name = username.strip().lower() if isinstance(username, str) else ""
        rows = (self._read("SELECT * FROM users WHERE username = ?", (name,))
                if USERNAME_PATTERN.fullmatch(name) else [])
        if not rows:
            self._spend_one_hash(password)
            return None
        row = rows[0]
        try:
            self.hasher.verify(row["password_hash"], password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        if self.hasher.check_needs_rehash(row["password_hash"]):
            with self._write() as db:  # only if nobody changed it meanwhile
                db.execute("UPDATE users SET password_hash = ? WHERE username = ? AND password_hash = ?",
                           (self.hasher.hash(password), name, row["password_hash"]))
        return _user(row)

    def _spend_one_hash(self, password: str) -> None:
        with self._dummy_lock:
            if self._dummy_hash is None:
                self._dummy_hash = self.hasher.hash(secrets.token_urlsafe(16))
        try:
            self.hasher.verify(self._dummy_hash, password)
        except VerificationError:
            pass

    # -- API tokens

    def create_token(self, username: str, name: str = "") -> tuple[str, str]:
        """A new API token for ``username``: ``(token_id, token)``; the token is not stored, only its hash."""
        user = self.user(username).username
        if not isinstance(name, str):
            raise InvalidInput("field 'name': must be text")
        name = name.strip()
        if len(name) > TOKEN_NAME_MAX or CONTROL.search(name):
            raise InvalidInput(f"field 'name': must be one line of at most {TOKEN_NAME_MAX} characters "
                               f"(got {shown(name)})")
        while True:
            token_id = secrets.token_hex(8)
            secret = secrets.token_urlsafe(32)
            # The secret is 256 random bits, not something a person chose: no
            # dictionary or brute-force attack can reach it, so a plain SHA-256
            # is as safe as a slow password hash here, and lets every API call
            # be checked in microseconds instead of argon2's ~50 ms and 64 MiB.
            try:
                with self._write() as db:
                    if not db.execute("SELECT 1 FROM users WHERE username = ?", (user,)).fetchone():
                        raise NotFound(f"unknown user {user!r}")
                    db.execute("INSERT INTO tokens (id, username, name, secret_sha256, created_at) "
                               "VALUES (?, ?, ?, ?, ?)", (token_id, user, name, _sha256(secret), _stamp(_now())))
            except sqlite3.IntegrityError:  # the same id twice: 1 in 2^64
                continue
            return token_id, f"{TOKEN_PREFIX}{token_id}_{secret}"

    def tokens(self, username: str | None = None) -> list[dict]:
        """The tokens (of ``username``, or everyone's): id, username, name, created_at, last_used_at."""
        if username is None:
            rows = self._read("SELECT * FROM tokens ORDER BY username, created_at, id")
        else:
            rows = self._read("SELECT * FROM tokens WHERE username = ? ORDER BY created_at, id",
                              (self.user(username).username,))
        return [{"id": r["id"], "username": r["username"], "name": r["name"],
                 "created_at": _parse_stamp(r["created_at"]), "last_used_at": _parse_stamp(r["last_used_at"])}
                for r in rows]

    def revoke_token(self, token_id: str) -> dict:
        """Revoke (delete) the token; it is returned as ``tokens`` lists it. ``NotFound`` if unknown."""
        with self._write() as db:
            row = db.execute("SELECT * FROM tokens WHERE id = ?", (token_id,)).fetchone()
            if row is None:
                raise NotFound(f"unknown token {shown(token_id)}")
            db.execute("DELETE FROM tokens WHERE id = ?", (token_id,))
        return {"id": row["id"], "username": row["username"], "name": row["name"],
                "created_at": _parse_stamp(row["created_at"]), "last_used_at": _parse_stamp(row["last_used_at"])}

    def user_for_token(self, token: str) -> User | None:
        """The user whose token this is, or None (unknown, revoked, malformed)."""
        if not isinstance(token, str) or len(token) > 100:
            return None
        match = _TOKEN.fullmatch(token)
        if not match:
            return None
        token_id, secret = match.groups()
        rows = self._read("SELECT t.secret_sha256, t.last_used_at, u.* FROM tokens t "
                          "JOIN users u ON u.username = t.username WHERE t.id = ?", (token_id,))
        if not rows or not hmac.compare_digest(rows[0]["secret_sha256"], _sha256(secret)):
            return None
        row = rows[0]
        now = _now()
        last = _parse_stamp(row["last_used_at"])
        if last is None or now - last >= LAST_USED_RESOLUTION:
            with self._write() as db:
                db.execute("UPDATE tokens SET last_used_at = ? WHERE id = ?", (_stamp(now), token_id))
        return _user(row)

    # -- the audit log

    def record(self, action: str, *, user: str | None, address: str | None = None,
               ids: Iterable[str] = (), detail: dict | None = None) -> None:
        """Append an entry to the audit log: now (UTC), who, from where, what, the ids it touched."""
        if not isinstance(action, str) or not action.strip():
            raise InvalidInput("field 'action': must be non-empty text")
        ids = [str(i) for i in ids]
        entry = {"at": _stamp(_now()), "username": user, "address": address, "action": action.strip(),
                 "ids": json.dumps(ids),
                 "detail": json.dumps(detail, sort_keys=True, default=str) if detail is not None else None}
        with self._write() as db:  # BEGIN IMMEDIATE: one writer at a time, so the chain stays one line
            head = db.execute("SELECT last_id, hash FROM chain_head WHERE id = 1").fetchone()
            last = db.execute("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
            entry["id"] = max(last["id"] if last else 0, head["last_id"] if head else 0) + 1
            # Without a head (its table emptied by hand) the entry follows the last one; verify says so.
            prev = head["hash"] if head else (last["hash"] if last and last["hash"] else audit_chain.GENESIS)
            digest = audit_chain.entry_hash(entry, prev)
            db.execute("INSERT INTO audit (id, at, username, address, action, ids, detail, prev_hash, hash) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (entry["id"], entry["at"], user, address, entry["action"], entry["ids"], entry["detail"],
                        prev, digest))
            if head:
                db.execute("UPDATE chain_head SET entries = entries + 1, last_id = ?, hash = ?, at = ?, action = ? "
                           "WHERE id = 1", (entry["id"], digest, entry["at"], entry["action"]))

    def verify_audit(self, anchor: dict | None = None) -> audit_chain.Verdict:
        """Check the audit log's hash chain and its head (``graphsvc.audit_chain.verify``).

        ``anchor``: ``{"id", "hash"}`` of an entry the log held earlier, kept elsewhere (a backup's
        manifest, ``graphsvc audit verify --json`` saved): the log must still hold it.
        """
        with self._connect() as db:
            return _verify_chain(db, anchor)

    def audit_head(self) -> dict:
        """The audit log's head: how many entries, the last one's id and hash (``{"entries", "id", "hash"}``)."""
        rows = self._read("SELECT entries, last_id, hash FROM chain_head WHERE id = 1")
        if not rows:
            return {"entries": None, "id": None, "hash": None}
        return {"entries": rows[0]["entries"], "id": rows[0]["last_id"], "hash": rows[0]["hash"]}

    def entries(self, since: date | None = None, user: str | None = None, limit: int | None = None, *,
                action: str | None = None, offset: int = 0) -> list[dict]:
        """Audit entries, newest first: id, at (UTC), user, address, action, ids, detail.

        ``since``: a date (from its start, UTC) or a datetime; ``user``: exactly as recorded;
        ``action``: exactly, or every action it begins when it ends with ``*`` (``write *``);
        ``limit`` and ``offset`` page through them.
        """
        where, params = self._audit_filter(since, user, action)
        sql = "SELECT * FROM audit" + where + " ORDER BY id DESC"
        if limit is not None or offset:
            sql += " LIMIT ? OFFSET ?"
            params += [-1 if limit is None else int(limit), int(offset)]
        return [{"id": r["id"], "at": _parse_stamp(r["at"]), "user": r["username"], "address": r["address"],
                 "action": r["action"], "ids": json.loads(r["ids"]),
                 "detail": json.loads(r["detail"]) if r["detail"] is not None else None}
                for r in self._read(sql, params)]

    def count_entries(self, since: date | None = None, user: str | None = None, *,
                      action: str | None = None) -> int:
        """How many audit entries ``entries`` would list with the same filters and no limit."""
        where, params = self._audit_filter(since, user, action)
        return self._read("SELECT count(*) AS n FROM audit" + where, params)[0]["n"]

    def audit_actions(self) -> list[str]:
        """Every action the audit log holds, sorted (for a page's filter)."""
        return [r["action"] for r in self._read("SELECT DISTINCT action FROM audit ORDER BY action")]

    @staticmethod
    def _audit_filter(since, user, action) -> tuple[str, list]:
        where, params = [], []
        if since is not None:
            if isinstance(since, datetime):
                bound = _stamp(since if since.tzinfo else since.replace(tzinfo=UTC))
            else:
                bound = since.isoformat()
            where.append("at >= ?")
            params.append(bound)
        if user is not None:
            where.append("username = ?")
            params.append(user)
        if action is not None:
            if action.endswith("*"):
                # A prefix, matched literally: no LIKE, so % and _ in it mean themselves.
                where.append("substr(action, 1, ?) = ?")
                params += [len(action) - 1, action[:-1]]
            else:
                where.append("action = ?")
                params.append(action)
        return (" WHERE " + " AND ".join(where) if where else ""), params

    # -- sessions

    def session_material(self, username: str) -> str | None:
        """What a web session of ``username`` is bound to, as text; None if there is no such account.

        It changes with the account's password, role or clinician, and when the account is removed
        and added again (its creation time). The web once signed it into its cookie; its sessions
        are now rows of ``sessions`` (``start_session``), which those changes end themselves. Kept
        for callers that compare it.
        """
        rows = self._read("SELECT username, role, clinician_id, password_hash, created_at "
                          "FROM users WHERE username = ?", (username,))
        if not rows:
            return None
        return "\0".join(str(rows[0][k] or "") for k in ("username", "role", "clinician_id",
                                                          "password_hash", "created_at"))

    # -- web sessions, kept on the server

    # What "now" is for sessions and failed logins: tests set another function to move time.
    clock = staticmethod(_now)

    def start_session(self, username: str) -> str:
        """A new web session of ``username``; its id (256 random bits) is returned, only its SHA-256 kept."""
        name = self._name(username)
        now = self.clock()
        session_id = secrets.token_urlsafe(32)
        with self._write() as db:
            if not db.execute("SELECT 1 FROM users WHERE username = ?", (name,)).fetchone():
                raise NotFound(f"unknown user {name!r}")
            db.execute("DELETE FROM sessions WHERE created_at < ?", (_stamp(now - SESSIONS_KEPT),))
            db.execute("INSERT INTO sessions (id_sha256, username, created_at, last_seen_at) VALUES (?, ?, ?, ?)",
                       (_sha256(session_id), name, _stamp(now), _stamp(now)))
        return session_id

    def session_user(self, session_id: str, *, idle: timedelta, lifetime: timedelta) -> User | None:
        """The user of a live session, or None: unknown, ended, idle for ``idle``, or begun ``lifetime`` ago.

        An idle or too old session is ended here. ``last_seen_at`` is written
        at most once per ``SESSION_SEEN_RESOLUTION``, so most requests only read.
        """
        if not isinstance(session_id, str) or not 0 < len(session_id) <= 100:
            return None
        key = _sha256(session_id)
        rows = self._read("SELECT s.created_at AS session_created_at, s.last_seen_at, s.ended_at, u.* "
                          "FROM sessions s JOIN users u ON u.username = s.username WHERE s.id_sha256 = ?", (key,))
        if not rows or rows[0]["ended_at"] is not None:
            return None
        row, now = rows[0], self.clock()
        last_seen = _parse_stamp(row["last_seen_at"])
        why = None
        if now - _parse_stamp(row["session_created_at"]) >= lifetime:
            why = "too old"
        elif now - last_seen >= idle:
            why = "idle"
        if why is not None:
            with self._write() as db:
                db.execute("UPDATE sessions SET ended_at = ?, ended_why = ? WHERE id_sha256 = ? AND ended_at IS NULL",
                           (_stamp(now), why, key))
            return None
        if now - last_seen >= SESSION_SEEN_RESOLUTION:
            with self._write() as db:
                db.execute("UPDATE sessions SET last_seen_at = ? WHERE id_sha256 = ? AND ended_at IS NULL",
                           (_stamp(now), key))
        return _user(row)

    def end_session(self, session_id: str, why: str = "logout") -> bool:
        """End one session (logout); whether it was live."""
        if not isinstance(session_id, str):
            return False
        with self._write() as db:
            return db.execute("UPDATE sessions SET ended_at = ?, ended_why = ? WHERE id_sha256 = ? "
                              "AND ended_at IS NULL", (_stamp(self.clock()), why, _sha256(session_id))).rowcount > 0

    def end_sessions(self, username: str, why: str = "ended") -> int:
        """End every live session of ``username``; how many."""
        name = self._name(username)
        with self._write() as db:
            return self._end_sessions(db, name, why)

    def _end_sessions(self, db, name: str, why: str) -> int:
        return db.execute("UPDATE sessions SET ended_at = ?, ended_why = ? WHERE username = ? AND ended_at IS NULL",
                          (_stamp(self.clock()), why, name)).rowcount

    def sessions(self, username: str | None = None) -> list[dict]:
        """The sessions kept (of ``username``, or everyone's), newest first; never their ids."""
        where, params = ("", ()) if username is None else (" WHERE username = ?", (username.strip().lower(),))
        rows = self._read("SELECT * FROM sessions" + where + " ORDER BY created_at DESC", params)
        return [{"username": r["username"], "created_at": _parse_stamp(r["created_at"]),
                 "last_seen_at": _parse_stamp(r["last_seen_at"]), "ended_at": _parse_stamp(r["ended_at"]),
                 "ended_why": r["ended_why"]} for r in rows]

    # -- failed logins

    def begin_login(self, username: str, address: str | None) -> LoginWait | None:
        """Before checking a password: how long this login must wait (None: go on).

        When it may go on it is counted at once as a failure (so that attempts
        sent together cannot all pass before any is counted);
        ``login_succeeded`` takes it back. See ``LOGIN_*`` for the rules.
        """
        user, where = _login_key(username), _login_key(address or "?")
        now = self.clock()
        keys = {"pair": f"{user}\0{where}", "address": where, "account": user}
        with self._write() as db:
            db.execute("DELETE FROM login_failures WHERE last_at < ?", (_stamp(now - LOGIN_QUIET),))
            rows = {r["scope"]: r for r in db.execute(
                "SELECT * FROM login_failures WHERE (scope, key) IN (VALUES ('pair', ?), ('address', ?), "
                "('account', ?))", (keys["pair"], keys["address"], keys["account"]))}
            waits = []
            for scope, free, why in (("pair", LOGIN_FREE_PAIR, "this account from this address"),
                                     ("address", LOGIN_FREE_ADDRESS, "this address"),
                                     ("account", LOGIN_FREE_ACCOUNT, "this account from many addresses")):
                row = rows.get(scope)
                if row is None or row["failures"] < free:
                    continue
                # Never an address that has not failed on this account lately, nor one it signs in from:
                # else anyone with a few dozen addresses (IPv6 has plenty) could keep the owner out of a
                # new account, or out of theirs on a new network. A fresh address's first try always goes.
                if scope == "account" and (rows.get("pair") is None or self._known_address(db, user, where, now)):
                    continue
                delay = min(LOGIN_DELAY_MAX, 2 ** min(row["failures"] - free, 16))
                left = (_parse_stamp(row["last_at"]) + timedelta(seconds=delay) - now).total_seconds()
                if left > 0:
                    waits.append(LoginWait(max(1, math.ceil(left)), why))
            if waits:
                return max(waits, key=lambda w: w.seconds)
            stamp = _stamp(now)
            for scope in ("pair", "address"):
                db.execute("INSERT INTO login_failures (scope, key, failures, last_at) VALUES (?, ?, 1, ?) "
                           "ON CONFLICT (scope, key) DO UPDATE SET failures = failures + 1, last_at = excluded.last_at",
                           (scope, keys[scope], stamp))
            # The account counts the addresses failing on it: one more when this pair begins a streak.
            new_pair = 1 if rows.get("pair") is None else 0
            db.execute("INSERT INTO login_failures (scope, key, failures, last_at) VALUES ('account', ?, 1, ?) "
                       "ON CONFLICT (scope, key) DO UPDATE SET failures = failures + ?, last_at = excluded.last_at",
                       (keys["account"], stamp, new_pair))
        return None

    def login_succeeded(self, username: str, address: str | None) -> None:
        """The password was right: take back the failure ``begin_login`` counted, forget the pair's
        streak, and remember the address as one the account signs in from."""
        user, where = _login_key(username), _login_key(address or "?")
        now = self.clock()
        with self._write() as db:
            pair = db.execute("SELECT failures FROM login_failures WHERE scope = 'pair' AND key = ?",
                              (f"{user}\0{where}",)).fetchone()
            db.execute("DELETE FROM login_failures WHERE scope = 'pair' AND key = ?", (f"{user}\0{where}",))
            db.execute("UPDATE login_failures SET failures = failures - 1 WHERE scope = 'address' AND key = ?",
                       (where,))
            if pair is not None and pair["failures"] == 1:
                db.execute("UPDATE login_failures SET failures = failures - 1 WHERE scope = 'account' AND key = ?",
                           (user,))
            db.execute("DELETE FROM login_failures WHERE failures <= 0")
            db.execute("DELETE FROM login_addresses WHERE last_at < ?",
                       (_stamp(now - timedelta(days=LOGIN_KNOWN_DAYS)),))
            db.execute("INSERT INTO login_addresses (username, address, last_at) VALUES (?, ?, ?) "
                       "ON CONFLICT (username, address) DO UPDATE SET last_at = excluded.last_at",
                       (user, where, _stamp(now)))

    @staticmethod
    def _known_address(db, user: str, where: str, now: datetime) -> bool:
        return db.execute("SELECT 1 FROM login_addresses WHERE username = ? AND address = ? AND last_at >= ?",
                          (user, where, _stamp(now - timedelta(days=LOGIN_KNOWN_DAYS)))).fetchone() is not None


@dataclass(frozen=True)
class LoginWait:
    """A login that must wait: ``seconds`` (for Retry-After) and ``why`` (whose failures)."""

    seconds: int
    why: str


def _login_key(text) -> str:
    """A tried username or an address as failed logins are counted by: trimmed, lower-cased, cut short."""
    return (text if isinstance(text, str) else "").strip().lower()[:LOGIN_KEY_MAX]


def _verify_chain(db: sqlite3.Connection, anchor: dict | None) -> audit_chain.Verdict:
    db.execute("BEGIN")  # one snapshot: the head and the rows as of one moment
    try:
        try:
            head_row = db.execute("SELECT * FROM chain_head WHERE id = 1").fetchone()
        except sqlite3.OperationalError:  # the table itself dropped
            head_row = None
        rows = db.execute("SELECT id, at, username, address, action, ids, detail, prev_hash, hash "
                          "FROM audit ORDER BY id")
        head = (audit_chain.Head(head_row["entries"], head_row["last_id"], head_row["hash"],
                                 head_row["at"], head_row["action"]) if head_row else None)
        verdict = audit_chain.verify(rows, head, anchor)
    finally:
        db.execute("COMMIT")
    if verdict.ok and head is None:
        verdict.ok = False
        verdict.problem = {"kind": "head_missing", "id": None, "at": None, "action": None,
                           "message": "the log's head (table chain_head) is missing: it was removed by hand, "
                                      "so removed last entries could not be told"}
    return verdict


@contextmanager
def _read_only(path: Path | str) -> Iterator[sqlite3.Connection]:
    """A read-only connection to an accounts database that must exist (a backup's copy): nothing is changed."""
    path = Path(path)
    if not path.is_file():
        raise NotFound(f"{path}: no such accounts database")
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None,
                             timeout=BUSY_TIMEOUT_SECONDS)
        db.row_factory = sqlite3.Row
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error as e:
        raise InvalidInput(f"{path}: not a readable SQLite database ({e})") from None
    with closing(db):
        yield db


def verify_audit_file(path: Path | str, anchor: dict | None = None) -> audit_chain.Verdict:
    """``Accounts.verify_audit`` on a file opened read-only (a backup's copy), changing nothing in it."""
    with _read_only(path) as db:
        try:
            return _verify_chain(db, anchor)
        except sqlite3.Error as e:
            raise InvalidInput(f"{path}: not an accounts database with an audit log ({e})") from None


def database_counts(path: Path | str) -> dict:
    """How many users, tokens and audit entries an accounts database holds, and its audit head
    (``{"users", "tokens", "audit", "audit_head": {"entries", "id", "hash"}}``), read-only."""
    with _read_only(path) as db:
        try:
            counts = {table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608 (fixed names)
                      for table in ("users", "tokens", "audit")}
            head = db.execute("SELECT entries, last_id, hash FROM chain_head WHERE id = 1").fetchone()
            integrity = db.execute("PRAGMA quick_check").fetchone()[0]
        except sqlite3.Error as e:
            raise InvalidInput(f"{path}: not an accounts database ({e})") from None
    if integrity != "ok":
        raise InvalidInput(f"{path}: the SQLite file is damaged ({integrity})")
    counts["audit_head"] = ({"entries": head["entries"], "id": head["last_id"], "hash": head["hash"]} if head
                            else {"entries": None, "id": None, "hash": None})
    return counts


def backup_database(source: Path | str, target: Path | str) -> None:
    """Copy the accounts database ``source`` to the new file ``target`` (mode 0600) with SQLite's online
    backup API: a consistent copy while other processes write, one file (no WAL beside it)."""
    source, target = Path(source), Path(target)
    if not source.is_file():
        raise NotFound(f"{source}: no such accounts database")
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.fchmod(fd, 0o600)
    os.close(fd)
    try:
        # A plain connection (a read-only one cannot always read a database in WAL mode).
        with closing(sqlite3.connect(source, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)) as src, \
                closing(sqlite3.connect(target, isolation_level=None)) as dst:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def restore_database(source: Path | str, target: Path | str) -> None:
    """Put the copy ``source`` (a backup's) at ``target`` whole: written beside it (0600), then renamed over
    it, so a reader sees the old file or the new one. Its web sessions are ended (deleted): everyone signs
    in again. Stop the processes using ``target`` first."""
    target = Path(target)
    _private_folder(target.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.restore-", dir=target.parent)  # mode 0600
    os.close(fd)
    os.unlink(tmp)
    try:
        backup_database(source, tmp)
        with closing(sqlite3.connect(tmp, isolation_level=None)) as db:
            # A restore ends every web session: one ended after the backup must not come back.
            if db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sessions'").fetchone():
                db.execute("DELETE FROM sessions")
            _use_wal(db)
        for suffix in ("-wal", "-shm"):  # the old file's: they must not be applied to the new one
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _chain_audit(db: sqlite3.Connection) -> None:
    """Once per database, in a write transaction: the hash columns, and every entry chained in id order.

    A database made before the chain gets ``prev_hash`` and ``hash`` and its entries chained as they
    stand; a new one gets its empty head. A head removed by hand is not made again from the entries
    (that would hide what was removed): ``verify_audit`` reports it.
    """
    columns = {row[1] for row in db.execute("PRAGMA table_info(audit)")}
    if "hash" not in columns:
        db.execute("ALTER TABLE audit ADD COLUMN prev_hash TEXT")
        db.execute("ALTER TABLE audit ADD COLUMN hash TEXT")
    if db.execute("SELECT 1 FROM chain_head WHERE id = 1").fetchone():
        return
    if db.execute("SELECT 1 FROM audit WHERE hash IS NOT NULL LIMIT 1").fetchone():
        return  # chained once already, and the head since removed
    prev, count, last = audit_chain.GENESIS, 0, None
    rows = db.execute("SELECT id, at, username, address, action, ids, detail FROM audit ORDER BY id").fetchall()
    if rows:
        db.execute("DROP TRIGGER IF EXISTS audit_no_update")
        for row in rows:
            digest = audit_chain.entry_hash(row, prev)
            db.execute("UPDATE audit SET prev_hash = ?, hash = ? WHERE id = ?", (prev, digest, row["id"]))
            prev, count, last = digest, count + 1, row
        db.execute(_AUDIT_NO_UPDATE)
    db.execute("INSERT INTO chain_head (id, entries, last_id, hash, at, action) VALUES (1, ?, ?, ?, ?, ?)",
               (count, last["id"] if last else 0, prev, last["at"] if last else None,
                last["action"] if last else None))


_AUDIT_NO_UPDATE = re.search(r"CREATE TRIGGER IF NOT EXISTS audit_no_update .*?\nEND;", SCHEMA, re.S).group(0)


def _private_folder(folder: Path) -> None:
    private_folder(folder)


# -- the web's secret key ------------------------------------------------------------


def secret_key(settings) -> str:
    """The key that signs web sessions: ``web_secret_key`` if set, else the generated one.

    Generated once (64 hex digits) into ``<data_dir>/graphsvc-secret-key``,
    mode 0600 in a 0700 folder; web workers starting at once all get the same.
    """
    if settings.web_secret_key:
        return settings.web_secret_key
    try:
        return kept_key(settings.secret_key_file, instead="GRAPHSVC_SECRET_KEY")
    except GraphsvcError as e:  # an emptied key file: say what a new key costs
        raise GraphsvcError(f"{e} (with a new key everyone will have to log in again)") from None


def _keep_a_manager(db, name: str, doing: str) -> None:
    """Refuse to leave the practice without a manager (nobody could manage accounts from the web)."""
    managers = [row[0] for row in db.execute("SELECT username FROM users WHERE role = 'manager'")]
    if managers == [name]:
        raise InvalidInput(f"cannot {doing} {name!r}: it is the only manager; make another manager first")


# -- the first manager, from the settings -----------------------------------------------

INITIAL_MANAGER_ACTOR = "serve:initial-manager"  # who the audit log says made it
_INITIAL_NAME = "web.initial_manager (GRAPHSVC_INITIAL_MANAGER)"
_INITIAL_FILE = "web.initial_manager_password_file (GRAPHSVC_INITIAL_MANAGER_PASSWORD_FILE)"


def initial_manager(settings, accounts: Accounts | None = None) -> User | None:
    """The first manager, ``web.initial_manager``, made when the accounts database holds no account.

    For a deployment with no shell (Docker): ``graphsvc serve`` calls it before its workers start. None
    when the setting is unset, or when there is an account already (the password file is then not even
    read, so it may be emptied or removed after the first start). Otherwise the password is the first
    line of ``web.initial_manager_password_file`` (a Docker secret), checked as ``graphsvc user add``
    checks one (``password_problem``: length, zxcvbn), and the account is inserted in one transaction
    that first checks again that there is no account: of processes that start at once, exactly one
    makes it. Recorded in the audit log as ``user add`` by ``serve:initial-manager``.

    ``GraphsvcError`` naming the setting and the file when the username is bad, the file is not set,
    missing, unreadable or empty, or the password is refused; never the password itself.
    """
    username = settings.web_initial_manager
    if not username:
        return None
    accounts = accounts or Accounts.open(settings)
    if accounts.users():
        return None
    problem = username_problem(username)
    if problem:
        raise GraphsvcError(f"{_INITIAL_NAME}: " + problem.removeprefix("field 'username': "))
    name = username.strip().lower()
    path = settings.web_initial_manager_password_file
    if path is None:
        raise GraphsvcError(f"{_INITIAL_NAME} is {name!r} but {_INITIAL_FILE} is not set: the first manager's "
                            f"password is read from that file (a Docker secret), never from a setting")
    where = f"{_INITIAL_FILE}: {path}"
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise GraphsvcError(f"{where} does not exist (it holds the password of the first manager, {name!r})") \
            from None
    except PermissionError:
        raise GraphsvcError(f"{where} cannot be read by this user (uid {os.getuid()}): make it readable by "
                            f"that user only") from None
    except (OSError, UnicodeDecodeError) as e:
        raise GraphsvcError(f"{where} cannot be read: {getattr(e, 'strerror', None) or e}") from None
    lines = text.splitlines()
    password = lines[0] if lines else ""
    if not password:
        raise GraphsvcError(f"{where} is empty: its first line is the first manager's password")
    problem = password_problem(password, name)
    if problem:
        raise GraphsvcError(f"{where}: the first manager's password is refused: "
                            + problem.removeprefix("field 'password': "))
    user = User(name, "manager", None, _now())
    password_hash = accounts.hasher.hash(password)
    with accounts._write() as db:  # BEGIN IMMEDIATE: the check and the insert are one
        if db.execute("SELECT 1 FROM users LIMIT 1").fetchone():
            return None
        db.execute("INSERT INTO users (username, role, clinician_id, password_hash, created_at) "
                   "VALUES (?, ?, ?, ?, ?)", (name, "manager", None, password_hash, _stamp(user.created_at)))
    accounts.record("user add", user=INITIAL_MANAGER_ACTOR, ids=[name],
                    detail={"role": "manager", "clinician_id": None, "from": "web.initial_manager"})
    return user
