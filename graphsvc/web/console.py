"""The query console, ``/console``: the analysts' saved queries and their own Cypher, read-only and bounded.

For analysts and managers (``run_queries``). ``GET /console`` shows the
library (``queries/analyst/``, ``graphsvc.store.library``); ``?query=NAME``
opens one with its parameters as typed inputs (numbers, dates, yes/no,
lists). ``POST /console`` (a form with its CSRF token) runs either the saved
query with the parameters given (``query`` and ``param.<name>``) or the
Cypher typed (``cypher``), through ``graphsvc.store.readonly.run_readonly``:
EXPLAIN first, anything but a read refused, then a read transaction with the
``CONSOLE_TIMEOUT``, ``CONSOLE_MAX_ROWS`` and ``CONSOLE_MAX_BYTES`` limits
(Flask config when set, else the settings ``console.timeout``,
``console.max_rows`` and ``console.max_bytes``). The answer is a table, and a
picture when it holds nodes, relationships or paths; ``do=csv`` downloads it
(formula-safe cells). Every run, however it ends, is recorded in the audit
log (``query``, with the name or the Cypher, the parameters, then the rows and
whether it was cut, with ``truncated_by`` when it was; or ``refused`` and why:
``timeout`` when it was stopped, ``unavailable`` when Neo4j could not be
reached, ``failed`` when it failed).
"""

from __future__ import annotations

import logging
import math

from flask import Blueprint, current_app, render_template, request
from flask_login import current_user

from ..errors import InvalidInput, Neo4jUnavailable, NotFound, QueryRefused
from ..store.library import get as get_query
from ..store.library import library
from ..store.readonly import json_text, run_readonly
from . import auth, extensions
from .downloads import csv_download

bp = Blueprint("console", __name__)

CONSOLE_TIMEOUT = 10.0  # seconds; the query is stopped (the settings' console.timeout unless Flask config says)
CONSOLE_MAX_ROWS = 5000
CONSOLE_MAX_BYTES = 5_000_000
CYPHER_SHOWN = 500  # characters of a query's text kept in the audit log

log = logging.getLogger(__name__)


def limits() -> dict:
    """The console's limits: Flask config ``CONSOLE_TIMEOUT``, ``CONSOLE_MAX_ROWS`` and ``CONSOLE_MAX_BYTES`` when
    set, else the settings the app's graph was connected with (``console.*``), else the defaults above."""
    settings = getattr(extensions.graph(), "settings", None)

    def limit(key, field, default):
        value = current_app.config.get(key)
        if value is None:
            value = getattr(settings, field, default)
        return value

    return {"timeout": float(limit("CONSOLE_TIMEOUT", "console_timeout", CONSOLE_TIMEOUT)),
            "rows": int(limit("CONSOLE_MAX_ROWS", "console_max_rows", CONSOLE_MAX_ROWS)),
            "bytes": int(limit("CONSOLE_MAX_BYTES", "console_max_bytes", CONSOLE_MAX_BYTES))}


@bp.get("/console")
def index():
    """The library and the editor; ``?query=NAME`` opens a saved query's parameters."""
    auth.require("run_queries")
    name = request.args.get("query") or None
    chosen, problem = None, None
    if name:
        try:
            chosen = get_query(name)
        except NotFound as error:
            problem = str(error)
    return _page(chosen=chosen, given={}, cypher="", problem=problem, status=404 if problem else 200)


@bp.post("/console")
def run():
    """Run a saved query or the Cypher typed; the page again with the answer (or a CSV download)."""
    auth.require("run_queries")
    form = request.form
    name = (form.get("query") or "").strip() or None
    cypher = form.get("cypher") or ""
    given = {key[len("param."):]: value for key, value in form.items() if key.startswith("param.")}
    chosen = None
    detail: dict = {}
    try:
        if name:
            chosen = get_query(name)
            params = chosen.bind({k: v for k, v in given.items() if v.strip() != ""})
            text = chosen.cypher
            detail = {"name": name, "params": {k: _plain(v) for k, v in params.items()}}
        else:
            if not cypher.strip():
                raise InvalidInput("write a query, or choose one from the library")
            params, text = {}, cypher
            detail = {"cypher": cypher[:CYPHER_SHOWN]}
        bounds = limits()
        answer = run_readonly(extensions.graph(), text, params, timeout=bounds["timeout"], row_cap=bounds["rows"],
                              max_bytes=bounds["bytes"])
    except QueryRefused as error:
        _audit({**detail, "refused": error.reason})
        return _page(chosen=chosen, given=given, cypher=cypher, problem=str(error), status=422)
    except (InvalidInput, NotFound) as error:
        _audit({**detail, "refused": "input"})
        return _page(chosen=chosen, given=given, cypher=cypher, problem=str(error), status=400)
    except Neo4jUnavailable:
        _audit({**detail, "refused": "unavailable"})
        raise  # the app's 503 page, saying so
    except Exception as error:  # graphsvc's own fault: logged whole, said in one line, audited
        log.exception("console: the query failed")
        _audit({**detail, "refused": "failed"})
        return _page(chosen=chosen, given=given, cypher=cypher, status=500,
                     problem=f"the query failed in graphsvc ({type(error).__name__}); the log has the details")
    _audit({**detail, "rows": len(answer["rows"]), "truncated": answer["truncated"],
            **({"truncated_by": answer["truncated_by"]} if answer["truncated"] else {})})
    if form.get("do") == "csv":
        columns = answer["columns"]
        rows = ({c: _cell(v) for c, v in zip(columns, row, strict=False)} for row in answer["rows"])
        return csv_download(f"{name or 'query'}.csv", columns, rows, filters=detail)
    return _page(chosen=chosen, given=given, cypher=cypher, answer=answer, picture=_picture(answer))


def _page(*, chosen, given, cypher, problem=None, answer=None, picture=None, status=200):
    defaults = {p.name: _default_text(p.default) for p in chosen.params} if chosen else {}
    return render_template("console/index.html", queries=library(), chosen=chosen, given=given, cypher=cypher,
                           defaults=defaults,
                           problem=problem, answer=answer, picture=picture, cell=_cell,
                           limits=limits()), status


def _audit(detail: dict) -> None:
    auth.record("query", user=current_user.username, detail=detail)


def _default_text(value) -> str:
    """A parameter's default as its input shows it: dates ISO, lists comma-separated, none empty."""
    if value is None or value == "today":
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return _plain(value) if hasattr(value, "isoformat") else str(value)


def _plain(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


def _cell(value) -> str:
    """A value of the answer as text in one cell: nodes, relationships and paths as their JSON."""
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json_text(value)
    return str(value)


def _picture(answer: dict) -> dict | None:
    """The nodes and relationships in an answer (found anywhere in its rows), for a picture; None if none."""
    nodes: dict[str, dict] = {}
    edges: dict[str, dict] = {}

    def walk(value):
        if isinstance(value, dict):
            kind = value.get("type")
            if kind == "node":
                props = value.get("properties") or {}
                nodes[value["id"]] = {"id": value["id"], "label": str(props.get("name") or props.get("id") or
                                                                      ",".join(value.get("labels", []))),
                                      "kind": (value.get("labels") or ["node"])[0].lower()}
                return
            if kind == "relationship":
                edges[value["id"]] = {"id": value["id"], "source": value["start"], "target": value["end"],
                                      "label": value.get("rel_type"), "weight": 1}
                return
            if kind == "path":
                for part in value.get("nodes", []) + value.get("relationships", []):
                    walk(part)
                return
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for row in answer["rows"]:
        walk(row)
    if not nodes:
        return None
    edges = {k: e for k, e in edges.items() if e["source"] in nodes and e["target"] in nodes}
    # A circle: the browser only draws (as on /network); a console answer is small (row-capped).
    ordered = sorted(nodes)
    for i, n in enumerate(ordered):
        angle = 2 * math.pi * i / len(ordered)
        nodes[n].update(x=round(math.cos(angle), 4), y=round(math.sin(angle), 4))
    return {"nodes": [nodes[n] for n in ordered], "edges": list(edges.values())}

