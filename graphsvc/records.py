"""The records graphsvc stores, validated field by field.

One pydantic model per kind of record. The same models check the Python
write API's arguments and every row of an import, so a value is accepted or
refused the same way on both paths. Lists arrive either as Python lists or as
``;``-separated text; dates as ``datetime.date`` or ISO ``YYYY-MM-DD`` text.

Clients are mental-health data: a ``Client`` holds a pseudonymous id and the
attributes used to match it to a clinician, never a name or contact detail.
"""


import re
from collections import namedtuple
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Annotated, Any, Literal, Optional

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from .requests import LIMIT_MAX, LIMIT_MIN, MATCH_LIMIT, NOTHING_TO_MATCH, SUGGESTIONS_LIMIT
from .vocabulary import (
    CONTACT_KINDS,
    PASS_REASONS,
    POPULATIONS,
    PRACTICE,
    REFERRER_KINDS,
    SCHEDULE_SLOTS,
    STAFF_ROLES,
)

# Ids and slugs are checked by pydantic-core's own regex engine rather than a
# Python validator: an import validates millions of them.
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$"
SLUG_PATTERN = r"^[a-z0-9][a-z0-9_]{0,63}$"
PATTERN_RULES = {
    ID_PATTERN: "must be 1-100 letters, digits or _ . : - starting with a letter or digit",
    SLUG_PATTERN: "must be a lowercase slug of letters, digits and _",
}
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _split_list(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.split(";") if part.strip()]
    return value


def _parse_date(value: Any) -> Any:
    if isinstance(value, str):
        if not _ISO_DATE.fullmatch(value):
            raise ValueError("must be a date in the form YYYY-MM-DD")
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError("is not a real calendar date") from None
    if hasattr(value, "to_native"):  # neo4j.time.Date
        return value.to_native()
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


Id = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN)]
Day = Annotated[date, BeforeValidator(_parse_date)]
Flag = Annotated[bool, BeforeValidator(_parse_bool)]
Name = Annotated[str, AfterValidator(lambda v: _nonblank(v))]
Population = Literal[POPULATIONS]  # type: ignore[valid-type]
Slot = Literal[SCHEDULE_SLOTS]  # type: ignore[valid-type]


def _list_of(item):
    return Annotated[list[item], BeforeValidator(_split_list), AfterValidator(_no_duplicates)]


def _optional(item):
    return Annotated[Optional[item], BeforeValidator(_empty_to_none)]


def _nonblank(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("must not be empty")
    return value


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
    organization: str = ""
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
        else:
            msg = e["msg"]
        if field is None and ": " in msg:  # a model-level rule that names its field
            field, msg = msg.split(": ", 1)
        show = "" if kind in ("missing", "extra_forbidden") or isinstance(given, (dict, BaseModel)) else f" (got {given!r})"
        out.append(f"field {field!r}: {msg}{show}" if field else f"{msg}{show}")
    return out


def _whole_number(low: int, high: int):
    def check(value: Any) -> Any:
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"must be a whole number from {low} to {high}")
        return value

    return check


# How many results to list: the same bounds for every request (graphsvc.requests).
# (The bounds come before the validator so the JSON schema shows them as minimum/maximum.)
Limit = Annotated[int, Field(ge=LIMIT_MIN, le=LIMIT_MAX), BeforeValidator(_whole_number(LIMIT_MIN, LIMIT_MAX))]


# -- requests: friendlier than the import (any case, spaces around, "," between needs) --


def _request_word(value: Any) -> Any:
    """A word a person typed: trimmed and lowercased; empty means none."""
    if isinstance(value, str):
        return value.strip().lower() or None
    return value


def _request_list(value: Any) -> Any:
    """Needs as typed: a list or text, split on ``;`` or ``,``, trimmed, lowercased,
    each once (a need typed twice asks for nothing more)."""
    if isinstance(value, str):
        value = [value]
    if isinstance(value, (list, tuple)):
        out = []
        for item in value:
            if isinstance(item, str):
                out += [part.strip().lower() for part in re.split(r"[;,]", item) if part.strip()]
            else:
                out.append(item)
        return list(dict.fromkeys(out)) if all(isinstance(x, str) for x in out) else out
    return value


def _request_slug(value: str) -> str:
    if not re.fullmatch(SLUG_PATTERN, value):
        raise ValueError(f"{PATTERN_RULES[SLUG_PATTERN]}, and lists are separated by ; or ,")
    return value


RequestWord = BeforeValidator(_request_word)
# A list in a request: each item a slug, the message saying how lists are separated.
RequestSlugs = Annotated[list[Annotated[str, AfterValidator(_request_slug)]], BeforeValidator(_request_list)]


class MatchRequest(Record):
    """A new client to match (``graphsvc match``, ``POST /api/match``).

    At least one of ``needs``, ``population`` or ``insurance`` is required.
    Population and accepting new clients are hard constraints; needs,
    insurance and schedule are scored. Needs, population, insurance and
    schedule are taken in any case, trimmed; needs may be a list or text
    separated by ``;`` or ``,`` ("adhd, anxiety").
    """

    # Only requests are this lenient: the CSV import (``Client`` and the rest)
    # stays strict, lowercase slugs and ``;``-separated lists.
    needs: RequestSlugs = Field([], description="Specialties the client needs: a list, or text separated by ; "
                                                "or , (any case).")
    population: Annotated[Optional[Population], RequestWord] = None
    insurance: Annotated[Optional[Slug], RequestWord] = None
    schedule: Annotated[Optional[Slot], RequestWord] = Field(
        None, description="The slot the client wants; none for no preference.")
    addressed_to: _optional(Id) = Field(
        None, description="The clinician the referral names, to check for a better match; 'practice' or a staff "
                          "member (the intake coordinator) for the practice as a whole.")
    limit: Limit = Field(MATCH_LIMIT, description="How many candidates to list.")

    @model_validator(mode="after")
    def _something_to_match(self):
        if not self.needs and self.population is None and self.insurance is None:
            raise ValueError(NOTHING_TO_MATCH)
        return self


class SuggestionsQuery(Record):
    """Options of ``graphsvc suggest`` and query parameters of ``GET /api/referrers/<id>/suggestions``."""

    limit: Limit = Field(SUGGESTIONS_LIMIT, description="How many suggestions to list.")


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
