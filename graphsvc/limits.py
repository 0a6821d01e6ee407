"""The limits and patterns every path shares, written once: ids, slugs, free text, list sizes, echoes.

The record models (``graphsvc.records``), the request models
(``graphsvc.inputs``), the accounts (``graphsvc.accounts``) and the JSON
API's schema all take their rules from here, so a value is accepted or
refused the same way on every path, and whatever is saved can be exported
and imported again. This module imports nothing of graphsvc and nothing
heavy (no pydantic), so the CLI can name the limits in its help text without
slowing every command down.
"""

from __future__ import annotations

import re
import unicodedata

# The longest value of each kind of field, in characters.
ID_MAX = 64
SLUG_MAX = 64
TEXT_MAX = 200  # names and organisations
NOTE_MAX = 1000  # a worklist task's outcome note
SNOOZE_MAX_DAYS = 366  # how far ahead a worklist row may be snoozed

# Ids and slugs, as anchored patterns (pydantic-core's regex engine checks them: an import has millions).
ID_PATTERN = rf"^[A-Za-z0-9][A-Za-z0-9_.:-]{{0,{ID_MAX - 1}}}$"
SLUG_PATTERN = rf"^[a-z0-9][a-z0-9_]{{0,{SLUG_MAX - 1}}}$"
ID_RE = re.compile(ID_PATTERN)
SLUG_RE = re.compile(SLUG_PATTERN)
# What each pattern means, in the words a refusal uses.
PATTERN_RULES = {
    ID_PATTERN: f"must be 1-{ID_MAX} letters, digits or _ . : - starting with a letter or digit",
    SLUG_PATTERN: "must be a lowercase slug of letters, digits and _",
}

# Characters free text may not hold: C0 and C1 controls (NUL, tab, line breaks, escape, ...), DEL and the
# Unicode line and paragraph separators (a name is one line of printable text). As a character class's
# inside, so that a JSON schema's pattern and Python's regex say the same; lone surrogates (which cannot be
# stored, and which no JSON text a schema engine reads holds) are refused by Python alone.
# Bidi controls and invisible formatting characters are refused too: a U+202E in a referrer's name makes
# "Dr. Hale" display as something else on every page and CSV, and zero-width characters make two names
# that look the same differ (duplicates a search or a merge can no longer find). Blank letters count too:
# the combining grapheme joiner, the Hangul fillers and the blank braille pattern show nothing. Only U+200C
# and U+200D (zero-width non-joiner and joiner) stay allowed, between characters: Persian and Indic names
# and emoji need them; at either end they join nothing.
INVISIBLE_CHARS = (r"\xad\u034f\u061c\u115f\u1160\u180e\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064"
                   r"\u2066-\u206f\u2800\u3164\ufeff\uffa0\ufff9-\ufffb")
JOINERS = "\u200c\u200d"
CONTROL_CHARS = r"\x00-\x1f\x7f-\x9f\u2028\u2029" + INVISIBLE_CHARS
# Tag characters (U+E0000-U+E007F, invisible) live beyond the BMP, where a JSON schema's pattern and
# Python's regex disagree, so Python alone refuses them, with lone surrogates.
CONTROL = re.compile(f"[{CONTROL_CHARS}\\ud800-\\udfff\\U000e0000-\\U000e007f]")
_INVISIBLE = re.compile(f"[{INVISIBLE_CHARS}\\U000e0000-\\U000e007f]")
# The spaces a value may not start or end with: Python's and ECMAScript's whitespace both, spelled out so
# that both regex engines read a pattern alike.
SPACES = (" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
          "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff")
_EDGE_SPACE = r" \xa0\u1680\u2000-\u200a\u202f\u205f\u3000\ufeff"  # those not among the controls
# One line of text with nothing blank around it, as a JSON schema pattern: a name (at least one
# character) or an organization (may be empty).
NAME_PATTERN = rf"^[^{_EDGE_SPACE}{CONTROL_CHARS}](?:[^{CONTROL_CHARS}]*[^{_EDGE_SPACE}{CONTROL_CHARS}])?$"
TEXT_PATTERN = rf"^(?:[^{_EDGE_SPACE}{CONTROL_CHARS}](?:[^{CONTROL_CHARS}]*[^{_EDGE_SPACE}{CONTROL_CHARS}])?)?$"

# A National Provider Identifier (US, CMS): exactly 10 ASCII digits, the last a check digit (Luhn over the
# prefix 80840 and the first 9 digits). Optional on clinicians, staff members and referrers.
NPI_LENGTH = 10
NPI_PATTERN = rf"^[0-9]{{{NPI_LENGTH}}}$"
NPI_RE = re.compile(NPI_PATTERN)
NPI_PREFIX = "80840"  # the card issuer prefix the check digit is computed over, with the first 9 digits

# How many results a caller may ask for (``limit``), and the defaults.
LIMIT_MIN, LIMIT_MAX = 1, 100
SUGGESTIONS_LIMIT = 5
MATCH_LIMIT = 3

# A match needs at least one of needs, population or insurance; schedule alone is not enough.
NOTHING_TO_MATCH = "nothing to match on; give at least one of needs, population or insurance"

# A message echoes at most about this many characters of a value someone sent (a 16 MB field must not
# come back as a 32 MB error).
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


def one_line_problem(value: str) -> str | None:
    """Why ``value`` is not one line of printable text, or None.

    >>> one_line_problem("Dr. Hale"), one_line_problem("a\\nb")
    (None, 'must be one line of text without control characters; found U+000A at character 2')
    >>> one_line_problem("Dr. \\u202eelaH")
    'must not hold bidi or invisible formatting characters; found U+202E (RIGHT-TO-LEFT OVERRIDE) at character 5'
    >>> one_line_problem("\\u0645\\u06cc\\u200c\\u0634\\u0648\\u062f") is None  # Persian with a zero-width non-joiner
    True
    """
    bad = CONTROL.search(value)
    if bad is None:
        if value[:1] and value[0] in JOINERS:
            return (f"must not start with an invisible joiner; found U+{ord(value[0]):04X} "
                    f"({unicodedata.name(value[0])}) at character 1")
        if value[-1:] and value[-1] in JOINERS:
            return (f"must not end with an invisible joiner; found U+{ord(value[-1]):04X} "
                    f"({unicodedata.name(value[-1])}) at character {len(value)}")
        return None
    code = ord(bad.group())
    if _INVISIBLE.match(bad.group()):
        return (f"must not hold bidi or invisible formatting characters; found U+{code:04X} "
                f"({unicodedata.name(bad.group(), 'unnamed')}) at character {bad.start() + 1}")
    return f"must be one line of text without control characters; found U+{code:04X} at character {bad.start() + 1}"


def limit_help(what: str, default: int) -> str:
    """The help text of a ``--limit`` option, naming the shared bounds.

    >>> limit_help("suggestions", SUGGESTIONS_LIMIT)
    'How many suggestions to list, 1 to 100 (default 5).'
    """
    return f"How many {what} to list, {LIMIT_MIN} to {LIMIT_MAX} (default {default})."


def npi_check_digit(first_nine: str) -> int:
    """The check digit of an NPI whose first 9 digits are ``first_nine`` (Luhn over ``80840`` + them).

    >>> npi_check_digit("123456789")
    3
    """
    total = 0
    for i, ch in enumerate(reversed(NPI_PREFIX + first_nine)):
        d = int(ch)
        if i % 2 == 0:  # the rightmost digit (next to the check digit) is doubled, then every other one
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return (10 - total % 10) % 10


def npi_problem(value: str) -> str | None:
    """Why ``value`` is not an NPI (ten ASCII digits, the last the check digit of the other nine), or None.

    The one check of an NPI: the record models (``graphsvc.records``), and so every path that writes,
    use it.

    >>> npi_problem("1234567893") is None
    True
    >>> npi_problem("1234567890")
    "'1234567890' is not an NPI: its check digit should be 3"
    >>> npi_problem("123456789")
    "'123456789' is not an NPI: an NPI is exactly 10 digits (this has 9 characters)"
    >>> npi_problem("12345678AB")
    "'12345678AB' is not an NPI: an NPI is exactly 10 digits 0-9 (found 'A' at character 9)"
    """
    if len(value) != NPI_LENGTH:
        return (f"{shown(value)} is not an NPI: an NPI is exactly {NPI_LENGTH} digits "
                f"(this has {len(value):,} characters)")
    if not NPI_RE.match(value):
        at = next(i for i, ch in enumerate(value) if ch not in "0123456789")
        return (f"{shown(value)} is not an NPI: an NPI is exactly {NPI_LENGTH} digits 0-9 "
                f"(found {value[at]!r} at character {at + 1})")
    expected = npi_check_digit(value[:9])
    if int(value[9]) != expected:
        return f"{shown(value)} is not an NPI: its check digit should be {expected}"
    return None
