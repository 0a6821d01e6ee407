"""The records graphsvc stores, validated field by field.

One pydantic model per kind of record. The same models check every write of
the service (``graphsvc.inputs`` builds the forms' and the API's requests on
them) and every row of an import, so a value is accepted or
refused the same way on every path. Lists arrive either as Python lists or as
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
    StringConstraints,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from .errors import InvalidInput
from .limits import (
    ID_MAX,
    ID_PATTERN,
    NOTE_MAX,
    PATTERN_RULES,
    SLUG_MAX,
    SLUG_PATTERN,
    TEXT_MAX,
    npi_problem,
    one_line_problem,
    shown,
)
from .vocabularies import NAMES as VOCABULARY_NAMES
from .vocabulary import (
    CONSENT,
    PASS_REASONS,
    PRACTICE,
    RECORDED_STATUSES,
    STAFF_ROLES,
    TASK_STATUSES,
    WORKLIST_NAMES,
)

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
TEXT_FIELDS = frozenset({"name", "organization", "note"})
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


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
    elif isinstance(value, datetime) and value.time() == time.min and value.tzinfo is None:
        value = value.date()  # as pydantic would take it
    if type(value) is date:  # one check here, not another validator: an import has millions
        told, bound = _past_bound
        if value >= bound or told is not today:
            _not_future(value)
    return value


def _parse_any_date(value: Any) -> Any:
    """A date, past or future (a snooze's end)."""
    if isinstance(value, str):
        if not _ISO_DATE.fullmatch(value):
            raise ValueError("must be a date in the form YYYY-MM-DD")
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError("is not a real calendar date") from None
    if isinstance(value, datetime) and value.time() == time.min and value.tzinfo is None:
        return value.date()
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


def no_duplicates(values: list) -> list:
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
    problem = one_line_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _nonblank(value: str) -> str:
    value = _one_line(value.strip())
    if not value:
        raise ValueError("must not be empty")
    return value


def _npi(value: str) -> str:
    """An NPI: ten digits, the last its check digit (``limits.npi_problem``, the one check)."""
    problem = npi_problem(value)
    if problem:
        raise PydanticCustomError("not_npi", problem)
    return value


Id = Annotated[str, StringConstraints(max_length=ID_MAX, pattern=ID_PATTERN)]
# A National Provider Identifier (clinicians, staff members, referrers); the message names the value.
Npi = Annotated[str, AfterValidator(_npi)]
Slug = Annotated[str, StringConstraints(max_length=SLUG_MAX, pattern=SLUG_PATTERN)]
Day = Annotated[date, BeforeValidator(_parse_date)]
AnyDay = Annotated[date, BeforeValidator(_parse_any_date)]  # may be in the future
Flag = Annotated[bool, BeforeValidator(_parse_bool)]
Name = Annotated[str, StringConstraints(max_length=TEXT_MAX), AfterValidator(_nonblank)]
Text = Annotated[str, StringConstraints(max_length=TEXT_MAX), AfterValidator(_one_line)]  # may be empty
Note = Annotated[str, StringConstraints(max_length=NOTE_MAX), AfterValidator(_one_line)]  # may be empty
# Words from the practice's vocabularies (``graphsvc.vocabularies``): the shape is checked here, the word
# against the vocabulary with the other rules (``graphsvc.checks``), since managers add words.
Population = Slug
Slot = Slug
Word = Slug


def _list_of(item):
    return Annotated[list[item], BeforeValidator(_split_list), AfterValidator(no_duplicates)]


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
    npi: _optional(Npi) = None


class Staff(Record):
    id: Id
    name: Name
    role: Literal[STAFF_ROLES]  # type: ignore[valid-type]
    npi: _optional(Npi) = None


class Referrer(Record):
    id: Id
    name: Name
    kind: Word
    organization: Text = ""
    point_person_id: Id
    since: Day
    npi: _optional(Npi) = None


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


class MergedReferrer(Record):
    """A referrer's record merged into another record of the same person (``into``): its id stays taken and
    leads to the one kept (``Service.merge_referrers``)."""

    id: Id
    name: Name
    into: Id
    merged_on: Day


def _voided(record):
    """A void reason only with the day it was voided (a voided record says why)."""
    if record.void_reason and record.voided_on is None:
        raise ValueError("void_reason: given, but voided_on is not")
    if record.voided_on is not None and not record.void_reason:
        raise ValueError("void_reason: a voided record says why")
    return record


class Referral(Record):
    id: Id
    date: Day
    referrer_id: Id
    client_id: Id
    addressed_to: Id
    assigned_to: Id
    pass_reason: _optional(Literal[PASS_REASONS]) = None  # type: ignore[valid-type]
    # Whether the client agreed that the referrer be told how the referral went (the referrer's update).
    consent_to_update: Annotated[Literal[CONSENT],  # type: ignore[valid-type]
                                 BeforeValidator(lambda v: v or "unknown")] = "unknown"
    # Voided (withdrawn by a manager, with a reason): kept, out of the analysis and every list.
    voided_on: _optional(Day) = None
    void_reason: _optional(Text) = None

    @model_validator(mode="after")
    def _pass_needs_a_clinician(self):
        _voided(self)
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
    # Voided (withdrawn by a manager, with a reason): kept, out of the analysis and every list.
    voided_on: _optional(Day) = None
    void_reason: _optional(Text) = None

    @model_validator(mode="after")
    def _not_self(self):
        _voided(self)
        if self.introduced_id == self.by_id:
            raise ValueError("introduced_id: a member cannot introduce themself")
        return self


class Contact(Record):
    id: Id
    date: Day
    referrer_id: Id
    member_id: Id
    kind: Word
    # An update_sent contact: the referrals whose status it told the referrer (their loops it closes).
    covers: _list_of(Id) = []
    # Voided (withdrawn by a manager, with a reason): kept, out of the analysis and every list.
    voided_on: _optional(Day) = None
    void_reason: _optional(Text) = None

    @model_validator(mode="after")
    def _covers_only_an_update(self):
        _voided(self)
        if self.kind == "update_sent" and not self.covers:
            raise ValueError("covers: an update_sent contact names the referrals it covered")
        if self.kind != "update_sent" and self.covers:
            raise ValueError(f"covers: only an update_sent contact covers referrals (this one is {self.kind})")
        return self


class Term(Record):
    """A word a manager added to one of the practice's vocabularies (``graphsvc.vocabularies``)."""

    vocabulary: Literal[VOCABULARY_NAMES]  # type: ignore[valid-type]
    value: Slug


class ReferralStatus(Record):
    """Where a referral stood from a day on (``rules.status_problem``: forward, each status once)."""

    referral_id: Id
    status: Literal[RECORDED_STATUSES]  # type: ignore[valid-type]
    date: Day


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
    # Voided (withdrawn by a manager, with a reason): kept, out of the analysis and every list.
    voided_on: _optional(Day) = None
    void_reason: _optional(Text) = None

    @model_validator(mode="after")
    def _reason_with_a_day(self):
        return _voided(self)


class Task(Record):
    """The work done on one worklist row (``graphsvc.analysis.worklists``: the row's stable ``id``).

    Only rows someone acted on have a task. ``status`` ``open`` (assigned
    and/or snoozed until ``snoozed_until``), ``done`` (on ``done_on``, with
    an outcome ``note``), or ``closed`` (its reason disappeared first).
    ``referral_id`` names the referral of a per-referral row (follow-up).
    """

    id: Id
    worklist: Literal[WORKLIST_NAMES]  # type: ignore[valid-type]
    referrer_id: Id
    referral_id: _optional(Id) = None
    status: Literal[TASK_STATUSES] = "open"  # type: ignore[valid-type]
    assigned_to: _optional(Id) = None
    snoozed_until: _optional(AnyDay) = None
    note: Note = ""
    done_on: _optional(Day) = None

    @model_validator(mode="after")
    def _done_has_a_day(self):
        if self.status == "done" and self.done_on is None:
            raise ValueError("done_on: is required when status is done")
        if self.status != "done" and self.done_on is not None:
            raise ValueError(f"done_on: given, but status is {self.status}")
        return self


# A model-level rule's message naming its field first: "pass_reason: given, but ...".
_NAMED = re.compile(r"([a-z_]+): ")
# What a value of the wrong JSON type should have been, in words.
TYPE_WORDS = {"string_type": "text", "list_type": "a list", "dict_type": "an object", "model_type": "an object",
              "model_attributes_type": "an object", "int_type": "a whole number"}


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
        elif kind in TYPE_WORDS:
            msg = f"must be {TYPE_WORDS[kind]}"
        elif kind == "string_too_long" and field and isinstance(given, str):
            # In plain words, and without the value: it is the long thing.
            items = [p for p in e["loc"] if isinstance(p, int)]
            what = f"field {shown(field)}" + (f" item {items[-1] + 1}" if items else "")
            out.append(f"{what} is {len(given):,} characters; the limit is {e['ctx']['max_length']:,}")
            continue
        elif kind in ("date_in_future", "not_npi"):  # the message names the value
            out.append(f"field {shown(field)}: {e['msg']}" if field else e["msg"])
            continue
        else:
            msg = e["msg"]
        named = _NAMED.match(msg) if isinstance(given, (dict, BaseModel)) or field is None else None
        if named:  # a model-level rule that names its field (within the model at ``field``, if any)
            field = f"{field}.{named.group(1)}" if field else named.group(1)
            msg = msg[named.end():]
        show = ("" if kind in ("missing", "extra_forbidden", "empty") or isinstance(given, (dict, BaseModel))
                else f" (got {shown(given)})")
        out.append(f"field {shown(field)}: {msg}{show}" if field else f"{msg}{show}")
    return out


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
            raise InvalidInput(explain(e)) from None


# The kinds of record that may carry an NPI (``npi``): one NPI belongs to one party (``graphsvc.checks``).
NPI_KINDS = ("clinician", "staff", "referrer")

# In write order: a record's references are written before the record.
KINDS: tuple[Kind, ...] = (
    Kind("term", Term, key=("vocabulary", "value")),  # first: the words the records after it may use
    Kind("clinician", Clinician),
    Kind("staff", Staff),
    Kind("external_provider", ExternalProvider),
    Kind("client", Client),
    Kind("referrer", Referrer),
    Kind("merged_referrer", MergedReferrer),  # after the referrers: each names the one it went into
    Kind("handoff", Handoff, key=("referrer_id", "date")),
    Kind("referral", Referral),
    Kind("referral_status", ReferralStatus, key=("referral_id", "status")),
    Kind("introduction", Introduction),
    Kind("contact", Contact),
    Kind("referral_out", ReferralOut),
    Kind("task", Task),
)
KIND = {k.name: k for k in KINDS}
