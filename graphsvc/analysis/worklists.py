"""The managers' worklists: which referrers (and referrals) need something done next.

Six lists, each built from the stage histories, metrics and key-person risk
already computed for the analysis, with one walk over the events of only
the referrers that can be on the lists that need their events (``ready`` and
``follow-up``). Every row says ``why`` it is on the list and the
``next_step``, in the practice's own method: bring your A game to a new
referrer's first referrals, keep each referrer informed, get a referrer
stalled with its point person to try a colleague, introduce the intake
coordinator when a referrer is ready for the whole practice.

Definitions, all judged on ``as_of`` (pass the day the histories and
metrics were computed for; ``metrics`` must hold every referrer of
``histories``). Each list comes in its default order, most urgent first,
given last in each item:

* **new**: the first referral is dated within the last ``new_days`` days:
  ``as_of - new_days <= first_referral <= as_of`` (90 days before ``as_of``
  is in, 91 is out), so the referrer had started by ``as_of``.
  Newest first referral first: the relationship being formed right now.
* **stalled**: ``histories[r]["stalled"]`` (``stages``: in stage 1 with at
  least 3 referrals, stage 1 entered more than ``stall_days`` ago), with
  ``stage_since`` (when it entered stage 1) and ``days_in_stage``. Which
  colleague to try is left to the referrer's page (``suggestions`` scores
  the whole practice for one referrer: too dear for every row). Longest in
  stage 1 first, then most referrals.
* **ready**: ready for stage 3 (``referrals.stage_3_introduction``, which
  the suggestions use too, over ``rules.ready_for_stage_3`` and
  ``rules.coordinator_to_introduce``): the referrer addressed referrals to at least
  ``ready_after`` (>= 1) distinct colleagues of its point person (clinicians
  other than its point person on the referral's date), is not in stage 3 by
  ``referrals.in_whole_practice`` over ``window`` (so, with the window the
  histories were computed with, it is in stage 2 there), and
  an intake coordinator (a staff member with role ``"intake_coordinator"``;
  in a practice with none in that role, any staff member) has neither been
  introduced to it nor received or been addressed one of its referrals. That
  one is the ``coordinator``; among several, the one addressed the most
  referrals practice-wide, then by id. A practice without staff, or a
  referrer that has met its intake coordinators already, has no ready row
  (an office manager is never offered in the coordinator's place). Most colleagues tried first, then the most
  recent last referral.
* **lapsed**: ``histories[r]["lapsed"]`` (at least 3 referrals, none for
  more than ``lapse_days``) or **declining**: fewer referrals in the 12
  months up to ``as_of`` than in the 12 before (``metrics[r]["trend"]``).
  ``reason`` is ``"lapsed"``, ``"declining"`` or ``"lapsed and declining"``.
  The biggest drop in referrals first (``change``, most negative first), then
  the most recently active.
* **follow-up**: one row per referral, not per referrer: each referral dated
  within the last ``lookback_days`` (``as_of - lookback_days <= date <=
  as_of``) whose loop is not closed (``rules.follow_up``). Its loop is
  closed by a contact of kind ``"follow_up"`` between its referrer and any
  practice member dated on or after the referral's date and no later than
  ``as_of``; one after ``due`` (the date plus ``follow_up_days``) closes it
  late (``follow_up_figures`` counts those). So one follow-up closes the
  loop of every earlier open referral of that referrer (several at once is
  normal), and a follow-up dated before a referral never counts for it. ``status`` is ``"due"`` while ``as_of <=
  due`` (still time) and ``"overdue"`` after; ``days_overdue = as_of - due``
  (negative while not yet due). Most overdue first, then soonest due, then
  the oldest referral.
* **key-person-risk**: one row per referrer at risk in
  ``practice.key_person_risk`` (stage 1 with its point person, or every
  referral of the last 12 months assigned to one clinician), with the
  clinicians it depends on (``depends_on``, a referrer may depend on two:
  its point person and the clinician its clients are passed to) and its
  referrals in the last 12 months. The most referrals at stake first.

Every row has the referrer's columns (``COMMON_COLUMNS``): ``referrer``,
``name``, ``referrer_kind``, ``organization``, ``point_person`` (the current
one, or None), ``point_person_name``, ``stage``, ``referrals``,
``first_referral``, ``last_referral``; then the list's own columns
(``WORKLISTS[name]["columns"]``), ``why`` and ``next_step``.
``filter_sort_page`` filters, sorts and pages a list for the pages.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from datetime import date, timedelta

from .. import rules
from ..config import DEFAULT_ANALYSIS
from ..presentation import listing, trend_words, words
from ..rules import READY_AFTER
from .practice import key_person_risk as _key_person_risk
from .referrals import PracticeFlags, StaffPool, current_point_person, stage_3_introduction

COMMON_COLUMNS = ("referrer", "name", "referrer_kind", "organization", "point_person", "point_person_name",
                  "stage", "referrals", "first_referral", "last_referral")

# Filters every list takes besides "q" (a case-insensitive search of name and organization).
_COMMON_FILTERS = ("stage", "referrer_kind", "point_person")
_COMMON_SORTS = ("referrer", "name", "referrer_kind", "organization", "point_person_name", "stage",
                 "referrals", "first_referral", "last_referral")


def _spec(title, description, order, columns, filters=(), sorts=()):
    return {"title": title, "description": description, "order": order,
            "columns": COMMON_COLUMNS + tuple(columns) + ("why", "next_step"),
            "filters": _COMMON_FILTERS + tuple(filters), "sorts": _COMMON_SORTS + tuple(sorts)}


WORKLISTS = {
    "new": _spec(
        "New referrers", "Referrers whose first referral came lately (90 days by default): bring your A "
        "game.",
        "newest first referral first", ("days_since_first",), sorts=("days_since_first",)),
    "stalled": _spec(
        "Stalled referrers", "Referrers still with their point person alone after months: get them to try a "
        "colleague.", "longest in stage 1 first", ("stage_since", "days_in_stage"),
        sorts=("stage_since", "days_in_stage")),
    "ready": _spec(
        "Ready for stage 3", "Referrers who have tried colleagues of their point person: introduce the intake "
        "coordinator.", "most colleagues tried first",
        ("colleagues_tried", "coordinator", "coordinator_name", "coordinator_role"),
        filters=("coordinator",), sorts=("colleagues_tried", "coordinator_name")),
    "lapsed": _spec(
        "Lapsed and declining", "Referrers who stopped referring, or refer less than the year before: "
        "reconnect.", "biggest drop in referrals first",
        ("reason", "days_since_last", "last_12_months", "previous_12_months", "change"),
        filters=("reason",), sorts=("reason", "days_since_last", "last_12_months", "previous_12_months",
                                    "change")),
    "follow-up": _spec(
        "Follow-up", "Referrals with no follow-up contact with the referrer yet: close the loop.",
        "most overdue first",
        ("referral", "date", "clinician", "clinician_name", "due", "days_overdue", "status"),
        filters=("status", "clinician"), sorts=("referral", "date", "clinician_name", "due", "days_overdue",
                                                "status")),
    "key-person-risk": _spec(
        "Key-person risk", "Referrers who depend on one clinician: broaden the relationship.",
        "most referrals at stake first", ("depends_on", "depends_on_names", "referrals_last_12_months"),
        filters=("depends_on",), sorts=("referrals_last_12_months",)),
}


def worklists(G, histories: dict, metrics: dict, *, as_of: date, new_days: int = 90,
              follow_up_days: int = DEFAULT_ANALYSIS.follow_up_days,
              lookback_days: int = 90, key_person_risk: dict | None = None, ready_after: int = READY_AFTER,
              window: int = DEFAULT_ANALYSIS.window, index=None) -> dict:
    """Every worklist, each in its default order (most urgent first).

    Parameters
    ----------
    G : networkx.MultiDiGraph
        A referral graph (``graphsvc.analysis.graph``).
    histories : dict
        ``stages.stage_histories`` judged on ``as_of``; only these referrers are listed.
    metrics : dict
        ``metrics.referrer_metrics`` of the same referrers, judged on ``as_of``.
    as_of : date
        The day the lists are for.
    new_days : int
        How recent a first referral makes a referrer new.
    follow_up_days : int
        Days after a referral by which a follow-up contact closes its loop.
    lookback_days : int
        How far back referrals are checked for a follow-up.
    key_person_risk : dict, optional
        ``practice.key_person_risk`` (12 months) if already computed; computed if omitted.
    ready_after : int
        Colleagues of the point person tried before a referrer is ready for stage 3 (at least 1).
    window : int
        The stage-3 window, as given to ``stage_histories`` and ``suggest_introductions``.
    index : Index, optional
        An ``index.Index`` of ``G``, if one is built: its referral counts per
        member break ties between staff members (computed when needed otherwise).

    Returns
    -------
    dict
        ``{"new": [...], "stalled": [...], "ready": [...], "lapsed": [...],
        "follow-up": [...], "key-person-risk": [...]}``, rows as described in
        the module docstring and ``WORKLISTS``.

    Examples
    --------
    >>> from datetime import date
    >>> from graphsvc.analysis import graph as p, referrer_metrics, stage_histories
    >>> G = p.new_graph()
    >>> p.add_member(G, "ana", name="Ana Ruiz")
    >>> p.add_referrer(G, "drx", name="Dr. Lee", point_person="ana", since=date(2024, 12, 1))
    >>> p.add_referral(G, "drx", "r1", date(2024, 12, 19), "ana")
    >>> day = date(2024, 12, 31)
    >>> lists = worklists(G, stage_histories(G, as_of=day), referrer_metrics(G, as_of=day), as_of=day)
    >>> {name: len(rows) for name, rows in lists.items()}
    {'new': 1, 'stalled': 0, 'ready': 0, 'lapsed': 0, 'follow-up': 1, 'key-person-risk': 1}
    >>> new = lists["new"][0]
    >>> new["why"]
    'first referral 12 days ago (2024-12-19); 1 referral so far'
    >>> new["next_step"]
    'Bring your A game: see this client quickly and report back to Dr. Lee.'
    >>> lists["follow-up"][0]["status"], lists["follow-up"][0]["days_overdue"]
    ('due', -2)
    """
    rules.check_ready_after(ready_after)
    if key_person_risk is None:
        key_person_risk = _key_person_risk(G, histories, as_of=as_of)
    names = _Names(G)
    referrer = _ReferrerColumns(G, histories, names)
    ready, follow_up = _ready_and_follow_up(G, histories, referrer, names, as_of=as_of, ready_after=ready_after,
                                            window=window, staff=StaffPool(G, index.members if index else None,
                                                             index.addressed_counts if index else None),
                                            follow_up_days=follow_up_days, lookback_days=lookback_days)
    return {
        "new": _new(histories, referrer, as_of, new_days),
        "stalled": _stalled(histories, referrer, as_of),
        "ready": ready,
        "lapsed": _lapsed(histories, metrics, referrer, as_of),
        "follow-up": follow_up,
        "key-person-risk": _key_person_rows(histories, metrics, key_person_risk, referrer, names),
    }


def filter_sort_page(rows: list[dict], worklist: str, *, filters: dict | None = None, sort: str | None = None,
                     descending: bool = False, page: int = 1, page_size: int = 50) -> tuple[list[dict], int]:
    """One page of a worklist, filtered and sorted, and how many rows pass the filters.

    Parameters
    ----------
    rows : list of dict
        One list of ``worklists`` (in its default order).
    worklist : str
        Its name (a key of ``WORKLISTS``), which says the columns allowed.
    filters : dict, optional
        Column -> wanted value (or a list/tuple/set of values, any of which
        will do), from ``WORKLISTS[worklist]["filters"]``; values compare as
        text, so ``"2"`` finds stage 2, and a list column (``depends_on``)
        matches when any of its items does. ``"q"``: case-insensitive text
        to find in the name or organization. Empty values (``None``, ``""``)
        are ignored, as a form sends them.
    sort : str, optional
        A column from ``WORKLISTS[worklist]["sorts"]``; None keeps the default
        order. Ties keep the default order; empty values come last either way.
    descending : bool
        Sort (or the default order) reversed.
    page, page_size : int
        1-based page number and its size; a page past the end is empty.

    Returns
    -------
    (list of dict, int)
        The page's rows and the number of rows that pass the filters.

    Raises
    ------
    ValueError
        An unknown worklist, filter or sort column (naming the allowed ones),
        or a page or page size below 1.

    Examples
    --------
    >>> rows = [{"name": n, "organization": o, "stage": s, "referrals": k}
    ...         for n, o, s, k in (("Dr. Lee", "Northside", 1, 4), ("Ms. Vega", "Lincoln", 2, 9),
    ...                            ("Rev. Stone", "North Church", 1, 2))]
    >>> page, total = filter_sort_page(rows, "stalled", filters={"q": "north"}, sort="referrals")
    >>> [r["name"] for r in page], total
    (['Rev. Stone', 'Dr. Lee'], 2)
    >>> filter_sort_page(rows, "stalled", sort="days")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: cannot sort the stalled worklist by 'days'; sort by one of: referrer, name, ..., days_in_stage
    """
    spec = WORKLISTS.get(worklist)
    if spec is None:
        raise ValueError(f"unknown worklist {worklist!r}; the worklists are: {', '.join(WORKLISTS)}")
    if page < 1 or page_size < 1:
        raise ValueError(f"page and page_size start at 1 (got page={page}, page_size={page_size})")
    allowed = spec["filters"] + ("q",)
    wanted = {}
    for column, value in (filters or {}).items():
        if column not in allowed:
            raise ValueError(f"cannot filter the {worklist} worklist by {column!r}; "
                             f"filter by one of: {', '.join(allowed)}")
        if value is None or value == "":
            continue
        values = value if isinstance(value, (list, tuple, set, frozenset)) else (value,)
        wanted[column] = {str(v).casefold() if column == "q" else str(v) for v in values}
    if sort is not None and sort not in spec["sorts"]:
        raise ValueError(f"cannot sort the {worklist} worklist by {sort!r}; "
                         f"sort by one of: {', '.join(spec['sorts'])}")
    text = wanted.pop("q", None)
    kept = [row for row in rows if _passes(row, wanted, text)]
    if sort is None:
        ordered = kept[::-1] if descending else kept
    else:
        # Python's sort is stable (reverse=True too), so ties stay in the default order.
        present = [row for row in kept if row.get(sort) is not None]
        present.sort(key=lambda row: _sort_key(row[sort]), reverse=descending)
        ordered = present + [row for row in kept if row.get(sort) is None]
    start = (page - 1) * page_size
    return ordered[start:start + page_size], len(kept)


def _passes(row: dict, wanted: dict, text: set | None) -> bool:
    for column, values in wanted.items():
        value = row.get(column)
        items = value if isinstance(value, (list, tuple)) else (value,)
        if not any(str(item) in values for item in items if item is not None):
            return False
    if text is not None:
        haystack = f"{row.get('name') or ''}\n{row.get('organization') or ''}".casefold()
        if not any(t in haystack for t in text):
            return False
    return True


def _sort_key(value):
    return value.casefold() if isinstance(value, str) else value


# --- The lists -------------------------------------------------------------------------------------------


def _new(histories, referrer, as_of, new_days) -> list[dict]:
    rows = []
    for r, h in histories.items():
        first = h["first_referral"]
        if first is None:
            continue
        days = (as_of - first).days
        if not 0 <= days <= new_days:
            continue
        row = referrer(r)
        n = h["referrals"]
        row.update(days_since_first=days,
                   why=f"first referral {_ago(days)} ({first}); {_count(n, 'referral')} so far",
                   next_step=f"Bring your A game: see {'this client' if n == 1 else 'these clients'} quickly "
                             f"and report back to {row['name']}.")
        rows.append(row)
    rows.sort(key=lambda row: (row["days_since_first"], row["referrer"]))
    return rows


def _stalled(histories, referrer, as_of) -> list[dict]:
    rows = []
    for r, h in histories.items():
        if not h["stalled"]:
            continue
        row = referrer(r)
        since = h["history"][-1]["date"]  # stalled: in stage 1, the last change entered it
        days = (as_of - since).days
        pp = _who(row["point_person_name"])
        row.update(stage_since=since, days_in_stage=days,
                   why=f"in stage 1 for {_count(days, 'day')} (since {since}); "
                       f"{_count(h['referrals'], 'referral')}, none addressed to a colleague of {pp}",
                   next_step=f"Get {row['name']} to try a colleague: {pp} introduces a colleague who suits "
                             f"{row['name']}'s clients (see the suggestions on the referrer's page).")
        rows.append(row)
    rows.sort(key=lambda row: (-row["days_in_stage"], -row["referrals"], row["referrer"]))
    return rows


def _lapsed(histories, metrics, referrer, as_of) -> list[dict]:
    rows = []
    for r, h in histories.items():
        trend = metrics[r]["trend"]
        declining = trend["last_12_months"] < trend["previous_12_months"]
        if not (h["lapsed"] or declining):
            continue
        row = referrer(r)
        last = h["last_referral"]  # lapsed or declining: it has referred
        days = (as_of - last).days
        reasons, why = [], []
        if h["lapsed"]:
            reasons.append("lapsed")
            why.append(f"no referral for {_count(days, 'day')} (last {last}) after "
                       f"{_count(h['referrals'], 'referral')}")
        if declining:
            reasons.append("declining")
            why.append(trend_words(trend))
        pp = _who(row["point_person_name"])
        if h["lapsed"]:
            step = (f"Reconnect: {pp} reaches out to {row['name']} (a lunch, a visit, a call) to ask how the "
                    f"practice can help again.")
        else:
            step = (f"Check in: {pp} asks {row['name']} how recent referrals went and how the practice can "
                    f"serve them better.")
        row.update(reason=" and ".join(reasons), days_since_last=days,
                   last_12_months=trend["last_12_months"], previous_12_months=trend["previous_12_months"],
                   change=trend["change"], why="; ".join(why), next_step=step)
        rows.append(row)
    rows.sort(key=lambda row: (row["change"], row["days_since_last"], row["referrer"]))
    return rows


def _ready_and_follow_up(G, histories, referrer, names, *, as_of, ready_after, window, staff, follow_up_days,
                         lookback_days) -> tuple[list[dict], list[dict]]:
    """The two lists that need a referrer's events, each referrer that can be on either walked once."""
    earliest = as_of - timedelta(days=lookback_days)
    practice = PracticeFlags(G)
    ready, follow_up = [], []
    for r, h in histories.items():
        # Only a referrer in stage 2 or 3 has tried a colleague; only one that referred since
        # `earliest` can have a referral waiting for a follow-up. The rest are never walked.
        can_be_ready = h["stage"] >= 2 and bool(staff)
        can_wait = h["referrals"] > 0 and h["first_referral"] <= as_of and h["last_referral"] >= earliest
        if not (can_be_ready or can_wait):
            continue
        referrals, follow_ups, introduced = _events(G, r)
        if can_be_ready:
            row = _ready_row(G, r, referrals, introduced, referrer, names, practice, ready_after, window, staff)
            if row is not None:
                ready.append(row)
        if can_wait:
            _follow_up_rows(follow_up, r, referrals, follow_ups, referrer, names, as_of, earliest, follow_up_days)
    ready.sort(key=lambda row: (-row["colleagues_tried"], -row["last_referral"].toordinal(), row["referrer"]))
    follow_up.sort(key=lambda row: (-row["days_overdue"], row["date"], row["referral"]))
    return ready, follow_up


def _ready_row(G, r, referrals, introduced, referrer, names, practice, ready_after, window, staff) -> dict | None:
    found = stage_3_introduction(G, r, referrals, introduced, staff=staff, practice=practice,
                                 ready_after=ready_after, window=window)
    if found is None:
        return None
    coordinator, tried = found
    row = referrer(r)
    role = G.nodes[coordinator].get("role") or "staff member"
    pp = _who(row["point_person_name"])
    colleagues = listing(names(m) for m in tried)
    row.update(colleagues_tried=len(tried), coordinator=coordinator, coordinator_name=names(coordinator),
               coordinator_role=role,
               why=f"in stage 2: has tried {_count(len(tried), 'colleague')} of {pp} ({colleagues}) "
                   f"but does not yet send to the practice as a whole",
               next_step=f"Introduce the {words(role)}: {pp} introduces {row['name']} to "
                         f"{names(coordinator)}, who takes referrals for the whole practice.")
    return row


def _follow_up_rows(rows, r, referrals, follow_ups, referrer, names, as_of, earliest, follow_up_days) -> None:
    common = None
    for day, key, assigned, _ in _in_window(referrals, earliest, as_of):
        loop = rules.follow_up(day, follow_ups, due_days=follow_up_days, as_of=as_of)
        if not loop.open:
            continue
        if common is None:
            common = referrer(r)
        due = loop.due
        overdue = (as_of - due).days
        clinician = names(assigned)
        if overdue > 0:
            when = f"{_count(overdue, 'day')} overdue (due {due})"
        elif overdue == 0:
            when = f"due today ({due})"
        else:
            when = f"due in {_count(-overdue, 'day')} ({due})"
        rows.append({**common, "referral": key, "date": day, "clinician": assigned, "clinician_name": clinician,
                     "due": due, "days_overdue": overdue, "status": loop.status,
                     "why": f"referred on {day} to {clinician}; no follow-up contact with {common['name']} "
                            f"since; {when}",
                     "next_step": f"Close the loop: {clinician} keeps {common['name']} informed about this "
                                  f"client (with the client's consent) and records the follow-up contact."})


def _in_window(referrals, earliest, as_of):
    """The referrals (``(date, id, assigned, data)`` in date order) dated from ``earliest`` to ``as_of``."""
    # (earliest,) sorts before any (earliest, id, ...).
    for referral in referrals[bisect_left(referrals, (earliest,)):]:
        if referral[0] > as_of:
            break
        yield referral


def follow_up_figures(G, histories: dict, *, as_of: date, follow_up_days: int = DEFAULT_ANALYSIS.follow_up_days,
                      lookback_days: int = 90) -> dict:
    """How the loops of the referrals of the last ``lookback_days`` stand on ``as_of`` (``rules.follow_up``).

    Returns
    -------
    dict
        ``referrals`` (dated from ``as_of - lookback_days`` to ``as_of``, the
        follow-up worklist's window), and how many of them are ``on_time``
        (closed by a follow-up within ``follow_up_days``), ``late`` (closed by
        a later one), ``due`` (open, still in time) and ``overdue``.

    Examples
    --------
    >>> from datetime import date
    >>> from graphsvc.analysis import graph as p, stage_histories
    >>> G = p.new_graph()
    >>> p.add_member(G, "ana")
    >>> p.add_referrer(G, "drx", point_person="ana", since=date(2024, 9, 1))
    >>> p.add_referral(G, "drx", "r1", date(2024, 10, 15), "ana")
    >>> p.add_referral(G, "drx", "r2", date(2024, 12, 20), "ana")
    >>> p.add_contact(G, "drx", "k1", date(2024, 11, 2), "ana", kind="follow_up")
    >>> day = date(2024, 12, 31)
    >>> follow_up_figures(G, stage_histories(G, as_of=day), as_of=day)
    {'referrals': 2, 'on_time': 0, 'late': 1, 'due': 1, 'overdue': 0}
    """
    earliest = as_of - timedelta(days=lookback_days)
    counts = dict.fromkeys(("on_time", "late", "due", "overdue"), 0)
    for r, h in histories.items():
        if not (h["referrals"] and h["first_referral"] <= as_of and h["last_referral"] >= earliest):
            continue
        referrals, follow_ups, _ = _events(G, r)
        for day, *_ in _in_window(referrals, earliest, as_of):
            counts[rules.follow_up(day, follow_ups, due_days=follow_up_days, as_of=as_of).status] += 1
    return {"referrals": sum(counts.values()), **counts}


def _key_person_rows(histories, metrics, risk, referrer, names) -> list[dict]:
    depends = defaultdict(list)
    for clinician, entry in risk.items():
        for r in entry["referrers"]:
            depends[r].append(clinician)
    rows = []
    for r, clinicians in depends.items():
        h = histories.get(r)
        if h is None:
            continue
        clinicians.sort()
        row = referrer(r)
        why = []
        for c in clinicians:
            if h["stage"] == 1 and c == row["point_person"]:
                why.append(f"in stage 1 with {names(c)} as point person: no colleague tried yet")
            else:
                why.append(f"every referral of the last 12 months assigned to {names(c)}")
        who = listing((names(c) for c in clinicians), "and")
        row.update(depends_on=clinicians, depends_on_names=[names(c) for c in clinicians],
                   referrals_last_12_months=metrics[r]["trend"]["last_12_months"],
                   why="; ".join(why),
                   next_step=f"Broaden the relationship: {_who(row['point_person_name'])} introduces "
                             f"{row['name']} to a colleague, so its referrals no longer depend on {who} alone.")
        rows.append(row)
    rows.sort(key=lambda row: (-row["referrals_last_12_months"], -row["referrals"], row["referrer"]))
    return rows


# --- Shared pieces -----------------------------------------------------------------------------------------


class _Names(dict):
    """A member's (or any node's) display name by id, each looked up once."""

    def __init__(self, G):
        super().__init__()
        self.G = G

    def __missing__(self, node):
        name = self[node] = self.G.nodes[node].get("name", node) if node in self.G else node
        return name

    def __call__(self, node):
        return None if node is None else self[node]


class _ReferrerColumns:
    """The columns every row about a referrer starts with, as a new dict each time."""

    def __init__(self, G, histories, names):
        self.G, self.histories, self.names = G, histories, names

    def __call__(self, r) -> dict:
        node, h = self.G.nodes[r], self.histories[r]
        pp = current_point_person(self.G, r)
        return {"referrer": r, "name": node["name"], "referrer_kind": node["referrer_kind"],
                "organization": node["organization"], "point_person": pp, "point_person_name": self.names(pp),
                "stage": h["stage"], "referrals": h["referrals"], "first_referral": h["first_referral"],
                "last_referral": h["last_referral"]}


def _events(G, r) -> tuple[list, list, set]:
    """A referrer's referrals as ``(date, id, assigned, data)`` sorted (the order of
    ``referrals.referral_edges``: by date, then id), its follow-up contact dates
    sorted, and the members introduced to it.

    One walk of the adjacency dicts for all three (as ``metrics`` does), not
    ``referral_edges`` and a second walk for the contacts and introductions;
    nothing is kept once the referrer's rows are made.
    """
    referrals, follow_ups, introduced = [], [], set()
    for member, keyed in G._adj[r].items():
        for key, data in keyed.items():
            kind = data["type"]
            if kind == "referral":
                referrals.append((data["date"], key, member, data))
            elif kind == "introduction":
                introduced.add(member)
            elif kind == "contact" and data["contact_kind"] == "follow_up":
                follow_ups.append(data["date"])
    referrals.sort(key=_by_date_and_id)
    follow_ups.sort()
    return referrals, follow_ups, introduced


def _by_date_and_id(referral: tuple) -> tuple:
    return referral[0], referral[1]  # never the data dicts, which do not compare


def _count(n: int, noun: str) -> str:
    """``presentation.count_of`` for the regular nouns here, at a fraction of its cost (a call a row)."""
    return f"1 {noun}" if n == 1 else f"{n:,} {noun}s"


def _ago(days: int) -> str:
    return "today" if days == 0 else f"{_count(days, 'day')} ago"


def _who(point_person_name) -> str:
    """Who acts for the referrer: its point person, or the practice when it has none."""
    return point_person_name or "the practice"
