"""The analysts' library: named, read-only Cypher queries in ``queries/analyst/``.

One query a ``.cypher`` file, whose name (the file's stem) is the query's
name. Each file opens with a header of ``//`` comment lines in a strict
format (``queries/analyst/README.md`` documents it)::

    // title: Stalled stage-1 referrers by point person
    // question: Which referrers are still with their point person alone after months?
    // needs: analysis
    // param: stall_days int = 180 -- days in stage 1 before a referrer counts as stalled
    // param: as_of date = today -- the day to judge on
    // columns: point_person, referrer, name, stage_since, days_in_stage
    MATCH ...

The Cypher after the header takes only ``$parameters``. ``library()``
reads the folder once (found as ``catalog.queries_dir()`` finds
``queries/``: ``GRAPHSVC_QUERIES_DIR``, a source checkout, or the copy
installed as ``graphsvc/queries``); ``get(name)`` picks one;
``AnalystQuery.bind(raw)`` turns the text a person typed (``--param
key=value``, a form) into typed parameters. A malformed header is a
``GraphsvcError`` naming the file and the line.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from ..errors import GraphsvcError, InvalidInput, NotFound
from .catalog import queries_dir

TYPES = ("int", "float", "str", "date", "bool", "list[str]", "id")
"""The parameter types a header may declare."""

TODAY = "today"
"""The default of a ``date`` parameter that stands for the day the query is bound."""

# What each type accepts, in the words an error message uses.
ACCEPTS = {
    "int": "a whole number in ASCII digits, e.g. 180",
    "float": "a number in ASCII digits, e.g. 0.5",
    "str": "any text",
    "date": "a date as YYYY-MM-DD, or today",
    "bool": "one of 1, 0, true, false, yes, no",
    "list[str]": "a comma-separated list, e.g. a,b",
    "id": "a node id, e.g. rf1",
}

_INT = re.compile(r"-?[0-9]+")
_FLOAT = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TRUE, _FALSE = ("1", "true", "yes"), ("0", "false", "no")
_NULL = ("null", "none")

_FIELD = re.compile(r"//\s?([a-z_]+):\s*(.*)")
_PARAM = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s+(int|float|str|date|bool|list\[str\]|id)\s*=\s*(.*?)\s+--\s+(.+)")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ONCE = ("title", "question", "columns", "needs")
_KEYS = _ONCE + ("param", "note")


@dataclass(frozen=True)
class Param:
    """One declared parameter of an analyst query.

    Attributes
    ----------
    name : str
        The Cypher parameter (``$name``).
    type : str
        One of ``TYPES``.
    default : Any
        The typed default (``int``, ``float``, ``str``, ``bool``, ``date``,
        ``list[str]``), None for an optional filter, or ``TODAY`` (a date
        parameter whose default is the day the query is bound).
    description : str
        What the parameter means, in a sentence.
    """

    name: str
    type: str
    default: Any
    description: str

    def convert(self, text: Any, *, today: date | None = None) -> Any:
        """The typed value of ``text``; ``InvalidInput`` naming the parameter if it is not one.

        An empty text, ``null`` or ``none`` stands for the default. A value
        of the right Python type already (from JSON, say) is taken as it is.
        """
        if not isinstance(text, str):
            if _is_typed(self.type, text):
                return list(text) if self.type == "list[str]" else text
            raise self._refuse(text)
        value = text.strip()
        if value == "" or value.lower() in _NULL:
            return self.resolve(self.default, today=today)
        kind = self.type
        if kind == "int" and _INT.fullmatch(value):
            return int(value)
        if kind == "float" and _FLOAT.fullmatch(value):
            return float(value)
        if kind == "str":
            return value
        if kind == "id":
            return value
        if kind == "bool" and value.lower() in _TRUE + _FALSE:
            return value.lower() in _TRUE
        if kind == "list[str]":
            return [item.strip() for item in value.split(",") if item.strip()]
        if kind == "date":
            if value.lower() == TODAY:
                return today or date.today()
            if _DATE.fullmatch(value):
                try:
                    return date.fromisoformat(value)
                except ValueError:
                    pass
        raise self._refuse(text)

    def resolve(self, value: Any, *, today: date | None = None) -> Any:
        """``value`` with the ``TODAY`` marker replaced by the day (lists copied)."""
        if value == TODAY and self.type == "date":
            return today or date.today()
        return list(value) if isinstance(value, (list, tuple)) else value

    @property
    def default_text(self) -> str:
        """The default as the header writes it (``today``, ``null``, ``2024-01-31``, ``a,b``)."""
        if self.default is None:
            return "null"
        if isinstance(self.default, bool):
            return "true" if self.default else "false"
        if isinstance(self.default, (list, tuple)):
            return ",".join(self.default)
        return str(self.default)

    def _refuse(self, text: Any) -> InvalidInput:
        return InvalidInput(f"parameter {self.name!r} ({self.type}): {text!r} is not {ACCEPTS[self.type]}")


@dataclass(frozen=True)
class AnalystQuery:
    """One query of the analysts' library.

    Attributes
    ----------
    name : str
        The file's stem (``stalled_referrers_by_point_person``).
    title, question : str
        A short title, and the question the query answers.
    params : tuple of Param
        The declared parameters, in header order.
    columns : tuple of str
        The columns the query returns, in ``RETURN`` order.
    cypher : str
        The Cypher after the header (its own comments kept, no trailing ``;``).
    needs_analysis : bool
        True when the query reads the properties ``graphsvc analyze`` writes
        back onto ``Referrer`` nodes (``// needs: analysis``).
    notes : tuple of str
        The header's ``// note:`` lines.
    """

    name: str
    title: str
    question: str
    params: tuple[Param, ...]
    columns: tuple[str, ...]
    cypher: str
    needs_analysis: bool = False
    notes: tuple[str, ...] = ()

    def param(self, name: str) -> Param:
        """The declared parameter ``name``; ``InvalidInput`` listing the known ones if there is none."""
        for p in self.params:
            if p.name == name:
                return p
        known = ", ".join(p.name for p in self.params) or "none"
        raise InvalidInput(f"query {self.name!r} has no parameter {name!r} (its parameters: {known})")

    def bind(self, raw: Mapping[str, str], *, today: date | None = None) -> dict:
        """Typed parameters for a run: ``raw`` converted, the rest filled with defaults.

        Parameters
        ----------
        raw : Mapping[str, str]
            Values as a person typed them, by parameter name.
        today : date, optional
            The day ``today`` stands for (default: the current date).

        Returns
        -------
        dict
            Every declared parameter, typed.

        Raises
        ------
        InvalidInput
            Naming every unknown parameter (with the known ones) and every
            value that is not of its parameter's type (with what it accepts).

        Examples
        --------
        >>> q = AnalystQuery("q", "T", "Q?", (Param("days", "int", 90, "days"),
        ...                  Param("as_of", "date", TODAY, "the day")), ("n",), "RETURN $days AS n")
        >>> q.bind({"days": "30"}, today=date(2024, 12, 31))
        {'days': 30, 'as_of': datetime.date(2024, 12, 31)}
        """
        problems = []
        values = {}
        for key, text in raw.items():
            try:
                values[key] = self.param(key).convert(text, today=today)
            except InvalidInput as e:
                problems.extend(e.problems)
        if problems:
            raise InvalidInput(problems)
        return {p.name: values[p.name] if p.name in values else p.resolve(p.default, today=today)
                for p in self.params}


def library() -> dict[str, AnalystQuery]:
    """Every query of ``queries/analyst/``, by name, sorted by name (read once, cached; a fresh dict each call)."""
    return dict(_load(queries_dir() / "analyst"))


def get(name: str) -> AnalystQuery:
    """The query ``name``; ``NotFound`` with the closest names if there is none."""
    queries = library()
    if name in queries:
        return queries[name]
    close = close_matches(name, queries)
    hint = f"; did you mean {', '.join(close)}?" if close else f"; the library has: {', '.join(queries)}"
    raise NotFound(f"no analyst query named {name!r}{hint}")


def close_matches(name: str, names, n: int = 3, cutoff: float = 0.6) -> list[str]:
    """Up to ``n`` of ``names`` closest to ``name``, best first.

    Each name is scored by difflib's ratio against ``name``, or against its
    own first ``len(name)`` characters when that is higher, so the start of
    a long name (``stalled`` for ``stalled_referrers_by_point_person``) finds it.

    Examples
    --------
    >>> close_matches("stalled", ["lapsed_referrers", "stalled_referrers_by_point_person"])
    ['stalled_referrers_by_point_person']
    """
    text = name.strip().lower()
    scored = []
    for candidate in names:
        score = max(difflib.SequenceMatcher(None, text, candidate).ratio(),
                    difflib.SequenceMatcher(None, text, candidate[:len(text)]).ratio() if text else 0.0)
        if score >= cutoff:
            scored.append((-score, candidate))
    return [candidate for _, candidate in sorted(scored)[:n]]


def _header(lines: list[str], fail) -> tuple[list[list], int]:
    """The header's fields as ``[key, value, line number]`` (continuation lines joined), and the index of
    the first line of Cypher."""
    fields: list[list] = []
    for i, line in enumerate(lines):
        stripped = line.strip()
        if not stripped.startswith("//"):
            return fields, i
        if re.match(r"//\s{3,}\S", stripped) and fields:
            fields[-1][1] += " " + stripped[2:].strip()
            continue
        found = _FIELD.fullmatch(stripped)
        if not found:
            raise fail(i + 1, "expected a header line '// key: value' (keys: " + ", ".join(_KEYS) + ")")
        key, value = found.groups()
        if key not in _KEYS:
            raise fail(i + 1, f"unknown header key {key!r} (keys: {', '.join(_KEYS)})")
        fields.append([key, value.strip(), i + 1])
    return fields, len(lines)


@cache
def _load(folder: Path) -> dict[str, AnalystQuery]:
    return {path.stem: parse(path) for path in sorted(folder.glob("*.cypher"))}


def parse(path: Path, text: str | None = None) -> AnalystQuery:
    """One query file read into an ``AnalystQuery``; ``GraphsvcError`` naming file and line if malformed.

    The header is the file's leading ``//`` lines: ``// key: value`` with
    key ``title``, ``question``, ``columns``, ``needs`` (once each; all but
    ``needs`` required), ``param`` and ``note`` (any number). A line of
    ``//`` and three or more spaces continues the field above it. The first
    line that does not start with ``//`` starts the Cypher.
    """
    path = Path(path)
    lines = (path.read_text(encoding="utf-8") if text is None else text).splitlines()

    def fail(number: int, why: str) -> GraphsvcError:
        return GraphsvcError(f"{path}:{number}: {why}")

    fields, body_start = _header(lines, fail)
    seen: dict[str, tuple[str, int]] = {}
    params: list[Param] = []
    notes: list[str] = []
    for key, value, number in fields:
        if not value:
            raise fail(number, f"header field {key!r} is empty")
        if key in _ONCE:
            if key in seen:
                raise fail(number, f"header field {key!r} given twice (first on line {seen[key][1]})")
            seen[key] = (value, number)
        elif key == "param":
            param = _param(value, lambda why, n=number: fail(n, why))
            if any(p.name == param.name for p in params):
                raise fail(number, f"parameter {param.name!r} declared twice")
            params.append(param)
        else:
            notes.append(value)
    for key in ("title", "question", "columns"):
        if key not in seen:
            raise fail(body_start + 1 if fields else 1, f"the header has no '// {key}:' line")
    needs = seen.get("needs", ("", 0))
    if needs[0] not in ("", "analysis"):
        raise fail(needs[1], f"'needs' must be 'analysis', not {needs[0]!r}")
    columns = tuple(c.strip() for c in seen["columns"][0].split(","))
    if not all(_NAME.fullmatch(c) for c in columns) or len(set(columns)) != len(columns):
        raise fail(seen["columns"][1], "columns must be distinct names separated by commas")
    cypher = "\n".join(lines[body_start:]).strip().rstrip(";").strip()
    if not cypher:
        raise fail(len(lines) or 1, "no Cypher after the header")
    used = set(re.findall(r"\$([A-Za-z_][A-Za-z0-9_]*)", cypher))
    declared = {p.name for p in params}
    if used - declared:
        raise fail(body_start + 1, f"the Cypher uses undeclared parameters: {', '.join(sorted(used - declared))}")
    if declared - used:
        raise fail(body_start + 1, f"declared parameters the Cypher never uses: {', '.join(sorted(declared - used))}")
    return AnalystQuery(name=path.stem, title=seen["title"][0], question=seen["question"][0], params=tuple(params),
                        columns=columns, cypher=cypher, needs_analysis=needs[0] == "analysis", notes=tuple(notes))


def _param(value: str, fail) -> Param:
    """``NAME TYPE = DEFAULT -- DESCRIPTION`` read into a ``Param``."""
    found = _PARAM.fullmatch(value)
    if not found:
        raise fail("expected '// param: NAME TYPE = DEFAULT -- DESCRIPTION' with TYPE one of " + ", ".join(TYPES))
    name, kind, default, description = found.groups()
    param = Param(name, kind, None, description.strip())
    if default.lower() in _NULL:
        return param
    if default.lower() == TODAY:
        if kind != "date":
            raise fail(f"default 'today' is for date parameters only ({name} is {kind})")
        return Param(name, kind, TODAY, param.description)
    try:
        typed = param.convert(default)
    except InvalidInput as e:
        raise fail(f"bad default: {e}") from None
    return Param(name, kind, tuple(typed) if kind == "list[str]" else typed, param.description)


def _is_typed(kind: str, value: Any) -> bool:
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "date":
        return isinstance(value, date)
    if kind == "list[str]":
        return isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value)
    return False
