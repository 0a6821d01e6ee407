"""The vocabularies a manager keeps: which words a record's field may hold.

Needs (a clinician's specialties and a client's needs), populations,
insurances, schedules, referrer kinds, contact kinds and outside providers'
niches are lists the practice keeps (``/settings/vocabularies``, ``GET`` and
``POST /api/vocabularies/<name>``), so that a typo (``adhdd``, ``medicade``)
is refused with the closest known values instead of becoming a word the
matcher treats as known. A list is its built-in words (the ones graphsvc
itself gives a meaning to, ``graphsvc.vocabulary``: populations, schedule
slots, referrer and contact kinds) and the words managers added (stored as
``(:Term {vocabulary, value})`` nodes; ``graphsvc.store.vocabularies``).

The rule is checked with the other rules between records
(``graphsvc.checks``), for every path that writes. This module knows only
the words: no database, no web.

>>> words = Vocabularies({"insurances": {"medicaid", "medicare", "bcbs"}})
>>> words.known("insurances", "medicaid"), words.known("insurances", "medicade")
(True, False)
>>> words.closest("insurances", "medicaidd")
['medicaid', 'medicare']
>>> words.values("schedules")
['weekday_day', 'weekday_evening', 'weekend']
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from .vocabulary import CONTACT_KINDS, POPULATIONS, REFERRER_KINDS, SCHEDULE_SLOTS

# The vocabularies, by the names their page and API paths use.
NAMES = ("needs", "populations", "insurances", "schedules", "referrer_kinds", "contact_kinds", "niches")

# Words every practice has: graphsvc's own code gives them a meaning (an update_sent contact closes loops,
# a follow_up contact answers a referral, ...). They cannot be removed; a manager may add others.
BUILT_IN: dict[str, tuple[str, ...]] = {
    "needs": (), "populations": POPULATIONS, "insurances": (), "schedules": SCHEDULE_SLOTS,
    "referrer_kinds": REFERRER_KINDS, "contact_kinds": CONTACT_KINDS, "niches": (),
}

# Which record fields draw from which vocabulary (record kind -> field -> vocabulary).
FIELDS: dict[str, dict[str, str]] = {
    "clinician": {"specialties": "needs", "populations": "populations", "insurances": "insurances",
                  "schedule": "schedules"},
    "client": {"needs": "needs", "population": "populations", "insurance": "insurances", "schedule": "schedules"},
    "referrer": {"kind": "referrer_kinds"},
    "contact": {"kind": "contact_kinds"},
    "external_provider": {"niches": "niches"},
    "referral_out": {"niche": "niches"},
}

# How a page names each vocabulary, and what its words are for.
TITLES = {
    "needs": ("Needs", "What a client may need and a clinician may offer (specialties)."),
    "populations": ("Populations", "Who a clinician sees: children, couples, ..."),
    "insurances": ("Insurances", "The plans a client may have and a clinician may take."),
    "schedules": ("Schedules", "The times a client wants and a clinician offers."),
    "referrer_kinds": ("Referrer kinds", "What a referrer is: a physician, a school counselor, ..."),
    "contact_kinds": ("Contact kinds", "What a contact with a referrer was: a lunch, a talk, ..."),
    "niches": ("Niches", "What outside providers are referred to for (needs the practice does not cover)."),
}

# Where a manager adds a word.
ADD_HINT = "under Settings, Vocabularies"
# How many close words "did you mean" offers, and how alike they must be (difflib's ratio).
SUGGESTIONS = 3
LIKENESS = 0.6


@dataclass
class Vocabularies:
    """The words each vocabulary holds: its built-in words and ``added`` (name -> words managers added)."""

    added: Mapping[str, Iterable[str]] = field(default_factory=dict)

    def __post_init__(self):
        self._words = {name: set(BUILT_IN[name]) | set(self.added.get(name, ())) for name in NAMES}

    def values(self, name: str) -> list[str]:
        """The words of ``name``: the built-in ones in their own order, then the added ones alphabetically."""
        built = BUILT_IN[name]
        return list(built) + sorted(self._words[name] - set(built))

    def known(self, name: str, value: str) -> bool:
        return value in self._words[name]

    def closest(self, name: str, value: str) -> list[str]:
        """The known words most like ``value`` (at most ``SUGGESTIONS``, closest first)."""
        return difflib.get_close_matches(value, sorted(self._words[name]), n=SUGGESTIONS, cutoff=LIKENESS)

    def learn(self, name: str, value: str) -> None:
        """Know ``value`` from now on (an import adopting the words it brings)."""
        self._words[name].add(value)


def values_of(kind: str, record) -> Iterable[tuple[str, str, str]]:
    """``(field, vocabulary, word)`` for every word ``record`` (of ``kind``) holds that a vocabulary keeps.

    >>> from types import SimpleNamespace as R
    >>> list(values_of("client", R(needs=["adhd", "anxiety"], population="child", insurance=None, schedule=None)))
    [('needs', 'needs', 'adhd'), ('needs', 'needs', 'anxiety'), ('population', 'populations', 'child')]
    """
    for name, vocabulary in FIELDS.get(kind, {}).items():
        value = getattr(record, name, None)
        if value is None:
            continue
        for word in (value,) if isinstance(value, str) else value:
            yield name, vocabulary, word


def unknown_message(field_name: str, vocabulary: str, value: str, close: list[str]) -> str:
    """A refusal in words: the field, the value, the closest known words, and how to add it.

    >>> print(unknown_message("needs", "needs", "adhdd", ["adhd"]))  # doctest: +ELLIPSIS
    field 'needs': 'adhdd' is not on the practice's list of needs; did you mean adhd? (a manager can add it ...)
    """
    title = TITLES[vocabulary][0].lower()
    hint = f"; did you mean {' or '.join(close)}?" if close else ""
    return (f"field '{field_name}': '{value}' is not on the practice's list of {title}{hint} "
            f"(a manager can add it {ADD_HINT})")
