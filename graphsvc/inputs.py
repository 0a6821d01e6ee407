"""What people ask graphsvc for: one pydantic model per write, and the reads' requests.

**Writes.** Each write has one request model (``ReferralInput``,
``PassInput``, ``ClinicianInput``, ...), shared by its form
(``graphsvc.web.record``, which turns what was typed into these JSON types)
and its JSON API endpoint (``graphsvc.web.api_writes``); the OpenAPI
document's request bodies are these models' JSON schemas
(``Input.request_schema``), so the document cannot drift from what is taken.
A request is held to exactly its schema: JSON's own types (no text for a list
or a flag, no number for a date), nothing blank around a value, no ``""``
for "none" (leave the field out), no unknown field. What a request may leave
out, the service fills in (an id it makes, ``assigned_to``); what it says
about other records, the service checks (``graphsvc.checks``).

**Reads.** ``graphsvc match`` and ``POST /api/match`` take ``MatchRequest``;
``graphsvc suggest`` and ``GET /api/referrers/<id>/suggestions`` take
``SuggestionsQuery``. Both go through ``parse``, so a value is refused with
the same message naming its field on either path. They read a request the
way a person types it (any case, spaces around, needs separated by ``;`` or
``,``); the CSV import's models (``graphsvc.records``) stay strict.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    WithJsonSchema,
    create_model,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from .errors import InvalidInput
from .limits import (
    ID_PATTERN,
    LIMIT_MAX,
    LIMIT_MIN,
    MATCH_LIMIT,
    NAME_PATTERN,
    NOTHING_TO_MATCH,
    NPI_PATTERN,
    PATTERN_RULES,
    SLUG_PATTERN,
    SNOOZE_MAX_DAYS,
    SPACES,
    SUGGESTIONS_LIMIT,
    TEXT_PATTERN,
)
from .records import (
    AnyDay,
    Day,
    Id,
    Name,
    Note,
    Npi,
    Population,
    Record,
    Slot,
    Slug,
    Text,
    explain,
    no_duplicates,
    today,
)
from .vocabulary import (
    CONSENT,
    CONTACT_KINDS,
    PASS_REASONS,
    RECORDED_STATUSES,
    STAFF_ROLES,
    TASK_ACTIONS,
)


def parse(model, data: Mapping):
    """Validate user input ``data`` into ``model``; ``InvalidInput`` names each bad field.

    >>> parse(SuggestionsQuery, {"limit": "7"}).limit
    7
    >>> parse(SuggestionsQuery, {"limit": "0"})
    Traceback (most recent call last):
    ...
    graphsvc.errors.InvalidInput: field 'limit': must be a whole number from 1 to 100 (got '0')
    """
    if not isinstance(data, Mapping):
        raise InvalidInput(f"expected an object with the fields {', '.join(model.model_fields)}")
    try:
        return model.model_validate(dict(data))
    except ValidationError as e:
        raise InvalidInput(explain(e)) from None


def given(**options) -> dict:
    """The options a caller actually gave (not None), so the model's defaults apply.

    >>> given(limit=None, needs="adhd")
    {'needs': 'adhd'}
    """
    return {k: v for k, v in options.items() if v is not None}


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


def digits_up_to(high: int) -> str:
    """A pattern for the ASCII digits of 1 to ``high`` (leading zeros allowed).

    >>> digits_up_to(100)
    '^0*(?:[1-9][0-9]{0,1}|100)$'
    """
    if str(high).strip("0") == "1":  # a power of ten
        return f"^0*(?:[1-9][0-9]{{0,{len(str(high)) - 2}}}|{high})$"
    return "^0*(?:" + "|".join(str(n) for n in range(high, 0, -1)) + ")$"


# How many results to list: the same bounds for every request.
# In a query string (``SuggestionsQuery``) the number is text, as OpenAPI's
# integer parameter means; in a JSON body (``MatchRequest``) it is a number, or
# its digits as text, which is what the CLI's --limit hands over.
# (The bounds come before the validator so the JSON schema shows them as minimum/maximum.)
QueryLimit = Annotated[int, Field(ge=LIMIT_MIN, le=LIMIT_MAX),
                       BeforeValidator(_whole_number(LIMIT_MIN, LIMIT_MAX, text=True))]
BodyLimit = Annotated[int, BeforeValidator(_whole_number(LIMIT_MIN, LIMIT_MAX, text=True)), WithJsonSchema(
    {"anyOf": [{"type": "integer", "minimum": LIMIT_MIN, "maximum": LIMIT_MAX},
               {"type": "string", "pattern": digits_up_to(LIMIT_MAX)}]})]


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
# One word of a vocabulary as a person may type it: any case, trimmed; blank for none.
_ANY_WORD = {"anyOf": [{"type": "string", "pattern": f"^{_SP}(?:{_ANY_CASE_SLUG}{_SP})?$"}, {"type": "null"}]}


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
    population: Annotated[Population | None, RequestWord, WithJsonSchema(_ANY_WORD)] = None
    insurance: Annotated[Slug | None, RequestWord, WithJsonSchema(_ANY_WORD)] = None
    schedule: Annotated[Slot | None, RequestWord, WithJsonSchema(_ANY_WORD)] = Field(
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


# -- writes ---------------------------------------------------------------------------------------------


MAY_BE_EMPTY = frozenset({"organization"})  # fields where "" is a value, not "none"


def _exact_text(value: Any, info) -> Any:
    """A request's text as sent: nothing blank around it, and ``""`` only where the field may be empty."""
    if isinstance(value, str):
        if value == "" and info.field_name not in MAY_BE_EMPTY:
            raise PydanticCustomError("empty", "must not be empty (leave the field out for none)")
        if value != value.strip(SPACES):
            raise PydanticCustomError("spaces", "must not start or end with spaces")
    return value


# A list in a request: JSON's list, each item once.
Slugs = Annotated[list[Slug], AfterValidator(no_duplicates), Field(json_schema_extra={"uniqueItems": True})]
# Names and organizations: one line, nothing blank around (the schema says so too).
InputName = Annotated[Name, Field(json_schema_extra={"pattern": NAME_PATTERN})]
InputText = Annotated[Text, Field(json_schema_extra={"pattern": TEXT_PATTERN})]
# An NPI (``records.Npi``: ten digits, the last the check digit); the schema says the shape, the model the
# check digit too.
InputNpi = Annotated[Npi, Field(json_schema_extra={"pattern": NPI_PATTERN})]
_NPI_ABOUT = ("The National Provider Identifier: 10 digits, the last the check digit; one party's only. "
              "Leave out for none.")


class Input(BaseModel):
    """A write as a form or the JSON API asks for it: exact JSON types, nothing trimmed or guessed.

    A field that may be left out but is not nullable has the default None
    (``id``, ``client_id``, ...): leaving it out is the way to say "none".
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    @field_validator("*", mode="before")
    @classmethod
    def _exact(cls, value, info):
        return _exact_text(value, info)

    @classmethod
    def request_schema(cls) -> dict:
        """The JSON schema of the request body (OpenAPI 3.1 takes JSON Schema 2020-12 as it is): titles
        dropped, and a field that may be left out but not sent as null without its null default."""
        return _tidy(cls.model_json_schema())

    def given(self) -> dict:
        """The fields the request gave (not the ones left out as None)."""
        return {k: v for k, v in self.model_dump().items() if v is not None or k in self.model_fields_set}


def _tidy(schema: dict, defs: dict | None = None) -> dict:
    """A model's JSON schema without titles, with its ``$defs`` written in place (an OpenAPI document
    resolves a ``$ref`` from its own root), and without a null default where null is not allowed."""
    defs = schema.get("$defs", {}) if defs is None else defs
    if "$ref" in schema:
        inner = _tidy(defs[schema["$ref"].rsplit("/", 1)[-1]], defs)
        schema = {**inner, **{k: v for k, v in schema.items() if k != "$ref"}}
    schema = {k: v for k, v in schema.items() if k not in ("title", "$defs")}
    if "properties" in schema:
        props = {}
        for name, prop in schema["properties"].items():
            prop = _tidy(prop, defs)
            if prop.get("default", "") is None and not _nullable(prop):
                del prop["default"]
            props[name] = prop
        schema["properties"] = props
    for key in ("anyOf", "oneOf"):
        if key in schema:
            schema[key] = [_tidy(branch, defs) for branch in schema[key]]
    if isinstance(schema.get("items"), dict):
        schema["items"] = _tidy(schema["items"], defs)
    return schema


def _nullable(prop: dict) -> bool:
    return prop.get("type") == "null" or any(b.get("type") == "null" for b in prop.get("anyOf", ()))


_ID_LEFT_OUT = "Leave out for an id made by the service."


def _changes(model: type[Input]) -> type[Input]:
    """The same request without ``id``: a change of a stored record, whose id the path names."""
    fields = {name: (info.annotation, info) for name, info in model.model_fields.items() if name != "id"}
    changed = create_model(model.__name__.replace("Input", "Change"), __base__=Input, **fields)
    changed.__doc__ = f"Change a stored record: {model.__doc__[0].lower()}{model.__doc__[1:]}".replace(
        "Change a stored record: add ", "Change ")
    return changed


class ClientInput(Input):
    """Add a client: a pseudonymous id and the attributes it is matched on (never a name or a contact)."""

    id: Id = Field(None, description=_ID_LEFT_OUT)
    needs: Slugs = []
    population: Population | None = None
    insurance: Slug | None = None
    schedule: Slot | None = None


ClientChange = _changes(ClientInput)


class NewClient(ClientChange):
    """A referral's new client: its id is made by the service."""

    @model_validator(mode="before")
    @classmethod
    def _no_id(cls, value):
        if isinstance(value, dict) and "id" in value:
            raise PydanticCustomError("id_made", "id: is not a known field (a new client's id is generated)")
        return value


class ReferralInput(Input):
    """Record a referral: ``client_id`` names a stored client, or ``client`` describes a new one."""

    model_config = ConfigDict(json_schema_extra={"oneOf": [{"required": ["client_id"]}, {"required": ["client"]}]})

    id: Id = Field(None, description=_ID_LEFT_OUT)
    date: Day
    referrer_id: Id
    client_id: Id = Field(None, description="A stored client; or give client instead.")
    addressed_to: Id = Field(description="A member's id, or 'practice' for the practice as a whole.")
    assigned_to: Id = Field(None, description="The clinician who takes the case; defaults to addressed_to when "
                                              "that is a clinician.")
    pass_reason: Literal[PASS_REASONS] | None = None  # type: ignore[valid-type]
    consent_to_update: Literal[CONSENT] = Field(  # type: ignore[valid-type]
        None, description="Whether the client agreed that the referrer be told how the referral went "
                          "(the referrer's update); unknown when left out.")
    client: NewClient = Field(None, description="A new client (its id is made by the service), instead of "
                                                "client_id.")

    @model_validator(mode="after")
    def _one_client(self):
        if self.client_id is not None and self.client is not None:
            raise ValueError("client_id: give either client_id (a stored client) or client (a new client's needs, "
                             "population, insurance and schedule), not both")
        if self.client_id is None and self.client is None:
            raise ValueError("client_id: is required (or client: a new client's needs, population, insurance and "
                             "schedule)")
        return self


class IntroductionInput(Input):
    """Record that member ``by_id`` introduced colleague ``introduced_id`` to a referrer."""

    id: Id = Field(None, description=_ID_LEFT_OUT)
    date: Day
    referrer_id: Id
    introduced_id: Id
    by_id: Id  # not introduced_id: the record's rule (records.Introduction), checked by the service


# An update_sent contact is made by sending the referrer's update (``Service.send_update``), which names the
# referrals it covers; every other kind is recorded as it happened.
RECORDED_CONTACT_KINDS = tuple(k for k in CONTACT_KINDS if k != "update_sent")


def _recorded_kind(value: str) -> str:
    if value == "update_sent":
        raise ValueError("an update_sent contact is recorded by sending the referrer's update "
                         "(POST /api/referrers/<id>/update)")
    return value


class ContactInput(Input):
    """Record a contact (a lunch, a talk, a follow-up, ...) between a member and a referrer."""

    id: Id = Field(None, description=_ID_LEFT_OUT)
    date: Day
    referrer_id: Id
    member_id: Id
    kind: Annotated[Slug, AfterValidator(_recorded_kind)] = Field(
        description="A word of the contact_kinds vocabulary (GET /api/vocabularies/contact_kinds); not "
                    "update_sent, which sending the referrer's update records.")


class ReferralOutInput(Input):
    """Record a client referred out to an outside provider for one of its niches."""

    id: Id = Field(None, description=_ID_LEFT_OUT)
    date: Day
    referrer_id: Id
    client_id: Id
    provider_id: Id
    niche: Slug


class WordInput(Input):
    """Add a word to one of the practice's vocabularies (``graphsvc.vocabularies``)."""

    value: Slug = Field(description="The word as stored: lowercase letters, digits and _ (eating_disorders).")


class StatusInput(Input):
    """Record where a referral stands from a day on: forward along received, contacted, scheduled,
    first_visit, or an end (declined, no_show, referred_out) before a first visit; each status once."""

    status: Literal[RECORDED_STATUSES]  # type: ignore[valid-type]
    date: Day


class PassInput(Input):
    """Pass a referral to a better-matched colleague: the referral, the colleague, and why."""

    referral_id: Id
    to_clinician_id: Id
    reason: Literal[PASS_REASONS]  # type: ignore[valid-type]


class HandoffInput(Input):
    """Hand the point-person role for a referrer to another clinician, from a day on."""

    referrer_id: Id
    to_clinician_id: Id
    date: Day


class VoidInput(Input):
    """Void a mistaken record: why (kept with it, shown on the referrer's time line, audited)."""

    reason: InputName = Field(description="Why the record is voided, in a sentence (required).")


class MergeInput(Input):
    """Merge a referrer's record into another record of the same person (``into``: the one kept)."""

    into: Id = Field(description="The referrer kept: the merged one's referrals, introductions, contacts, "
                                 "referrals out and point-person history move to it.")


class ReferrerInput(Input):
    """Add a referrer (``point_person_id`` and ``since``: its first point person; a handoff changes it)."""

    id: Id = Field(None, description=_ID_LEFT_OUT)
    name: InputName
    kind: Slug = Field(description="A word of the referrer_kinds vocabulary (GET /api/vocabularies/referrer_kinds).")
    organization: InputText = ""
    point_person_id: Id
    since: Day
    npi: InputNpi = Field(None, description=_NPI_ABOUT)


class ClinicianInput(Input):
    """Add a clinician."""

    id: Id = Field(None, description=_ID_LEFT_OUT)
    name: InputName
    specialties: Slugs = []
    populations: Annotated[list[Population], AfterValidator(no_duplicates),
                           Field(json_schema_extra={"uniqueItems": True})] = []
    insurances: Slugs = []
    schedule: Annotated[list[Slot], AfterValidator(no_duplicates),
                        Field(json_schema_extra={"uniqueItems": True})] = []
    accepting_new: bool = True
    npi: InputNpi = Field(None, description=_NPI_ABOUT)


class StaffInput(Input):
    """Add a staff member."""

    id: Id = Field(None, description=_ID_LEFT_OUT)
    name: InputName
    role: Literal[STAFF_ROLES]  # type: ignore[valid-type]
    npi: InputNpi = Field(None, description=_NPI_ABOUT)


class ProviderInput(Input):
    """Add a trusted outside provider and the niches it covers."""

    id: Id = Field(None, description=_ID_LEFT_OUT)
    name: InputName
    niches: Slugs = []


# The fields each action on a worklist row takes (the others are refused, not ignored).
ROW_ACTION_FIELDS = {"assign": ("to",), "snooze": ("until",), "done": ("note",), "reopen": ()}
_ROW_ACTION_WORDS = {"assign": "assign a row", "snooze": "snooze a row", "done": "mark a row done",
                     "reopen": "reopen a row"}


def _one_of_the_actions(schema: dict) -> None:
    """The schema says which fields each action takes: one branch per action (what ``RowAction`` checks)."""
    schema["oneOf"] = [{"properties": {"action": {"const": action}},
                        "required": ["action", *fields],
                        "not": {"anyOf": [{"required": [other]} for other in ("to", "until", "note")
                                          if other not in fields]} if len(fields) < 3 else {}}
                       for action, fields in ROW_ACTION_FIELDS.items()]


class RowAction(Input):
    """Act on a worklist row: ``assign`` it to a member (``to``), ``snooze`` it until a day (``until``,
    after today), mark it ``done`` with an outcome ``note``, or ``reopen`` it (a done or snoozed row
    back on the list)."""

    model_config = ConfigDict(json_schema_extra=_one_of_the_actions)

    action: Literal[TASK_ACTIONS]  # type: ignore[valid-type]
    to: Id = Field(None, description="assign: the clinician or staff member who takes the row.")
    until: AnyDay = Field(None, description=f"snooze: the day the row comes back: after today, at most "
                                            f"{SNOOZE_MAX_DAYS} days ahead.")
    note: Annotated[Note, Field(json_schema_extra={"pattern": TEXT_PATTERN, "minLength": 1})] = Field(
        None, description="done: what came of it, in a line (no client's name or contact).")

    @model_validator(mode="after")
    def _fields_of_the_action(self):
        wanted = ROW_ACTION_FIELDS[self.action]
        for name in ("to", "until", "note"):
            value = getattr(self, name)
            if name in wanted and value is None:
                raise ValueError(f"{name}: is required to {_ROW_ACTION_WORDS[self.action]}")
            if name not in wanted and value is not None:
                raise ValueError(f"{name}: is not taken to {_ROW_ACTION_WORDS[self.action]} (that takes "
                                 f"{', '.join(wanted) or 'only the action'})")
        if self.until is not None:
            day = today()
            if self.until <= day:
                raise ValueError(f"until: must be after today ({day}); got {self.until}")
            if (self.until - day).days > SNOOZE_MAX_DAYS:
                raise ValueError(f"until: must be at most {SNOOZE_MAX_DAYS} days ahead; got {self.until}")
        return self


ReferrerChange = _changes(ReferrerInput)
ClinicianChange = _changes(ClinicianInput)
StaffChange = _changes(StaffInput)
ProviderChange = _changes(ProviderInput)

# The request models of each write, by the record kind it writes (a pass and a handoff by their own names).
ADD = {"referral": ReferralInput, "introduction": IntroductionInput, "contact": ContactInput,
       "referral_out": ReferralOutInput, "referrer": ReferrerInput, "clinician": ClinicianInput,
       "staff": StaffInput, "external_provider": ProviderInput, "client": ClientInput, "pass": PassInput,
       "handoff": HandoffInput, "referral_status": StatusInput}
CHANGE = {"referrer": ReferrerChange, "clinician": ClinicianChange, "staff": StaffChange,
          "external_provider": ProviderChange, "client": ClientChange}
