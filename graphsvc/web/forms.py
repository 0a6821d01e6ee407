"""The web's write forms: which fields each one shows, what the user typed, and where each error goes.

A form here validates nothing itself. ``Form.data`` turns what the user
typed into the JSON types of the write's request model (``graphsvc.inputs``,
the same model the JSON API takes): text trimmed, a blank left out, a
``;``-separated list split, checkboxes as a list or a flag. The model and
then the service (``graphsvc.service``: the same rules as the JSON API and
the import) judge it; their ``InvalidInput`` messages each name a field
("field 'date': must be a date in the form YYYY-MM-DD (got '2024-13-01')",
"unknown client_id 'cl99'"), and ``place`` puts each one beside that field.
So the rules and their wording live in one place, and a form can never
accept what the API or an import would refuse (or the other way round).

The CSRF token is Flask-WTF's ``CSRFProtect`` (every POST, before the view
runs); the templates put ``csrf_token()`` in every form.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date as _date

# Field kinds: how a field is shown and read back from the request (LIST: text of items separated by ;).
# PICK: text with the vocabulary's words offered as one types (a typo is refused by the service, with the
# closest words).
TEXT, DATE, SELECT, CHECKS, CHECK, LIST, PICK = "text", "date", "select", "checks", "check", "list", "pick"


@dataclass(frozen=True)
class Field:
    """One input of a form.

    ``choices`` are ``(value, label)`` pairs (for ``select`` and ``checks``);
    a ``select`` with ``blank`` offers an empty first option (labelled
    ``blank``). ``store`` is the store's name for the field when it differs
    (``to_clinician_id`` ...); messages naming either land here.
    """

    name: str
    label: str
    kind: str = TEXT
    choices: tuple = ()
    blank: str | None = None
    help: str = ""
    aliases: tuple[str, ...] = ()
    readonly: bool = False
    missing: str = ""  # what a blank answer is told ("Choose the clinician to pass this referral to.")


@dataclass
class Form:
    """A form's fields, the values to show (what the user typed, or the record's), and its errors."""

    fields: list[Field]
    values: dict = dataclass_field(default_factory=dict)
    errors: dict = dataclass_field(default_factory=dict)  # field name -> [message, ...]
    problems: list = dataclass_field(default_factory=list)  # messages naming no field of the form

    def __getitem__(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.fields]

    def value(self, name: str):
        """The value to show: text for a text field, a list for ``checks``, a bool for ``check``."""
        return self.values.get(name, [] if self[name].kind == CHECKS else False if self[name].kind == CHECK else "")

    def input_type(self, name: str) -> str:
        """``date`` for a date field showing a date or nothing; ``text`` otherwise, so that whatever the
        user typed stays visible (a browser's date input shows nothing for a value it cannot read)."""
        if self[name].kind != DATE:
            return "text"
        value = self.values.get(name) or ""
        try:
            return "date" if not value or _date.fromisoformat(value).isoformat() == value else "text"
        except ValueError:
            return "text"

    def read(self, formdata) -> Form:
        """Take what the user sent (``request.form``), as typed; a read-only field keeps its value."""
        for f in self.fields:
            if f.readonly:
                continue
            if f.kind == CHECKS:  # ticked boxes; a value with ; (a script's, or an older form's) is several
                self.values[f.name] = [part.strip() for v in formdata.getlist(f.name) for part in v.split(";")
                                       if part.strip()]
            elif f.kind == CHECK:
                self.values[f.name] = formdata.get(f.name) in ("on", "true", "1", "yes")
            else:
                self.values[f.name] = formdata.get(f.name, "")
        return self

    def data(self, names=None) -> dict:
        """What the user typed, as the request model's JSON types: text and dates trimmed, ``LIST``
        split on ``;``, ``CHECKS`` a list, ``CHECK`` a flag; a blank field left out (so a blank id is
        made by the service, and a blank required field is "is required"). ``names``: only those."""
        out = {}
        for f in self.fields:
            if f.readonly or (names is not None and f.name not in names):
                continue
            value = self.values.get(f.name)
            if f.kind == CHECKS:
                out[f.name] = list(value or [])
            elif f.kind == CHECK:
                out[f.name] = bool(value)
            elif f.kind == LIST:
                out[f.name] = [part.strip() for part in (value or "").split(";") if part.strip()]
            elif self.text(f.name) is not None:
                out[f.name] = self.text(f.name)
        return out

    def text(self, name: str) -> str | None:
        """The field's text, trimmed; None when blank (for optional arguments such as a generated id)."""
        value = self.values.get(name)
        if isinstance(value, str):
            value = value.strip()
        return value or None

    def refused(self, messages: Iterable[str], names: Mapping[str, str] | None = None) -> Form:
        """Place the store's messages beside their fields (``place``), in plain words (``plain``; ``names``:
        ids of members and referrers -> names, so that a message names people, not ids)."""
        by_field, general = place(messages, self.fields)
        kinds = {f.name: f for f in self.fields}
        self.errors = {name: [plain(m, kinds[name], names) for m in found] for name, found in by_field.items()}
        self.problems = [plain(m, None, names) for m in general]
        return self

    @property
    def invalid(self) -> bool:
        return bool(self.errors or self.problems)


_FIELD = re.compile(r"^field '([^']+)'")


def place(messages: Iterable[str], fields: Iterable[Field]) -> tuple[dict[str, list[str]], list[str]]:
    """``({field name: [message, ...]}, [messages for no field])``.

    A message names its field as "field '<name>': ..." (the record models'
    and most store messages), or starts with or mentions it ("unknown
    client_id 'cl9'", "date 2024-01-01 is not after ..."); a nested name
    (``client.needs``) lands on its last part (``needs``). The first field
    of the form named wins; a message naming none (``referrer_id``, which
    the page's address gives) goes above the form.

    >>> place(["field 'date': is not a real calendar date (got '2024-02-30')",
    ...        "unknown client_id 'cl9'", "field 'client.needs': must be ...",
    ...        "field 'to_clinician_id': 'cn1' already holds the role", "unknown referrer_id 'x'"],
    ...       [Field("date", "Date"), Field("client_id", "Client"), Field("needs", "Needs"),
    ...        Field("to", "To", aliases=("to_clinician_id",))])
    ... # doctest: +NORMALIZE_WHITESPACE
    ({'date': ["field 'date': is not a real calendar date (got '2024-02-30')"],
      'client_id': ["unknown client_id 'cl9'"], 'needs': ["field 'client.needs': must be ..."],
      'to': ["field 'to_clinician_id': 'cn1' already holds the role"]}, ["unknown referrer_id 'x'"])
    """
    fields = list(fields)
    names = {}
    for f in fields:
        if not f.readonly:
            names[f.name] = f.name
            for alias in f.aliases:
                names[alias] = f.name
    by_field: dict[str, list[str]] = {}
    general: list[str] = []
    for message in messages:
        target = None
        named = _FIELD.match(message)
        if named:
            name = named.group(1)
            target = names.get(name) or names.get(name.rsplit(".", 1)[-1])
        else:
            found = [(m.start(), names[n]) for n in names
                     for m in [re.search(rf"(?<![\w.']){re.escape(n)}(?![\w'])", message)] if m]
            if found:
                target = min(found)[1]
        if target is None:
            general.append(message)
        else:
            by_field.setdefault(target, []).append(message)
    return by_field, general


_GOT = re.compile(r" \(got ('(?:[^'\\]|\\.)*…?')\)$")
_UNKNOWN = re.compile(r"^unknown (?:field '[\w.]+': )?([a-z_]+?)(?:_id)? ('[^']*')(.*)$")
# Store messages as a form says them beside the field (its label already says which field): the start of the
# store's wording -> the form's. ``{got}`` is what was typed.
_PLAIN = (
    ("must be 1-64 letters, digits or _ . : - starting with a letter or digit",
     "Use 1-64 letters, digits or _ . : - with no spaces, starting with a letter or digit (you typed {got})."),
    ("must be a lowercase slug of letters, digits and _",
     "Use lowercase letters, digits and _ only, like eating_disorders (you typed {got})."),
    ("must be a date in the form YYYY-MM-DD", "Give the day as YYYY-MM-DD, like 2024-06-10 (you typed {got})."),
    ("is not a real calendar date", "There is no such day as {got}."),
    ("given, but assigned_to is the clinician it was addressed to",
     "Leave the reason blank: the referral stays with the clinician it was addressed to."),
    ("is required (or client:", "Give an existing client's id, or describe a new client below."),
    ("give either client_id (a stored client) or client", "Give an existing client's id or describe a new client, "
                                                          "not both."),
)


def plain(message: str, field: Field | None = None, names: Mapping[str, str] | None = None) -> str:
    """A store message (``"field 'x': must be ... (got '')"``) as a form says it beside ``field``.

    The field's own name goes (the label beside it says which field), a
    blank answer is "Choose one." or "Fill this in.", the patterns of ids,
    words and dates are said in words, and beside a choice of people an id
    it offers becomes its name (``names``); a typed id (a client's) stays.

    >>> plain("field 'to_clinician_id': must be 1-64 letters, digits or _ . : - starting with a letter or "
    ...       "digit (got '')", Field("to_clinician_id", "Pass to", SELECT))
    'Choose one.'
    >>> plain("field 'to_clinician_id': 'cn1' already holds the role",
    ...       Field("to_clinician_id", "Pass to", SELECT, (("cn1", "Ana Ruiz"),)), names={"cn1": "Ana Ruiz"})
    'Ana Ruiz already holds the role.'
    >>> plain("unknown client_id 'cl99'")
    "There is no client 'cl99'."
    """
    body = _FIELD.sub("", message).removeprefix(":").strip()
    got = _GOT.search(body)
    typed = got.group(1) if got else ""
    if typed == "''" or body == "is required":
        if field is not None and field.missing:
            return field.missing
        if field is not None and field.kind in (SELECT, CHECKS):
            return "Choose one."
        return "Fill this in."
    for start, said in _PLAIN:
        if start in body:
            return said.format(got=typed or "nothing")
    unknown = _UNKNOWN.match(body)
    if unknown:
        noun, value, rest = unknown.groups()
        body = f"There is no {noun.replace('_', ' ')} {value}{rest}"
    if field is not None and field.kind == SELECT:  # a choice of people: the one named by name, not by id
        offered = {value for value, _ in field.choices}
        for some_id, name in (names or {}).items():
            if some_id in offered:
                body = body.replace(f"'{some_id}'", name)
    body = body[:1].upper() + body[1:]
    return body if body.endswith((".", "?", "!", ")")) else body + "."


def choices(rows: Iterable[Mapping], *, label=lambda r: r["name"], value="id") -> tuple:
    """``(value, label)`` pairs of ``rows``, in their order."""
    return tuple((r[value], label(r)) for r in rows)


def words_choices(values: Iterable[str]) -> tuple:
    """``(value, value in words)`` for a vocabulary (``school_counselor`` -> "school counselor")."""
    from ..presentation import words

    return tuple((v, words(v)) for v in values)
