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
4. The query runs in an explicit READ transaction (Neo4j 5 refuses writes in
   it as well: ``Neo.ClientError.Statement.AccessMode``) with ``timeout``
   passed to the server, which terminates it when the time is up
   (``Neo.ClientError.Transaction.TransactionTimedOutClientConfiguration``).
   At most ``row_cap + 1`` records are pulled; the transaction is then rolled
   back, never committed.

Every refusal raises ``QueryRefused`` with a ``reason`` code and one clear
line; nothing is ever written.
"""

from __future__ import annotations

import base64
import json
import math
import re
import time
from collections.abc import Mapping
from datetime import date, datetime
from datetime import time as clock
from typing import Any

from neo4j import Query
from neo4j.exceptions import Neo4jError
from neo4j.graph import Node, Path, Relationship
from neo4j.spatial import Point

from ..errors import QueryRefused

MAX_QUERY_CHARS = 20_000
DEFAULT_TIMEOUT = 10.0  # seconds
DEFAULT_ROW_CAP = 5000

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
                 timeout: float = DEFAULT_TIMEOUT, row_cap: int = DEFAULT_ROW_CAP) -> dict:
    """Run ``cypher`` if Neo4j plans it as a read; its answer as plain JSON-able data.

    Returns ``{"columns": [...], "rows": [[...], ...], "truncated": bool,
    "elapsed_ms": int}``: at most ``row_cap`` rows, ``truncated`` when there
    were more. Nodes, relationships and paths become dicts (``to_plain``).
    Raises ``QueryRefused`` (see the module docstring); ``Neo4jUnavailable``
    when the server cannot be reached.
    """
    if timeout is None or not timeout > 0:
        raise ValueError("timeout must be a positive number of seconds")
    if row_cap is None or row_cap < 0:
        raise ValueError("row_cap must be 0 or more")
    text = _check_text(cypher)
    params = dict(params or {})
    started = time.monotonic()
    with graph.session(fetch_size=min(row_cap + 1, 10_000)) as session:
        summary = _explain(session, text, params, timeout)
        _check_plan(text, summary)
        columns, rows, truncated = _run(session, text, params, timeout, row_cap)
    return {"columns": columns, "rows": rows, "truncated": truncated,
            "elapsed_ms": round((time.monotonic() - started) * 1000)}


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
    for name, details in operators:
        if name == "ProcedureCall":
            procedure = _procedure_name(details)
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


def _run(session, text: str, params: dict, timeout: float, row_cap: int):
    """Columns, at most ``row_cap`` rows and whether there were more, from a READ transaction never committed."""
    rows: list[list] = []
    truncated = False
    try:
        tx = session.begin_transaction(timeout=timeout)
        try:
            result = tx.run(text, params)
            columns = list(result.keys())
            for record in result:
                if len(rows) >= row_cap:
                    truncated = True
                    break
                rows.append([to_plain(value) for value in record.values()])
        finally:
            tx.close()  # a rollback (the rest of the answer is dropped); never a commit
    except Neo4jError as error:
        raise _refusal(error, text, timeout, planning=False) from None
    return columns, rows, truncated


# -- Neo4j's errors as refusals -------------------------------------------------


def _refusal(error: Neo4jError, text: str, timeout: float, *, planning: bool) -> Exception:
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
    return error  # a server fault, not the query's: shown as it is


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


def to_plain(value):
    """A value of a Neo4j record as plain JSON-able data.

    Nodes ``{"type": "node", "id", "labels", "properties"}``, relationships
    ``{"type": "relationship", "id", "rel_type", "start", "end",
    "properties"}`` (ids are element ids), paths ``{"type": "path", "nodes",
    "relationships"}``; temporal values as ISO 8601 text, points as
    ``{"type": "point", "srid", "x", "y"[, "z"]}``, bytes as base64 text,
    NaN and infinities as text; lists and maps recursively.
    """
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, Node):
        return {"type": "node", "id": value.element_id, "labels": sorted(value.labels),
                "properties": _properties(value)}
    if isinstance(value, Relationship):
        return {"type": "relationship", "id": value.element_id, "rel_type": value.type,
                "start": value.start_node.element_id if value.start_node is not None else None,
                "end": value.end_node.element_id if value.end_node is not None else None,
                "properties": _properties(value)}
    if isinstance(value, Path):
        return {"type": "path", "nodes": [to_plain(n) for n in value.nodes],
                "relationships": [to_plain(r) for r in value.relationships]}
    if hasattr(value, "iso_format"):  # neo4j.time Date, DateTime, Time, Duration (a tuple: before lists)
        text = value.iso_format()
        # "10:30:00.000000000+00:00" -> "10:30:00+00:00", "10:30:00.120000000" -> "10:30:00.12"
        return text if text.startswith("P") else _FRACTION_ZEROS.sub(_trim_fraction, text)
    if isinstance(value, Point):  # a tuple: before lists
        point = {"type": "point", "srid": value.srid, "x": value[0], "y": value[1]}
        if len(value) > 2:
            point["z"] = value[2]
        return point
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, (date, datetime, clock)):
        return value.isoformat()
    return str(value)


_FRACTION_ZEROS = re.compile(r"\.(\d*?)0+(?=\D|$)")


def _trim_fraction(found) -> str:
    return "." + found.group(1) if found.group(1) else ""


def _properties(entity) -> dict:
    return {key: to_plain(entity[key]) for key in sorted(entity.keys())}


def json_text(value) -> str:
    """A node, relationship, path, list or map of an answer as compact JSON text (CSV cells, tables):
    the same text from the CLI and the web console."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
