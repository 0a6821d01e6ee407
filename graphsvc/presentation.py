"""How graphsvc words things for people: one place for the CLI and the web.

Stage names, percentages, plural nouns and the readable form of a
vocabulary slug ("adhd" -> "ADHD", "school_counselor" -> "school counselor").
"""

from __future__ import annotations

STAGE_NAMES = {0: "new", 1: "point person", 2: "trying colleagues", 3: "whole practice"}

# Slugs whose readable form is not just the words with spaces.
_SPECIAL = {"adhd": "ADHD", "ocd": "OCD", "ptsd": "PTSD", "bcbs": "BCBS", "medicaid": "Medicaid",
            "medicare": "Medicare", "tricare": "Tricare", "aetna": "Aetna", "cigna": "Cigna",
            "united": "United"}

# Nouns whose plural is not the noun + "s".
_PLURALS = {"clergy": "clergy", "staff": "staff", "other": "other referrers", "child": "children",
            "family": "families", "referral out": "referrals out", "person": "people"}


def words(slug: str) -> str:
    """A vocabulary slug as words: ``"weekday_evening"`` -> ``"weekday evening"``.

    >>> words("adhd"), words("older_adult"), words("school_counselor")
    ('ADHD', 'older adult', 'school counselor')
    """
    if slug in _SPECIAL:
        return _SPECIAL[slug]
    return " ".join(_SPECIAL.get(part, part) for part in slug.split("_"))


def plural(noun: str) -> str:
    """The plural of a noun or a referrer kind in words.

    >>> plural("clergy"), plural("physician"), plural("other"), plural("attorney")
    ('clergy', 'physicians', 'other referrers', 'attorneys')
    """
    noun = words(noun)
    if noun in _PLURALS:
        return _PLURALS[noun]
    if noun.endswith(("s", "sh", "ch", "x")):
        return noun + "es"
    if noun.endswith("y") and noun[-2:-1] not in "aeiou":
        return noun[:-1] + "ies"
    return noun + "s"


def count_of(n: int, noun: str) -> str:
    """``n`` and the noun, singular or plural: ``"1 referral"``, ``"25 clergy"``.

    >>> count_of(1, "introduction"), count_of(3, "introduction"), count_of(16, "other")
    ('1 introduction', '3 introductions', '16 other referrers')
    """
    if n == 1:
        singular = words(noun)
        return f"1 {'other referrer' if singular == 'other' else singular}"
    return f"{n:,} {plural(noun)}"


def verb(n: int, singular: str, plural_form: str) -> str:
    """The verb form agreeing with ``n``: ``verb(1, "refers", "refer")``."""
    return singular if n == 1 else plural_form


def pct(x, places: int = 0) -> str:
    """A share 0..1 as a percentage, or a dash when there is none.

    >>> pct(0.256), pct(None), pct(0.5, 1)
    ('26%', '—', '50.0%')
    """
    return "—" if x is None else f"{x:.{places}%}"


def stage_label(stage: int | None) -> str:
    """``"2 · trying colleagues"``, or a dash when unknown."""
    return "—" if stage is None else f"{stage} · {STAGE_NAMES[stage]}"
