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
            "family": "families", "referral out": "referrals out", "person": "people", "couples": "couples"}


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
    >>> plural("child"), plural("older_adult"), plural("couples"), plural("family")
    ('children', 'older adults', 'couples', 'families')
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


def listing(items, conjunction: str = "and") -> str:
    """Items as an English list: ``"a"``, ``"a and b"``, ``"a, b and c"``.

    >>> listing(["ADHD"]), listing(["ADHD", "anxiety"]), listing(["a", "b", "c"], "or"), listing([])
    ('ADHD', 'ADHD and anxiety', 'a, b or c', '')
    """
    items = [str(i) for i in items]
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def of_last(k: int, n: int, noun: str, whose: str = "its") -> str:
    """``k`` of someone's last ``n`` things, or just "its last thing" when ``n`` is 1.

    >>> of_last(5, 8, "referral", "this referrer's"), of_last(1, 1, "client"), of_last(1, 2, "client")
    ("5 of this referrer's last 8 referrals", 'its last client', '1 of its last 2 clients')
    """
    if n == 1:
        return f"{whose} last {words(noun)}"
    return f"{k:,} of {whose} last {count_of(n, noun)}"


def pct(x, places: int = 0) -> str:
    """A share 0..1 as a percentage, or a dash when there is none.

    >>> pct(0.256), pct(None), pct(0.5, 1)
    ('26%', '—', '50.0%')
    """
    return "—" if x is None else f"{x:.{places}%}"


def stage_label(stage: int | None) -> str:
    """``"2 · trying colleagues"``, or a dash when unknown."""
    return "—" if stage is None else f"{stage} · {STAGE_NAMES[stage]}"


def trend_words(trend: dict) -> str:
    """The referral trend (``metrics`` ``trend``) as a sentence; the web and ``graphsvc stage`` share it.

    >>> trend_words({"last_12_months": 42, "previous_12_months": 36, "change": 6})
    '42 referrals in the last 12 months, 6 more than the 12 months before'
    >>> trend_words({"last_12_months": 1, "previous_12_months": 4, "change": -3})
    '1 referral in the last 12 months, 3 fewer than the 12 months before'
    >>> trend_words({"last_12_months": 0, "previous_12_months": 0, "change": 0})
    '0 referrals in the last 12 months, as many as the 12 months before'
    """
    change = trend["change"]
    if change > 0:
        than = f"{change:,} more than"
    elif change < 0:
        than = f"{-change:,} fewer than"
    else:
        than = "as many as"
    last = count_of(trend["last_12_months"], "referral")
    return f"{last} in the last 12 months, {than} the 12 months before"


def pace_words(history: dict) -> str:
    """How fast a referrer reached stages 2 and 3 from its first referral
    (``stages.stage_histories``' ``days_to_stage_2`` and ``days_to_stage_3``).

    >>> pace_words({"days_to_stage_2": 182, "days_to_stage_3": None})
    'stage 2 after 182 days, stage 3 not reached'
    >>> pace_words({"days_to_stage_2": None, "days_to_stage_3": 0})
    'stage 2 not reached, stage 3 after 0 days'
    >>> pace_words({"days_to_stage_2": 1, "days_to_stage_3": 30})
    'stage 2 after 1 day, stage 3 after 30 days'
    """
    parts = []
    for stage in (2, 3):
        days = history[f"days_to_stage_{stage}"]
        parts.append(f"stage {stage} " + ("not reached" if days is None else f"after {count_of(days, 'day')}"))
    return ", ".join(parts)


def flag_words(history: dict, *, stall_days: int, lapse_days: int) -> list[str]:
    """A referrer's ``jumped``, ``stalled`` and ``lapsed`` as phrases (only those that hold).

    >>> flag_words({"jumped": True, "stalled": False, "lapsed": True, "last_referral": "2024-05-01"},
    ...            stall_days=180, lapse_days=180)
    ['jumped to stage 3 (never in stage 2)', 'lapsed: no referral since 2024-05-01 (over 180 days)']
    >>> flag_words({"jumped": False, "stalled": True, "lapsed": False, "last_referral": None},
    ...            stall_days=90, lapse_days=180)
    ['stalled in stage 1 (over 90 days)']
    """
    out = []
    if history["jumped"]:
        out.append("jumped to stage 3 (never in stage 2)")
    if history["stalled"]:
        out.append(f"stalled in stage 1 (over {count_of(stall_days, 'day')})")
    if history["lapsed"]:
        out.append(f"lapsed: no referral since {history['last_referral']} (over {count_of(lapse_days, 'day')})")
    return out


def refer_out(needs, providers) -> str:
    """Where to refer needs no clinician can take, and which have nowhere known.

    ``providers``: dicts with the provider's ``name`` and the ``niche`` it covers.

    >>> refer_out(["eating_disorders", "grief"], [{"name": "Riverside", "niche": "eating_disorders"},
    ...                                           {"name": "Lakeside", "niche": "eating_disorders"}])
    'refer out to Riverside or Lakeside for eating disorders; no outside provider is known for grief'
    >>> refer_out(["grief"], [])
    'no outside provider is known for grief'
    """
    places, nowhere = [], []
    for need in needs:
        names = list(dict.fromkeys(x["name"] for x in providers if x["niche"] == need))
        if names:
            places.append(f"to {listing(names, 'or')} for {words(need)}")
        else:
            nowhere.append(words(need))
    parts = ["refer out " + listing(places)] if places else []
    if nowhere:
        parts.append(f"no outside provider is known for {listing(nowhere, 'or')}")
    return "; ".join(parts)


def match_report(out: dict) -> str:
    """The text of a match (``graphsvc.analysis.matching.match_client``'s result) for people.

    Candidates with their strengths and gaps, then the pass (and why) or the
    verdict, needs nobody lists (with "did you mean"), and outside providers.
    """
    lines = ["Best matches:"]
    for c in out["candidates"]:
        flag = "" if c["eligible"] else "  (cannot take this client)"
        lines.append(f"  {c['name']} ({c['member']})  fit {c['fit']:.2f}{flag}: {'; '.join(c['reasons']) or '-'}")
        if c["gap_reasons"]:
            lines.append(f"      {verb(len(c['gap_reasons']), 'gap', 'gaps')}: {'; '.join(c['gap_reasons'])}")
    if out["pass"]:
        lines.append(f"Pass to {out['pass']['name']} (reason: {out['pass']['reason']}):")
        lines += [f"  - {w}" for w in out["pass"]["why"]]
    else:
        lines.append(out["verdict"])
    for u in out["unknown_needs"]:
        line = (f"Unknown need {u['need']!r}, left out of the match: no clinician, outside provider "
                "or past client lists it.")
        if u["did_you_mean"]:
            line += f" Did you mean {listing(u['did_you_mean'], 'or')}?"
        lines.append(line)
    for u in out.get("unknown_insurance", ()):
        line = (f"Unknown insurance {u['insurance']!r}, left out of the match: no clinician or past client "
                "lists it.")
        if u["did_you_mean"]:
            line += f" Did you mean {listing(u['did_you_mean'], 'or')}?"
        lines.append(line)
    uncovered = out["uncovered_needs"]
    providers = out["external_providers"]
    if uncovered and not out["no_eligible_clinician"]:
        needs = listing((words(n) for n in uncovered), "or")
        lines.append(f"No clinician who can take this client covers {needs}: {refer_out(uncovered, providers)}.")
    for x in providers:
        before = x["referred_before"]
        used = f"referred to {count_of(before, 'time')} before" if before else "not referred to before"
        lines.append(f"  - {x['name']} ({x['provider']}): {words(x['niche'])}, {used}")
    return "\n".join(lines)
