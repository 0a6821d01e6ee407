"""The records graphsvc stores, validated field by field.

One pydantic model per kind of record. The same models check the Python
write API's arguments and every row of an import, so a value is accepted or
refused the same way on both paths. Lists arrive either as Python lists or as
``;``-separated text; dates as ``datetime.date`` or ISO ``YYYY-MM-DD`` text.
The limits are the same on every path: ids of at most ``ID_MAX`` characters,
names and organisations one line of at most ``TEXT_MAX`` with no control
characters, and no date later than ``today()`` (events, handoffs and a
referrer's ``since``), so that whatever is saved can be exported and imported.

Clients are mental-health data: a ``Client`` holds a pseudonymous id and the
attributes used to match it to a clinician, never a name or contact detail.
"""


import base64
import re
import secrets
from collections import namedtuple
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from .requests import LIMIT_MAX, LIMIT_MIN, MATCH_LIMIT, NOTHING_TO_MATCH, SUGGESTIONS_LIMIT, shown
from .vocabulary import (
    CONTACT_KINDS,
    PASS_REASONS,
    POPULATIONS,
    PRACTICE,
    REFERRER_KINDS,
    SCHEDULE_SLOTS,
    STAFF_ROLES,
)

# The longest value of each kind of field, in characters: the same for the
# import, the Python write API and every form and API that saves a record, so
# whatever is saved can be exported and imported again.
ID_MAX = 64
SLUG_MAX = 64
TEXT_MAX = 200  # names and organisations

# Ids and slugs are checked by pydantic-core's own regex engine rather than a
# Python validator: an import validates millions of them.
ID_PATTERN = rf"^[A-Za-z0-9][A-Za-z0-9_.:-]{{0,{ID_MAX - 1}}}$"
SLUG_PATTERN = rf"^[a-z0-9][a-z0-9_]{{0,{SLUG_MAX - 1}}}$"
PATTERN_RULES = {
    ID_PATTERN: f"must be 1-{ID_MAX} letters, digits or _ . : - starting with a letter or digit",
    SLUG_PATTERN: "must be a lowercase slug of letters, digits and _",
}
# Ids the service makes when a user gives none (``new_id``): a short prefix
# naming the kind, then ``ID_RANDOM`` characters of lowercase base32 from
# ``secrets`` (50 bits: a clash is vanishingly rare, and the store tries
# another id if one happens). The CSV import keeps requiring explicit ids.
ID_PREFIX = {
    "clinician": "cn-", "staff": "st-", "external_provider": "ep-", "client": "cl-", "referrer": "rfr-",
    "referral": "ref-", "introduction": "int-", "contact": "con-", "referral_out": "out-",
}
ID_RANDOM = 10
# Free text (names, organisations): the fields a CSV export may escape
# against spreadsheet formulas (graphsvc.csvio.format).
TEXT_FIELDS = frozenset({"name", "organization"})
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Characters refused in free text: C0 and C1 controls (NUL, tab, line breaks,
# escape, ...), DEL, the Unicode line and paragraph separators, and lone
# surrogates (which cannot be stored). A name is one line of printable text.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
# How much of a refused value a message quotes.


def new_id(kind: str) -> str:
    """A fresh id for a record of ``kind`` (``ID_PREFIX``), valid under ``ID_PATTERN``.

    >>> import re; bool(re.fullmatch(ID_PATTERN, new_id("referral"))), new_id("referral")[:4], len(new_id("client"))
    (True, 'ref-', 13)
    """
    text = base64.b32encode(secrets.token_bytes(7)).decode("ascii").lower()
    return ID_PREFIX[kind] + text[:ID_RANDOM]


def _split_list(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.split(";") if part.strip()]
    return value


def _parse_date(value: Any) -> Any:
    """A date, not after today (``today``)."""
    if isinstance(value, str):
        if not _ISO_DATE.fullmatch(value):
            raise ValueError("must be a date in the form YYYY-MM-DD")
        try:
            value = date.fromisoformat(value)
        except ValueError:
            raise ValueError("is not a real calendar date") from None
    elif hasattr(value, "to_native"):  # neo4j.time.Date
        value = value.to_native()
    elif isinstance(value, datetime) and value.time() == time.min and value.tzinfo is None:
        value = value.date()  # as pydantic would take it
    if type(value) is date:  # one check here, not another validator: an import has millions
        told, bound = _past_bound
        if value >= bound or told is not today:
            _not_future(value)
    return value


def _parse_bool(value: Any) -> Any:
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        raise ValueError("must be true or false")
    return value


def _empty_to_none(value: Any) -> Any:
    return None if value == "" else value


def _no_duplicates(values: list) -> list:
    seen = set()
    for v in values:
        if v in seen:
            raise ValueError(f"lists {v!r} twice")
        seen.add(v)
    return values


def today() -> date:
    """The date after which an event is in the future (tests replace this function)."""
    return date.today()


# (today function, a date no later than the today it gave): dates before the
# bound are in the past without asking the clock (an import has millions).
_past_bound: tuple = (None, date.min)


def _not_future(value: date) -> date:
    global _past_bound
    told, bound = _past_bound
    if told is not today:
        _past_bound = told, bound = today, today() - timedelta(days=1)
    if value >= bound and value > today():
        raise PydanticCustomError("date_in_future", "{day} is in the future", {"day": value.isoformat()})
    return value


def _one_line(value: str) -> str:
    """Free text is one line of printable characters."""
    bad = _CONTROL.search(value)
    if bad:
        raise ValueError(f"must be one line of text without control characters; found "
                         f"U+{ord(bad.group()):04X} at character {bad.start() + 1}")
    return value


def _nonblank(value: str) -> str:
    value = _one_line(value.strip())
    if not value:
        raise ValueError("must not be empty")
    return value


Id = Annotated[str, StringConstraints(max_length=ID_MAX, pattern=ID_PATTERN)]
Slug = Annotated[str, StringConstraints(max_length=SLUG_MAX, pattern=SLUG_PATTERN)]
Day = Annotated[date, BeforeValidator(_parse_date)]
Flag = Annotated[bool, BeforeValidator(_parse_bool)]
Name = Annotated[str, StringConstraints(max_length=TEXT_MAX), AfterValidator(_nonblank)]
Text = Annotated[str, StringConstraints(max_length=TEXT_MAX), AfterValidator(_one_line)]  # may be empty
Population = Literal[POPULATIONS]  # type: ignore[valid-type]
Slot = Literal[SCHEDULE_SLOTS]  # type: ignore[valid-type]


def _list_of(item):
    return Annotated[list[item], BeforeValidator(_split_list), AfterValidator(_no_duplicates)]


def _optional(item):
    return Annotated[item | None, BeforeValidator(_empty_to_none)]


class Record(BaseModel):
    # Unknown fields are refused: a typo must not silently drop data, and a
    # stray "name" or "phone" must never reach a Client.
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    def row(self) -> dict:
        """Plain values for Cypher parameters (dates stay ``date``)."""
        return self.model_dump()


class Clinician(Record):
    id: Id
    name: Name
    specialties: _list_of(Slug) = []
    populations: _list_of(Population) = []
    insurances: _list_of(Slug) = []
    schedule: _list_of(Slot) = []
    accepting_new: Flag = True


class Staff(Record):
    id: Id
    name: Name
    role: Literal[STAFF_ROLES]  # type: ignore[valid-type]


class Referrer(Record):
    id: Id
    name: Name
    kind: Literal[REFERRER_KINDS]  # type: ignore[valid-type]
    organization: Text = ""
    point_person_id: Id
    since: Day


class Client(Record):
    id: Id
    needs: _list_of(Slug) = []
    population: _optional(Population) = None
    insurance: _optional(Slug) = None
    schedule: _optional(Slot) = None


class ExternalProvider(Record):
    id: Id
    name: Name
    niches: _list_of(Slug) = []


class Referral(Record):
    id: Id
    date: Day
    referrer_id: Id
    client_id: Id
    addressed_to: Id
    assigned_to: Id
    pass_reason: _optional(Literal[PASS_REASONS]) = None  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _pass_needs_a_clinician(self):
        if self.pass_reason is not None:
            if self.addressed_to == PRACTICE:
                raise ValueError("pass_reason: a referral addressed to the practice is assigned, not passed")
            if self.addressed_to == self.assigned_to:
                raise ValueError("pass_reason: given, but assigned_to is the clinician it was addressed to")
        return self


class Introduction(Record):
    id: Id
    date: Day
    referrer_id: Id
    introduced_id: Id
    by_id: Id

    @model_validator(mode="after")
    def _not_self(self):
        if self.introduced_id == self.by_id:
            raise ValueError("introduced_id: a member cannot introduce themself")
        return self


class Contact(Record):
    id: Id
    date: Day
    referrer_id: Id
    member_id: Id
    kind: Literal[CONTACT_KINDS]  # type: ignore[valid-type]


class Handoff(Record):
    date: Day
    referrer_id: Id
    point_person_id: Id


class ReferralOut(Record):
    id: Id
    date: Day
    referrer_id: Id
    client_id: Id
    provider_id: Id
    niche: Slug


class PassRequest(Record):
    """A pass (``writes.record_pass``, ``POST /api/passes``): the referral, the colleague, and why."""

    referral_id: Id
    to_clinician_id: Id
    reason: Literal[PASS_REASONS]  # type: ignore[valid-type]


class HandoffRequest(Record):
    """A hand-over (``writes.hand_over``, ``POST /api/handoffs``): the referrer, the new point person, from when."""

    referrer_id: Id
    to_clinician_id: Id
    date: Day


def explain(error: ValidationError) -> list[str]:
    """One readable sentence per problem, each naming its field."""
    out = []
    for e in error.errors(include_url=False):
        field = ".".join(str(p) for p in e["loc"] if not isinstance(p, int)) or None
        kind = e["type"]
        given = e.get("input")
        if kind == "missing":
            msg = "is required"
        elif kind == "extra_forbidden":
            msg = "is not a known field"
        elif kind == "literal_error":
            msg = f"must be one of {e['ctx']['expected']}"
        elif kind == "string_pattern_mismatch":
            msg = PATTERN_RULES.get(e["ctx"]["pattern"], e["msg"])
        elif kind == "value_error":
            msg = str(e["ctx"]["error"])
        elif kind in ("date_type", "date_parsing", "date_from_datetime_parsing"):
            msg = "must be a date in the form YYYY-MM-DD"
        elif kind in ("bool_type", "bool_parsing"):
            msg = "must be true or false"
        elif kind in ("string_type", "list_type"):
            msg = e["msg"].lower()
        elif kind == "string_too_long" and field and isinstance(given, str):
            # In plain words, and without the value: it is the long thing.
            items = [p for p in e["loc"] if isinstance(p, int)]
            what = f"field {shown(field)}" + (f" item {items[-1] + 1}" if items else "")
            out.append(f"{what} is {len(given):,} characters; the limit is {e['ctx']['max_length']:,}")
            continue
        elif kind == "date_in_future":  # the message names the date
            out.append(f"field {shown(field)}: {e['msg']}" if field else e["msg"])
            continue
        else:
            msg = e["msg"]
        if field is None and ": " in msg:  # a model-level rule that names its field
            field, msg = msg.split(": ", 1)
        show = ("" if kind in ("missing", "extra_forbidden") or isinstance(given, (dict, BaseModel))
                else f" (got {shown(given)})")
        out.append(f"field {shown(field)}: {msg}{show}" if field else f"{msg}{show}")
    return out


def _whole_number(low: int, high: int, *, text: bool):
    """A whole number from ``low`` to ``high``: an int (or a float with nothing after the point,
    which JSON Schema counts as an integer); with ``text``, also ASCII digits (a query string's
    form; ``str.isdigit`` would let ``'²'`` through)."""
    def check(value: Any) -> Any:
        if text and isinstance(value, str) and value.isascii() and value.isdigit():
            digits = value.lstrip("0") or "0"
            value = int(digits) if len(digits) <= len(str(high)) else high + 1
        elif isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"must be a whole number from {low} to {high}")
        return value

    return check


def _digits_up_to(high: int) -> str:
    """A pattern for the ASCII digits of 1 to ``high`` (leading zeros allowed).

    >>> _digits_up_to(100)
    '^0*(?:[1-9][0-9]{0,1}|100)$'
    """
    if str(high).strip("0") == "1":  # a power of ten
        return f"^0*(?:[1-9][0-9]{{0,{len(str(high)) - 2}}}|{high})$"
    return "^0*(?:" + "|".join(str(n) for n in range(high, 0, -1)) + ")$"


# How many results to list: the same bounds for every request (graphsvc.requests).
# In a query string (``SuggestionsQuery``) the number is text, as OpenAPI's
# integer parameter means; in a JSON body (``MatchRequest``) it is a number, or
# its digits as text, which is what the CLI's --limit hands over.
# (The bounds come before the validator so the JSON schema shows them as minimum/maximum.)
QueryLimit = Annotated[int, Field(ge=LIMIT_MIN, le=LIMIT_MAX),
                       BeforeValidator(_whole_number(LIMIT_MIN, LIMIT_MAX, text=True))]
BodyLimit = Annotated[int, BeforeValidator(_whole_number(LIMIT_MIN, LIMIT_MAX, text=True)), WithJsonSchema(
    {"anyOf": [{"type": "integer", "minimum": LIMIT_MIN, "maximum": LIMIT_MAX},
               {"type": "string", "pattern": _digits_up_to(LIMIT_MAX)}]})]


# -- requests: friendlier than the import (any case, spaces around, "," between needs) --
#
# Each field's JSON schema says exactly what its validator accepts (a test
# runs schemathesis against the API to hold them together): the leniency is
# spelled out as patterns, built from the same pieces as the validators.

# What a request trims around a value: JSON's whitespace, exactly (str.strip()
# would also take Unicode spaces the schema's patterns do not name).
REQUEST_SPACE = " \t\n\r"
_SP = "[ \\t\\n\\r]*"
_ANY_CASE_SLUG = SLUG_PATTERN.removeprefix("^").removesuffix("$").replace("a-z", "A-Za-z")
# One item of needs: slugs in any case separated by ; or , with spaces around; blank parts are skipped.
_NEEDS_ITEM = f"^{_SP}(?:{_ANY_CASE_SLUG}{_SP})?(?:[;,]{_SP}(?:{_ANY_CASE_SLUG}{_SP})?)*$"


def _any_case(words) -> str:
    """A pattern matching any of ``words`` in any ASCII case, trimmed; blank (meaning none) too."""
    alternatives = "|".join("".join(f"[{c.upper()}{c}]" if c.isalpha() else re.escape(c) for c in w)
                            for w in words)
    return f"^{_SP}(?:(?:{alternatives}){_SP})?$"


def _lower(value: str) -> str:
    # ASCII only: str.lower() maps the Kelvin sign to "k", which the schema's [Kk] does not match.
    return value.lower() if value.isascii() else value


def _request_word(value: Any) -> Any:
    """A word a person typed: trimmed and lowercased; blank means none."""
    if isinstance(value, str):
        return _lower(value.strip(REQUEST_SPACE)) or None
    return value


def _request_id(value: Any) -> Any:
    """An id a person typed: trimmed (ids keep their case); blank means none."""
    if isinstance(value, str):
        return value.strip(REQUEST_SPACE) or None
    return value


def _request_list(value: Any) -> Any:
    """Needs as typed: a list or text, split on ``;`` or ``,``, trimmed, lowercased,
    each once (a need typed twice asks for nothing more)."""
    if isinstance(value, str):
        value = [value]
    if isinstance(value, (list, tuple)):  # a tuple from Python callers; JSON has only lists
        out = []
        for item in value:
            if isinstance(item, str):
                out += [_lower(p.strip(REQUEST_SPACE)) for p in re.split(r"[;,]", item) if p.strip(REQUEST_SPACE)]
            else:
                out.append(item)
        return list(dict.fromkeys(out)) if all(isinstance(x, str) for x in out) else out
    return value


def _request_slug(value: str) -> str:
    if not re.fullmatch(SLUG_PATTERN, value):
        raise ValueError(f"{PATTERN_RULES[SLUG_PATTERN]}, and lists are separated by ; or ,")
    return value


def _word_schema(words) -> dict:
    return {"anyOf": [{"type": "string", "pattern": _any_case(words)}, {"type": "null"}]}


RequestWord = BeforeValidator(_request_word)
# A list in a request: each item a slug, the message saying how lists are separated.
RequestSlugs = Annotated[
    list[Annotated[str, AfterValidator(_request_slug)]], BeforeValidator(_request_list),
    WithJsonSchema({"anyOf": [{"type": "array", "items": {"type": "string", "pattern": _NEEDS_ITEM}},
                              {"type": "string", "pattern": _NEEDS_ITEM}]})]
_NON_BLANK = {"type": "string", "pattern": "[A-Za-z0-9]"}


class MatchRequest(Record):
    """A new client to match (``graphsvc match``, ``POST /api/match``).

    At least one of ``needs``, ``population`` or ``insurance`` is required.
    Population and accepting new clients are hard constraints; needs,
    insurance and schedule are scored. Needs, population, insurance and
    schedule are taken in any case, trimmed; needs may be a list or text
    separated by ``;`` or ``,`` ("adhd, anxiety"); a blank value means none.
    """

    # Only requests are this lenient: the CSV import (``Client`` and the rest)
    # stays strict, lowercase slugs and ``;``-separated lists. Trimming is the
    # validators' (REQUEST_SPACE), not pydantic's; the schema's anyOf is the
    # "at least one of" rule (_something_to_match) in JSON Schema.
    model_config = ConfigDict(str_strip_whitespace=False, json_schema_extra={"anyOf": [
        {"required": ["needs"], "properties": {"needs": {"anyOf": [
            {"type": "array", "contains": _NON_BLANK}, _NON_BLANK]}}},
        {"required": ["population"], "properties": {"population": _NON_BLANK}},
        {"required": ["insurance"], "properties": {"insurance": _NON_BLANK}},
    ]})

    needs: RequestSlugs = Field([], description="Specialties the client needs: a list, or text separated by ; "
                                                "or , (any case).")
    population: Annotated[Population | None, RequestWord, WithJsonSchema(_word_schema(POPULATIONS))] = None
    insurance: Annotated[Slug | None, RequestWord, WithJsonSchema({"anyOf": [
        {"type": "string", "pattern": f"^{_SP}(?:{_ANY_CASE_SLUG}{_SP})?$"}, {"type": "null"}]})] = None
    schedule: Annotated[Slot | None, RequestWord, WithJsonSchema(_word_schema(SCHEDULE_SLOTS))] = Field(
        None, description="The slot the client wants; none for no preference.")
    addressed_to: Annotated[Id | None, BeforeValidator(_request_id), WithJsonSchema({"anyOf": [
        {"type": "string", "pattern": f"^{_SP}(?:{ID_PATTERN.removeprefix('^').removesuffix('$')}{_SP})?$"},
        {"type": "null"}]})] = Field(
        None, description="The clinician the referral names, to check for a better match; 'practice' or a staff "
                          "member (the intake coordinator) for the practice as a whole.")
    limit: BodyLimit = Field(MATCH_LIMIT, description="How many candidates to list.")

    @model_validator(mode="after")
    def _something_to_match(self):
        if not self.needs and self.population is None and self.insurance is None:
            raise ValueError(NOTHING_TO_MATCH)
        return self


class SuggestionsQuery(Record):
    """Options of ``graphsvc suggest`` and query parameters of ``GET /api/referrers/<id>/suggestions``."""

    limit: QueryLimit = Field(SUGGESTIONS_LIMIT, description="How many suggestions to list.")


# -- record kinds ---------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Kind:
    """One kind of stored record: its model, its key, and how people call it."""

    name: str
    model: type[Record]
    key: tuple[str, ...] = ("id",)

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(self.model.model_fields)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(n for n, f in self.model.model_fields.items() if f.is_required())

    @cached_property
    def row_type(self) -> type:
        """A compact tuple type for validated rows: an import holds millions of
        them, and a pydantic model costs about ten times the memory."""
        return namedtuple(self.model.__name__ + "Row", self.fields)

    def parse(self, **fields) -> Record:
        """Validate ``fields`` into a record; ``InvalidInput`` names each bad field."""
        try:
            return self.model(**fields)
        except ValidationError as e:
            from .errors import InvalidInput

            raise InvalidInput(explain(e)) from None


# In write order: a record's references are written before the record.
KINDS: tuple[Kind, ...] = (
    Kind("clinician", Clinician),
    Kind("staff", Staff),
    Kind("external_provider", ExternalProvider),
    Kind("client", Client),
    Kind("referrer", Referrer),
    Kind("handoff", Handoff, key=("referrer_id", "date")),
    Kind("referral", Referral),
    Kind("introduction", Introduction),
    Kind("contact", Contact),
    Kind("referral_out", ReferralOut),
)
KIND = {k.name: k for k in KINDS}
