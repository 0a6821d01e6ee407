"""``graphsvc query``: the analysts' saved queries, or Cypher of one's own, read-only and bounded.

Every query goes through ``graphsvc.store.readonly.run_readonly``: EXPLAIN
first (anything but a read is refused), then a READ transaction stopped after
``--timeout`` seconds, at most ``--max-rows`` rows and ``--max-bytes`` bytes
(their defaults: the settings ``console.timeout``, ``console.max_rows`` and
``console.max_bytes``). Each run, however it ends (answered, refused,
stopped, Neo4j unreachable), is recorded in the audit log (``query``).
"""

from __future__ import annotations

import csv
import io
import json
import math
from datetime import date, datetime

import click

from ..errors import InvalidInput, Neo4jUnavailable, QueryRefused
from .common import cli_user, needs_graph
from .root import main

FORMATS = ("table", "csv", "json")
CYPHER_SHOWN = 500  # characters of a query's text kept in the audit log
CELL_WIDTH = 100  # a table cell longer than this is cut (json and csv give everything)


@main.command("query")
@click.argument("name", required=False)
@click.option("--list", "list_queries", is_flag=True, help="List the saved queries (the analysts' library).")
@click.option("--cypher", metavar="TEXT", help="Run this Cypher instead of a saved query (reads only).")
@click.option("--param", "-p", "params", multiple=True, metavar="KEY=VALUE",
              help="A parameter ($KEY), as many times as needed. For a saved query the value is read as "
                   "the parameter's declared type; for --cypher as JSON when it is JSON (42, true, "
                   "[\"a\",\"b\"], \"42\"), else as text.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
              help="table for people; csv (formula-safe cells) or json for other programs.")
@click.option("--timeout", type=click.FloatRange(0, 3600, min_open=True), default=None, metavar="SECONDS",
              help="The query is stopped after this long, whatever it is doing.  [default: the setting "
                   "console.timeout, 10]")
@click.option("--max-rows", type=click.IntRange(1, 1_000_000), default=None, metavar="N",
              help="At most this many rows; the answer says when it was cut.  [default: the setting "
                   "console.max_rows, 5000]")
@click.option("--max-bytes", type=click.IntRange(1_000, 1_000_000_000), default=None, metavar="N",
              help="At most this many bytes of rows (as JSON); the answer says when it was cut.  [default: the "
                   "setting console.max_bytes, 5000000]")
@click.pass_obj
def query_command(settings, name, list_queries, cypher, params, fmt, timeout, max_rows, max_bytes):
    """Run a saved query NAME, or --cypher TEXT, read-only; --list shows the saved ones.

    The query is planned first (EXPLAIN) and refused unless Neo4j plans it as
    a read: no CREATE, MERGE, SET, DELETE, REMOVE, LOAD CSV, schema or
    administration commands, nor procedures that write. It then runs in a
    read transaction that Neo4j stops after --timeout seconds.

    \b
    Examples:
      graphsvc query --list
      graphsvc query stalled_referrers_by_point_person --param stall_days=120
      graphsvc query --cypher "RETURN $n * 2 AS twice" --param n=21 --format json
    """
    if list_queries:
        if name or cypher or params:
            raise click.UsageError("--list takes no NAME, --cypher or --param")
        if fmt == "csv":
            raise click.UsageError("--list prints a table or json")
        _list(fmt)
        return
    if bool(name) == (cypher is not None):
        raise click.UsageError("give a saved query NAME or --cypher TEXT (one of them), or --list")
    timeout = settings.console_timeout if timeout is None else timeout
    max_rows = settings.console_max_rows if max_rows is None else max_rows
    max_bytes = settings.console_max_bytes if max_bytes is None else max_bytes
    detail: dict = {"name": name} if name else {"cypher": cypher[:CYPHER_SHOWN]}
    try:
        raw = _parse_params(params)
        if name:
            from ..store.library import get

            query = get(name)
            bound = query.bind(raw)
            text = query.cypher
        else:
            bound = {key: _guess(value) for key, value in raw.items()}
            text = cypher
        detail["params"] = {key: _shown(value) for key, value in bound.items()}
        answer = _run(text, bound, timeout=timeout, row_cap=max_rows, max_bytes=max_bytes)
    except QueryRefused as error:
        _audit(settings, {**detail, "refused": error.reason})
        raise
    except InvalidInput:
        _audit(settings, {**detail, "refused": "input"})
        raise
    except Neo4jUnavailable:
        _audit(settings, {**detail, "refused": "unavailable"})
        raise
    cut = answer.get("truncated_by")
    _audit(settings, {**detail, "rows": len(answer["rows"]), "truncated": answer["truncated"],
                      **({"truncated_by": cut} if answer["truncated"] else {})})
    out = {"columns": answer["columns"], "rows": answer["rows"], "truncated": answer["truncated"],
           "truncated_by": cut, "max_bytes": max_bytes}
    if fmt == "json":
        click.echo(as_json(out))
    elif fmt == "csv":
        click.echo(as_csv(out), nl=False)
    else:
        click.echo(as_table(out))


@needs_graph
def _run(graph, text, params, *, timeout, row_cap, max_bytes):
    from ..store.readonly import run_readonly

    return run_readonly(graph, text, params, timeout=timeout, row_cap=row_cap, max_bytes=max_bytes)


def _audit(settings, detail: dict) -> None:
    from ..accounts import Accounts

    Accounts.open(settings).record("query", user=cli_user(), detail=detail)


# -- parameters ---------------------------------------------------------------


def _parse_params(given) -> dict[str, str]:
    raw: dict[str, str] = {}
    problems = []
    for item in given:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            problems.append(f"--param must be KEY=VALUE (got {item!r})")
        elif key in raw:
            problems.append(f"--param {key} given twice")
        else:
            raw[key] = value
    if problems:
        raise InvalidInput(problems)
    return raw


def _guess(text: str):
    """A --cypher parameter: JSON when the text is JSON (numbers, true, lists, "quoted"), else the text."""
    try:
        value = json.loads(text)
    except ValueError:
        return text
    if isinstance(value, float) and not math.isfinite(value):  # NaN, Infinity: text
        return text
    return value


def _shown(value):
    return value.isoformat() if isinstance(value, (date, datetime)) else value


# -- the library ----------------------------------------------------------------


def _list(fmt: str) -> None:
    from ..store.library import library

    queries = library()
    if fmt == "json":
        click.echo(json.dumps([
            {"name": q.name, "title": q.title, "question": q.question, "columns": list(q.columns),
             "needs_analysis": q.needs_analysis,
             "params": [{"name": p.name, "type": p.type, "default": p.default_text, "description": p.description}
                        for p in q.params]}
            for q in queries.values()], indent=2, ensure_ascii=False))
        return
    rows = [[q.name, q.title, ", ".join(f"{p.name}={p.default_text}" for p in q.params)]
            for q in queries.values()]
    click.echo(_aligned(["name", "title", "parameters (default)"], rows))
    click.echo(f"{len(rows)} saved {'query' if len(rows) == 1 else 'queries'}; "
               "run one with: graphsvc query NAME [--param KEY=VALUE ...]")


# -- output ---------------------------------------------------------------------


def as_json(answer: dict) -> str:
    """``{"columns": [...], "rows": [...], "truncated": bool, "truncated_by": null | "rows" | "bytes"}``, one row
    a line."""
    rows = ",\n    ".join(json.dumps(row, ensure_ascii=False) for row in answer["rows"])
    return ('{\n  "columns": ' + json.dumps(answer["columns"], ensure_ascii=False)
            + ',\n  "rows": [' + (f"\n    {rows}\n  " if rows else "") + "]"
            + ',\n  "truncated": ' + json.dumps(bool(answer["truncated"]))
            + ',\n  "truncated_by": ' + json.dumps(answer.get("truncated_by")) + "\n}")


def as_csv(answer: dict) -> str:
    """The answer as CSV: a header, then the rows; cells formula-safe, nodes and lists as JSON text."""
    from ..csvio.format import to_cell

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([to_cell(c) for c in answer["columns"]])
    for row in answer["rows"]:
        writer.writerow([to_cell(_json(v) if isinstance(v, (dict, list)) else v) for v in row])
    return buffer.getvalue()


def as_table(answer: dict) -> str:
    """The answer as aligned columns (numbers to the right), then how many rows, and whether it was cut."""
    rows = answer["rows"]
    numeric = [all(_is_number(r[i]) or r[i] is None for r in rows) and any(_is_number(r[i]) for r in rows)
               for i in range(len(answer["columns"]))]
    lines = _aligned(answer["columns"], [[_text(v) for v in row] for row in rows], numeric)
    if answer.get("truncated_by") == "bytes":
        first = " (the first row alone is larger)" if not rows else ""
        tail = (f"{len(rows):,} {'row' if len(rows) == 1 else 'rows'} shown; the answer was cut at --max-bytes "
                f"({answer.get('max_bytes', 0):,} bytes){first}")
    elif answer["truncated"]:
        tail = f"{len(rows):,} rows shown; the answer was cut at --max-rows"
    else:
        tail = f"{len(rows):,} {'row' if len(rows) == 1 else 'rows'}"
    return f"{lines}\n{tail}" if lines else tail


def _aligned(header: list[str], rows: list[list[str]], right: list[bool] | None = None) -> str:
    if not header:
        return ""
    right = right or [False] * len(header)
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(header)]

    def line(cells):
        return "  ".join(c.rjust(w) if r else c.ljust(w)
                         for c, w, r in zip(cells, widths, right, strict=False)).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _text(value) -> str:
    """One table cell: Cypher-like for nodes, relationships and paths; one line; at most CELL_WIDTH characters."""
    text = _cypher_text(value, top=True)
    text = text.replace("\r\n", " ").replace("\n", " ").replace("\r", " ").replace("\t", " ")
    return text if len(text) <= CELL_WIDTH else text[:CELL_WIDTH - 1] + "…"


def _cypher_text(value, top: bool = False) -> str:
    if value is None:
        return "" if top else "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value if top else json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        kind = value.get("type")
        if kind == "node" and "labels" in value:
            return f"({''.join(':' + label for label in value['labels'])}{_props(value.get('properties'))})"
        if kind == "relationship" and "rel_type" in value:
            return f"[:{value['rel_type']}{_props(value.get('properties'))}]"
        if kind == "path" and "nodes" in value:
            return _path(value)
        return "{" + ", ".join(f"{k}: {_cypher_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_cypher_text(v) for v in value) + "]"
    return str(value)


def _props(properties) -> str:
    if not properties:
        return ""
    return " {" + ", ".join(f"{k}: {_cypher_text(v)}" for k, v in properties.items()) + "}"


def _path(path: dict) -> str:
    nodes, rels = path["nodes"], path.get("relationships", [])
    parts = [_cypher_text(nodes[0])] if nodes else []
    for i, rel in enumerate(rels):
        arrow = _cypher_text(rel)
        forward = rel.get("start") == nodes[i]["id"]
        parts.append(f"-{arrow}->" if forward else f"<-{arrow}-")
        parts.append(_cypher_text(nodes[i + 1]))
    return "".join(parts)


def _json(value) -> str:
    from ..store.readonly import json_text

    return json_text(value)
