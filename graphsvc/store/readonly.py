"""Run an analyst's Cypher read-only and bounded, enforced by the Neo4j server itself.

``run_readonly(graph, cypher, params)`` is what ``graphsvc query`` and the web
console run every query through, saved or typed. In order:

1. The text: refused when it is not text, is empty, or is longer than
   ``MAX_QUERY_CHARS``.
2. ``LOAD CSV`` (it reads files and URLs *from the server*): refused when the
   words appear outside string literals and comments, and again below when the
   plan has a ``LoadCSV`` operator, however it was spelt.
3. ``EXPLAIN`` (the query is planned, not run): anything whose query type is
   not ``"r"`` is refused -- ``"w"`` and ``"rw"`` (CREATE, MERGE, SET, DELETE,
   REMOVE, FOREACH, ``CALL { ... }`` with a write, ``IN TRANSACTIONS``, a
   procedure that writes such as ``db.createLabel``) and ``"s"`` (schema
   commands, administration commands such as CREATE USER or SHOW USERS, DBMS
   procedures). So are administration commands the server will not plan here
   (CREATE DATABASE on Community), ``SHOW``/``TERMINATE TRANSACTIONS`` (they
   plan as reads) and any procedure not on ``READ_PROCEDURES`` (some that plan
   as reads change the server's state, e.g. ``db.stats.clear``, and plugins
   add ones that fetch URLs). A syntax error is refused with Neo4j's message
   and the position in the text as given.
   So are the server's own settings, code and sessions, which plan as reads
   too: every ``SHOW`` command but ``SHOW INDEXES`` and ``SHOW CONSTRAINTS``
   (``SHOW SETTINGS``, ``SHOW PROCEDURES``, ``SHOW FUNCTIONS``, ``SHOW
   TRANSACTIONS``; the others, users, roles, privileges, databases, servers
   and aliases, are administration commands above) and every ``dbms.*``
   procedure (``dbms.listConfig``, ``dbms.components``, ``dbms.queryJmx``...).
4. The query runs in an explicit READ transaction (Neo4j 5 refuses writes in
   it as well: ``Neo.ClientError.Statement.AccessMode``) with ``timeout``
   passed to the server, which terminates it when the time is up
   (``Neo.ClientError.Transaction.TransactionTimedOutClientConfiguration``).
   At most ``row_cap`` rows and ``max_bytes`` bytes (the rows as compact JSON)
   are kept; the transaction is then rolled back, never committed.

The server's timeout is not enough on its own: Neo4j checks it between rows,
never inside one expression, so ``RETURN reduce(s = '', i IN range(1, 400000)
| s + 'xxxxxxxxxx')`` runs on for a minute or more whatever the timeout, and a
deeply nested map makes the server fail without ever answering. So the query
runs in a worker thread; at ``timeout + STOP_GRACE`` seconds, if it has not
answered, its connection is shut (the caller gets the same "stopped" refusal
within a few tenths of a second more), and its transaction is terminated on the server from another
session (``TERMINATE TRANSACTIONS``). The server may still finish the
expression it is in (nothing in Neo4j interrupts one); so that such leftovers
cannot pile up, a run is refused (``busy``) while ``MAX_LINGERING`` console
transactions that were stopped are still running on the server (each is
tagged with the transaction metadata ``{"graphsvc": "console"}``).

One huge value (``RETURN range(1, 20000000)``) is never taken in whole: the
bytes Neo4j sends for the run are counted as they arrive, and past
``WIRE_FACTOR * max_bytes`` (plus 1 MiB) the connection is shut and the rows
read so far are the answer, cut (``truncated_by`` ``"bytes"``). Values nested
deeper than ``MAX_DEPTH`` levels are shown as ``"…"`` below that.

Every refusal raises ``QueryRefused`` with a ``reason`` code and one clear
line; nothing is ever written.
"""

from __future__ import annotations

import base64
import json
import logging
import math
import re
import secrets
import threading
import time
from collections.abc import Mapping
from datetime import date, datetime
from datetime import time as clock
from typing import Any

from neo4j import Query
from neo4j.exceptions import Neo4jError
from neo4j.graph import Node, Path, Relationship
from neo4j.spatial import Point

from ..errors import Neo4jUnavailable, QueryRefused
from .catalog import APP
from .db import shut_connection_of

log = logging.getLogger(__name__)

MAX_QUERY_CHARS = 20_000
DEFAULT_TIMEOUT = 10.0  # seconds
DEFAULT_ROW_CAP = 5000
DEFAULT_MAX_BYTES = 5_000_000  # the answer's rows as compact JSON, UTF-8
# Seconds past the timeout before a run that has not answered is cut off here (the server's own stop usually
# comes back within a few tenths of a second); then at most TERMINATE_WAIT + WORKER_WAIT more: a run always
# answers or is stopped within timeout + 1.35 s.
STOP_GRACE = 0.75
MAX_DEPTH = 100  # levels of lists, maps, nodes... shown; deeper ones are DEEPER
DEEPER = "…"
# Bytes Neo4j may send for a run per byte of the answer kept: a float is 9 bytes on the wire and
# can be 3 in JSON, so 3 lets any answer within max_bytes through; past it the connection is shut.
WIRE_FACTOR = 3
WIRE_SLACK = 1 << 20
# Console transactions stopped but still running on the server (a long expression Neo4j cannot
# interrupt) before new runs are refused (reason "busy").
MAX_LINGERING = 2
# Console queries one process runs at once (a web worker's threads, a command): past it, "busy" at once.
# The check of lingering queries on the server cannot see runs that are starting in the same instant, so
# without this bound a burst of runs sent together all started (a probe had 3 still running after its cut-off;
# 8 could, with 2 workers of 4 threads). Now at most this many per web worker run or linger in it.
MAX_RUNNING = 2
_running = threading.BoundedSemaphore(MAX_RUNNING)
METADATA_KEY = "graphsvc"  # transaction metadata of every console run: {"graphsvc": "console", "graphsvc_run": tag}
TERMINATE_WAIT = 0.4  # seconds the caller waits for TERMINATE TRANSACTIONS of a run cut off
WORKER_WAIT = 0.2  # ... and for its worker to see its connection shut

# The procedures a console query may call: those Neo4j 5 ships in READ mode
# that only read. Left out on purpose: db.stats.* (start, stop and clear the
# server's query statistics), db.prepareForReplanning and db.resample* (they
# make the server resample its indexes), and every plugin's (APOC's
# apoc.load.* fetch URLs in READ mode, as LOAD CSV does).
READ_PROCEDURES = frozenset({
    "db.labels", "db.relationshipTypes", "db.propertyKeys",
    "db.schema.visualization", "db.schema.nodeTypeProperties", "db.schema.relTypeProperties",
    "db.index.fulltext.queryNodes", "db.index.fulltext.queryRelationships",
    "db.index.fulltext.listAvailableAnalyzers",
    "db.index.vector.queryNodes", "db.index.vector.queryRelationships",
    "db.info", "db.ping", "db.awaitIndex", "db.awaitIndexes",
})

# Operators that plan as reads but are administration: other sessions' queries
# and parameters, or stopping them.
_ADMIN_OPERATORS = {"ShowTransactions": "SHOW TRANSACTIONS", "TerminateTransactions": "TERMINATE TRANSACTIONS"}
# The only SHOW commands the console runs: the graph's own indexes and constraints (they help write a query).
# Every other one reads the server, not the graph (SHOW SETTINGS: its configuration, paths and ports; SHOW
# PROCEDURES and SHOW FUNCTIONS: the code installed, plugins included; SHOW TRANSACTIONS: other sessions'
# queries and parameters), and so does every dbms.* procedure: they are its operators', not the console's.
_SCHEMA_SHOWS = {"ShowIndexes", "ShowConstraints"}
_SERVER_READS = ("the console reads the graph, not the server's settings, code or sessions "
                 "(SHOW INDEXES and SHOW CONSTRAINTS are allowed)")
_SCHEMA_OPERATORS = {"CreateIndex": "CREATE INDEX", "DropIndex": "DROP INDEX",
                     "CreateConstraint": "CREATE CONSTRAINT", "DropConstraint": "DROP CONSTRAINT"}

_EXPLAIN = "EXPLAIN "

# String literals, quoted names and comments: where words are not Cypher keywords.
_NOT_CODE = re.compile(r"""'(?:[^'\\]|\\.)*'?|"(?:[^"\\]|\\.)*"?|`[^`]*`?|//[^\n]*|/\*.*?(?:\*/|\Z)""", re.S)
_LOAD_CSV = re.compile(r"\bLOAD\s+CSV\b", re.I)
_WRITE_WORDS = [  # the words a refusal names, in this order
    ("CREATE", re.compile(r"(?<![\w.$:])CREATE\b", re.I)),
    ("MERGE", re.compile(r"(?<![\w.$:])MERGE\b", re.I)),
    ("SET", re.compile(r"(?<![\w.$:])SET\b", re.I)),
    ("DETACH DELETE", re.compile(r"(?<![\w.$:])DETACH\s+DELETE\b", re.I)),
    ("DELETE", re.compile(r"(?<![\w.$:])(?<!DETACH\s)DELETE\b", re.I)),
    ("REMOVE", re.compile(r"(?<![\w.$:])REMOVE\b", re.I)),
    ("FOREACH", re.compile(r"(?<![\w.$:])FOREACH\b", re.I)),
    ("CALL { … } IN TRANSACTIONS", re.compile(r"\bIN\s+(?:\d+\s+)?(?:CONCURRENT\s+)?TRANSACTIONS\b", re.I)),
]
_COMMANDS = {"CREATE", "DROP", "ALTER", "RENAME", "SHOW", "GRANT", "DENY", "REVOKE", "START", "STOP",
             "TERMINATE", "ENABLE", "DEALLOCATE", "REALLOCATE", "DRYRUN", "MATCH", "RETURN", "CALL", "USE"}
_POSITION = re.compile(r"\s*\(line (\d+), column (\d+) \(offset: (\d+)\)\)")
_PROCEDURE = re.compile(r"^\s*([\w.]+)\s*\(")


def run_readonly(graph, cypher: str, params: Mapping[str, Any] | None = None, *,
                 timeout: float = DEFAULT_TIMEOUT, row_cap: int = DEFAULT_ROW_CAP,
                 max_bytes: int = DEFAULT_MAX_BYTES) -> dict:
    """Run ``cypher`` if Neo4j plans it as a read; its answer as plain JSON-able data.

    Returns ``{"columns": [...], "rows": [[...], ...], "truncated": bool,
    "truncated_by": None | "rows" | "bytes", "bytes": int, "elapsed_ms":
    int}``: at most ``row_cap`` rows and ``max_bytes`` bytes of rows (as
    compact JSON); ``truncated`` when there was more, ``truncated_by`` which
    bound cut it. Nodes, relationships and paths become dicts (``to_plain``).
    Answers or raises within ``timeout + STOP_GRACE + TERMINATE_WAIT +
    WORKER_WAIT`` (1.35) seconds, whatever the query. Raises ``QueryRefused`` (see the module docstring);
    ``Neo4jUnavailable`` when the server cannot be reached.
    """
    if timeout is None or not timeout > 0:
        raise ValueError("timeout must be a positive number of seconds")
    if row_cap is None or row_cap < 0:
        raise ValueError("row_cap must be 0 or more")
    if max_bytes is None or max_bytes < 0:
        raise ValueError("max_bytes must be 0 or more")
    text = _check_text(cypher)
    return _Run(graph, text, dict(params or {}), timeout=timeout, row_cap=row_cap, max_bytes=max_bytes).answer()


def _stopped(timeout: float) -> QueryRefused:
    return QueryRefused("timeout", f"the query was stopped after {timeout:g} s (the console's limit); "
                                   "narrow the query or add a LIMIT")


class _Run:
    """One query in a worker thread, cut off from here when it has not answered by its deadline."""

    def __init__(self, graph, text: str, params: dict, *, timeout: float, row_cap: int, max_bytes: int):
        self.graph, self.text, self.params = graph, text, params
        self.timeout, self.row_cap, self.max_bytes = timeout, row_cap, max_bytes
        self.tag = secrets.token_hex(8)  # this run's transaction, in SHOW TRANSACTIONS' metaData
        self.session = None
        self.cut_off = False
        self.answered: dict | None = None
        self.error: BaseException | None = None

    def answer(self) -> dict:
        started = time.monotonic()
        if not _running.acquire(blocking=False):
            raise QueryRefused("busy", f"{MAX_RUNNING} console queries are running here already; try again when "
                                       "one has answered")
        worker = threading.Thread(target=self._work_then_free, name="graphsvc-console-query", daemon=True)
        try:
            worker.start()
        except BaseException:
            _running.release()
            raise
        worker.join(self.timeout + STOP_GRACE)
        if worker.is_alive():
            self.cut_off = True
            self._shut_connection()
            _terminate_on_server(self.graph, self.tag)
            worker.join(WORKER_WAIT)
            log.warning("console query cut off after %.1f s (the server had not answered; limit %g s): %.200s",
                        time.monotonic() - started, self.timeout, self.text)
            raise _stopped(self.timeout)
        if self.error is not None:
            raise self.error
        answer = dict(self.answered)
        answer["elapsed_ms"] = round((time.monotonic() - started) * 1000)
        return answer

    def _work_then_free(self) -> None:
        try:
            self._work()
        finally:
            _running.release()  # when the worker ends: a run cut off holds its place until its connection is shut

    def _work(self) -> None:
        try:
            self.answered = self._read()
        except BaseException as error:  # handed to the caller's thread
            self.error = error if isinstance(error, (QueryRefused, Neo4jUnavailable)) else _unexpected(error)

    def _read(self) -> dict:
        with self.graph.session(fetch_size=min(self.row_cap + 1, 10_000)) as session:
            self.session = session
            _check_lingering(session)
            if self.cut_off:
                raise _stopped(self.timeout)
            summary = _explain(session, self.text, self.params, self.timeout)
            _check_plan(self.text, summary)
            if self.cut_off:
                raise _stopped(self.timeout)
            return _run(session, self.text, self.params, self.timeout, self.row_cap, self.max_bytes, self.tag)

    def _shut_connection(self) -> None:
        """Shut this run's socket: the worker's read ends at once, and the server is told the client left."""
        shut_connection_of(self.session)


def _unexpected(error: BaseException) -> QueryRefused:
    """An error of graphsvc's or the driver's while reading an answer: logged whole, said in one line."""
    log.error("console query failed", exc_info=error)
    return QueryRefused("failed", f"the answer could not be read ({type(error).__name__}); "
                                  "narrow the query or add a LIMIT")


def _check_lingering(session) -> None:
    """Refuse (``busy``) while MAX_LINGERING console transactions that were stopped still run on the server."""
    try:
        record = session.run(APP.query("console_stopped_transactions"), key=METADATA_KEY).single()
    except Neo4jError as error:  # e.g. a server whose user may not list transactions: no check
        log.debug("console: cannot list the server's transactions: %s", error)
        return
    lingering = record["n"] if record else 0
    if lingering >= MAX_LINGERING:
        which = "console query that was" if lingering == 1 else "console queries that were"
        raise QueryRefused("busy", f"the Neo4j server is still finishing {lingering} {which} stopped (Neo4j "
                                   "cannot interrupt one long expression, e.g. reduce() over a large list); "
                                   "try again in a minute")


def _terminate_on_server(graph, tag: str) -> None:
    """``TERMINATE TRANSACTIONS`` the run tagged ``tag``, from another session; waits TERMINATE_WAIT at most."""
    def terminate():
        try:
            with graph.session() as session:
                ids = [r["transactionId"] for r in session.run(APP.query("console_run_transactions"),
                                                                key=METADATA_KEY + "_run", tag=tag)]
                if ids:
                    session.run(APP.query("terminate_transactions"), ids=ids).consume()
        except Exception as error:  # best effort: the server's own timeout has marked it already
            log.info("console: could not terminate the transaction of a query cut off: %s", error)

    helper = threading.Thread(target=terminate, name="graphsvc-console-terminate", daemon=True)
    helper.start()
    helper.join(TERMINATE_WAIT)


# -- the checks, in order ------------------------------------------------------


def _check_text(cypher) -> str:
    if not isinstance(cypher, str):
        raise QueryRefused("not_text", f"a query is text (got {type(cypher).__name__})")
    if not cypher.strip():
        raise QueryRefused("empty", "the query is empty")
    if len(cypher) > MAX_QUERY_CHARS:
        raise QueryRefused("too_long", f"the query is {len(cypher):,} characters long; "
                                       f"the most is {MAX_QUERY_CHARS:,}")
    if _LOAD_CSV.search(code_only(cypher)):
        raise _load_csv()
    return cypher


def code_only(cypher: str) -> str:
    """``cypher`` with its string literals, quoted names and comments blanked out."""
    return _NOT_CODE.sub(" ", cypher)


def _load_csv() -> QueryRefused:
    return QueryRefused("load_csv", "LOAD CSV is refused: it reads files and URLs from the Neo4j server")


def _explain(session, text: str, params: dict, timeout: float):
    """The summary of ``EXPLAIN <text>`` (planned, not run), or ``QueryRefused`` saying why it cannot be."""
    try:
        return session.run(Query(_EXPLAIN + text, timeout=timeout), params).consume()
    except Neo4jError as error:
        raise _refusal(error, text, timeout, planning=True) from None


def _check_plan(text: str, summary) -> None:
    operators = list(_operators(summary.plan)) if summary.plan else []
    names = {name for name, _ in operators}
    if "LoadCSV" in names:
        raise _load_csv()
    kind = summary.query_type
    if kind != "r":
        if "AdministrationCommand" in names:
            raise QueryRefused("admin", f"administration commands are refused ({_leading_words(text)})")
        schema = [label for op, label in _SCHEMA_OPERATORS.items() if op in names]
        if schema:
            raise QueryRefused("schema", f"this query changes the schema ({', '.join(schema)}); "
                                         "schema commands are refused")
        procedures = [_procedure_name(details) for name, details in operators if name == "ProcedureCall"]
        if kind == "s":
            shown = ", ".join(p for p in procedures if p) or _leading_words(text)
            raise QueryRefused("admin", f"administration commands and DBMS procedures are refused ({shown})")
        words = [label for label, pattern in _WRITE_WORDS if pattern.search(code_only(text))]
        words += [f"CALL {p}" for p in procedures if p and p not in READ_PROCEDURES]
        shown = f" ({', '.join(words)})" if words else ""
        raise QueryRefused("writes", f"this query writes{shown}; only read-only queries are run, "
                                     "and nothing was written")
    for name, label in _ADMIN_OPERATORS.items():
        if name in names:
            raise QueryRefused("admin", f"administration commands are refused ({label})")
    for name in sorted(names):
        if name.startswith("Show") and name not in _SCHEMA_SHOWS:
            raise QueryRefused("admin", f"administration commands are refused ({_command_words(name)}): "
                                        + _SERVER_READS)
    for name, details in operators:
        if name == "ProcedureCall":
            procedure = _procedure_name(details)
            if procedure.lower().startswith("dbms."):
                raise QueryRefused("admin", "administration commands and DBMS procedures are refused "
                                            f"({procedure}): " + _SERVER_READS)
            if procedure not in READ_PROCEDURES:
                raise QueryRefused("procedure", f"the procedure {procedure or '(unknown)'} is refused: "
                                                "only these read-only ones may be called: "
                                                + ", ".join(sorted(READ_PROCEDURES)))


def _operators(plan):
    """(operator type, details) of every operator in an EXPLAIN plan (a dict in driver 5 and 6)."""
    if isinstance(plan, dict):
        name, args, children = plan.get("operatorType", ""), plan.get("args") or {}, plan.get("children") or []
    else:  # older drivers: a Plan object
        name, args, children = plan.operator_type, plan.arguments or {}, plan.children or []
    yield name.split("@", 1)[0], str(args.get("Details") or "")
    for child in children:
        yield from _operators(child)


def _command_words(operator: str) -> str:
    """``ShowSettings`` -> ``SHOW SETTINGS``."""
    return " ".join(re.findall(r"[A-Z][a-z]*", operator)).upper()


def _procedure_name(details: str) -> str:
    found = _PROCEDURE.match(details)
    return found.group(1) if found else ""


def _leading_words(text: str) -> str:
    """The command's first two words (after any ``CYPHER`` options and ``USE <database>``), e.g. ``CREATE USER``."""
    words = re.findall(r"[A-Za-z_][\w.]*", code_only(text))
    while words and words[0].upper() in ("CYPHER", "USE"):
        words = words[2:] if words[0].upper() == "USE" else words[1:]
        while words and words[0].upper() not in _COMMANDS:
            words = words[1:]
    return " ".join(words[:2]).upper()


def _run(session, text: str, params: dict, timeout: float, row_cap: int, max_bytes: int, tag: str):
    """Columns, rows within ``row_cap`` and ``max_bytes``, and which bound cut them, from a READ
    transaction never committed."""
    rows: list[list] = []
    columns: list[str] = []
    used = 0
    cut = None
    try:
        tx = session.begin_transaction(timeout=timeout, metadata={METADATA_KEY: "console",
                                                                  METADATA_KEY + "_run": tag})
        meter = _WireMeter.install(session, WIRE_FACTOR * max_bytes + WIRE_SLACK)
        try:
            result = tx.run(text, params)
            columns = list(result.keys())
            for record in result:
                if len(rows) >= row_cap:
                    cut = "rows"
                    break
                row = [to_plain(value) for value in record.values()]
                size = len(json.dumps(row, ensure_ascii=False, separators=(",", ":")).encode("utf-8")) + 1
                if used + size > max_bytes:
                    cut = "bytes"
                    break
                rows.append(row)
                used += size
        except Exception:
            if meter is None or not meter.tripped:
                raise
            cut = "bytes"  # Neo4j sent more than any answer within max_bytes needs: its connection was shut
        finally:
            if meter is not None:
                meter.remove()
            try:
                tx.close()  # a rollback (the rest of the answer is dropped); never a commit
            except Exception:
                if meter is None or not meter.tripped:
                    raise
    except Neo4jError as error:
        raise _refusal(error, text, timeout, planning=False) from None
    return {"columns": columns, "rows": rows, "truncated": cut is not None, "truncated_by": cut, "bytes": used}


class _WireMeter:
    """Counts the bytes Neo4j sends on a session's connection and shuts it past ``limit``.

    It stands in for the socket the driver's inbox reads from (``Inbox._socket``:
    every byte of a message goes through its ``recv_into``), so one huge value
    is never buffered whole. ``install`` returns None when the driver is not
    shaped so (the JSON bound then still holds, after the value is read).
    """

    def __init__(self, inbox, limit: int):
        self._inbox, self._socket = inbox, inbox._socket
        self.limit, self.count, self.tripped = limit, 0, False

    @classmethod
    def install(cls, session, limit: int):
        inbox = getattr(getattr(session, "_connection", None), "inbox", None)
        if not hasattr(getattr(inbox, "_socket", None), "recv_into"):
            log.warning("console: the Neo4j driver's connection has no inbox socket to measure; "
                        "answers are bounded only after they are read")
            return None
        meter = cls(inbox, limit)
        inbox._socket = meter
        return meter

    def remove(self) -> None:
        if self._inbox._socket is self:
            self._inbox._socket = self._socket

    def recv_into(self, buffer, nbytes=0):
        received = self._socket.recv_into(buffer, nbytes)
        self.count += received
        if self.count > self.limit:
            self.tripped = True
            raise OSError(f"graphsvc: the answer passed {self.limit:,} bytes on the wire")
        return received

    def __getattr__(self, name):
        return getattr(self._socket, name)


# -- Neo4j's errors as refusals -------------------------------------------------


def _refusal(error: Neo4jError, text: str, timeout: float, *, planning: bool) -> QueryRefused:
    code = error.code or ""
    message = _first_line(error.message or str(error))
    if "TransactionTimedOut" in code:
        return QueryRefused("timeout", f"the query was stopped after {timeout:g} s (the console's limit); "
                                       "narrow the query or add a LIMIT")
    if "Memory" in code:
        return QueryRefused("memory", "the query needed more memory than Neo4j allows a transaction; "
                                      "narrow the query or add a LIMIT")
    if code == "Neo.ClientError.Statement.SyntaxError":
        if "administration commands" in message.lower():  # e.g. "USE system SHOW USERS"
            return QueryRefused("admin", f"administration commands are refused ({_leading_words(text)})")
        return QueryRefused("syntax", f"Cypher syntax error: {_position(message, planning)}")
    if code in ("Neo.ClientError.Statement.UnsupportedAdministrationCommand",
                "Neo.ClientError.Statement.NotSystemDatabaseError"):
        return QueryRefused("admin", f"administration commands are refused ({_leading_words(text)})")
    if code == "Neo.ClientError.Statement.AccessMode":  # the READ transaction's own barrier
        return QueryRefused("writes", "this query writes; only read-only queries are run, "
                                      "and nothing was written")
    if code == "Neo.ClientError.Statement.ParameterMissing":
        return QueryRefused("params", f"a parameter is missing: {message}")
    if code == "Neo.ClientError.Statement.ArgumentError" and "execution mode" in message:
        return QueryRefused("invalid", "PROFILE is not available here; run the query without it "
                                       "(EXPLAIN shows the plan)")
    if code.startswith(("Neo.ClientError.Statement.", "Neo.ClientError.Procedure.")):
        return QueryRefused("invalid" if planning else "failed", f"Neo4j refused the query: {message}")
    if code.startswith("Neo.TransientError.Transaction.") and "Terminated" in code:
        return QueryRefused("failed", f"the query was stopped by the server: {message}")
    # A server fault rather than the query's (Neo.DatabaseError.*): said in one line, logged, never a traceback.
    log.warning("console query: Neo4j error %s: %s", code, message)
    return QueryRefused("failed", f"Neo4j could not run the query ({code or 'no code'}): {message}")


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0].strip() if message.strip() else message


def _position(message: str, planning: bool) -> str:
    """Neo4j's message with its position moved from the EXPLAIN text back to the query as given."""
    found = _POSITION.search(message)
    if not found:
        return message
    line, column, offset = (int(g) for g in found.groups())
    shift = len(_EXPLAIN) if planning else 0
    rest = message[:found.start()] + message[found.end():]
    if line < 1:
        return rest
    if line == 1:
        column -= shift
    return f"{rest} (line {line}, column {max(column, 1)}, offset {max(offset - shift, 0)})"


# -- values ---------------------------------------------------------------------


def to_plain(value, depth: int = 0):
    """A value of a Neo4j record as plain JSON-able data.

    Nodes ``{"type": "node", "id", "labels", "properties"}``, relationships
    ``{"type": "relationship", "id", "rel_type", "start", "end",
    "properties"}`` (ids are element ids), paths ``{"type": "path", "nodes",
    "relationships"}``; temporal values as ISO 8601 text, points as
    ``{"type": "point", "srid", "x", "y"[, "z"]}``, bytes as base64 text,
    NaN and infinities as text; lists and maps recursively, ``MAX_DEPTH``
    levels deep at most: a list, map, node, relationship or path below that
    is ``"…"`` (``DEEPER``), so that any value can be shown.
    """
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if hasattr(value, "iso_format"):  # neo4j.time Date, DateTime, Time, Duration (a tuple: before lists)
        text = value.iso_format()
        # "10:30:00.000000000+00:00" -> "10:30:00+00:00", "10:30:00.120000000" -> "10:30:00.12"
        return text if text.startswith("P") else _FRACTION_ZEROS.sub(_trim_fraction, text)
    if isinstance(value, Point):  # a tuple: before lists
        point = {"type": "point", "srid": value.srid, "x": value[0], "y": value[1]}
        if len(value) > 2:
            point["z"] = value[2]
        return point
    if depth >= MAX_DEPTH and isinstance(value, (Node, Relationship, Path, list, tuple, Mapping)):
        return DEEPER
    inner = depth + 1
    if isinstance(value, Node):
        return {"type": "node", "id": value.element_id, "labels": sorted(value.labels),
                "properties": _properties(value, inner)}
    if isinstance(value, Relationship):
        return {"type": "relationship", "id": value.element_id, "rel_type": value.type,
                "start": value.start_node.element_id if value.start_node is not None else None,
                "end": value.end_node.element_id if value.end_node is not None else None,
                "properties": _properties(value, inner)}
    if isinstance(value, Path):
        return {"type": "path", "nodes": [to_plain(n, inner) for n in value.nodes],
                "relationships": [to_plain(r, inner) for r in value.relationships]}
    if isinstance(value, (list, tuple)):
        return [to_plain(v, inner) for v in value]
    if isinstance(value, Mapping):
        return {str(k): to_plain(v, inner) for k, v in value.items()}
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, (date, datetime, clock)):
        return value.isoformat()
    return str(value)


_FRACTION_ZEROS = re.compile(r"\.(\d*?)0+(?=\D|$)")


def _trim_fraction(found) -> str:
    return "." + found.group(1) if found.group(1) else ""


def _properties(entity, depth: int = 0) -> dict:
    return {key: to_plain(entity[key], depth) for key in sorted(entity.keys())}


def json_text(value) -> str:
    """A node, relationship, path, list or map of an answer as compact JSON text (CSV cells, tables):
    the same text from the CLI and the web console."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
