"""User input to the analysis, one parsing path for the CLI and the JSON API.

``graphsvc match`` and ``POST /api/match`` parse their input with
``graphsvc.records.MatchRequest``; ``graphsvc suggest`` and
``GET /api/referrers/<id>/suggestions`` with ``graphsvc.records.SuggestionsQuery``.
Both go through ``parse``, so a value is accepted or refused the same way, with
the same message naming its field, on either path; the OpenAPI document
describes the same models (``model_json_schema``). A request is read the
way a person types it (any case, spaces around, needs separated by ``;`` or
``,``); the CSV import's models stay strict.

The limits live here, and this module imports nothing heavy (no pydantic), so
the CLI can name them in its help text without slowing every command down.
"""

from __future__ import annotations

from collections.abc import Mapping

# How many results a caller may ask for (``limit``), and the defaults.
LIMIT_MIN, LIMIT_MAX = 1, 100
SUGGESTIONS_LIMIT = 5
MATCH_LIMIT = 3

# A match needs at least one of needs, population or insurance; schedule alone is not enough.
NOTHING_TO_MATCH = "nothing to match on; give at least one of needs, population or insurance"


def parse(model, data: Mapping):
    """Validate user input ``data`` into ``model``; ``InvalidInput`` names each bad field.

    >>> from graphsvc.records import SuggestionsQuery
    >>> parse(SuggestionsQuery, {"limit": "7"}).limit
    7
    >>> parse(SuggestionsQuery, {"limit": "0"})
    Traceback (most recent call last):
    ...
    graphsvc.errors.InvalidInput: field 'limit': must be a whole number from 1 to 100 (got '0')
    """
    from pydantic import ValidationError

    from .errors import InvalidInput
    from .records import explain

    if not isinstance(data, Mapping):
        raise InvalidInput(f"expected an object with the fields {', '.join(model.model_fields)}")
    try:
        return model.model_validate(dict(data))
    except ValidationError as e:
        raise InvalidInput(explain(e)) from None


# A message echoes at most about this many characters of a value someone sent
# (a 16 MB field must not come back as a 32 MB error). The same cut as
# ``graphsvc.records.shown``, which ``explain`` uses; this one is here for the
# web modules, without importing pydantic.
SHOWN = 80


def shown(value) -> str:
    """``repr(value)`` for a message, cut to about ``SHOWN`` characters with "…".

    Every message that quotes what a user sent (a CSV cell, a query
    parameter, a JSON field) goes through this, so a 100 KB value is never
    echoed back whole.

    >>> shown("adhd")
    "'adhd'"
    >>> shown("x" * 1000) == "'" + "x" * 80 + "…'"
    True
    """
    if isinstance(value, str):
        if len(value) <= SHOWN:
            return repr(value)
        text = repr(value[:SHOWN])
        return text[:SHOWN + 1] + "…" + text[0]
    text = repr(value)
    return text if len(text) <= SHOWN else text[:SHOWN] + "…"


def given(**options) -> dict:
    """The options a caller actually gave (not None), so the model's defaults apply.

    >>> given(limit=None, needs="adhd")
    {'needs': 'adhd'}
    """
    return {k: v for k, v in options.items() if v is not None}


def limit_help(what: str, default: int) -> str:
    """The help text of a ``--limit`` option, naming the shared bounds.

    >>> limit_help("suggestions", SUGGESTIONS_LIMIT)
    'How many suggestions to list, 1 to 100 (default 5).'
    """
    return f"How many {what} to list, {LIMIT_MIN} to {LIMIT_MAX} (default {default})."
