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
  practice member, or by an ``"update_sent"`` one that covered it (the
  referrer's update), dated on or after the referral's date and no later than
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

import hashlib
from bisect import bisect_left, bisect_right, insort
from collections import defaultdict
from datetime import date, timedelta
from typing import NamedTuple

from .. import rules
from ..config import DEFAULT_ANALYSIS
from ..presentation import listing, trend_words, words
from ..rules import READY_AFTER
from ..vocabulary import WORKLIST_NAMES
from .practice import key_person_risk as _key_person_risk
from .referrals import PracticeFlags, StaffPool, current_point_person, stage_3_introduction

COMMON_COLUMNS = ("referrer", "name", "referrer_kind", "organization", "point_person", "point_person_name",
                  "stage", "referrals", "first_referral", "last_referral")

# The work done on a row (``with_tasks``), after the list's own columns. ``status`` is the task's
# state (``open``, ``snoozed``, ``done``) except on follow-up, whose own ``status`` (``due``,
# ``overdue``) it replaces only when done; ``task_status`` is the task's state on every list.
TASK_COLUMNS = ("priority", "referrer_id", "status", "task_status", "assigned_to", "assigned_to_name",
                "snoozed_until", "note", "done_on")
# The states of a row's work (``task_status``): ``open`` rows are the list's work now.
ROW_STATES = ("open", "snoozed", "done")

# Filters every list takes besides "q" (a case-insensitive search of name and organization).
_COMMON_FILTERS = ("stage", "referrer_kind", "point_person", "assigned_to")
_COMMON_SORTS = ("referrer", "name", "referrer_kind", "organization", "point_person_name", "stage",
                 "referrals", "first_referral", "last_referral", "assigned_to_name", "snoozed_until")


def _spec(title, description, order, columns, filters=(), sorts=()):
    own = COMMON_COLUMNS + tuple(columns) + ("why", "next_step")
    return {"title": title, "description": description, "order": order,
            "columns": ("id",) + own + tuple(c for c in TASK_COLUMNS if c not in own),
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
    "unseen": _spec(
        "Unseen", "Referrals with no first visit weeks on (21 days by default): chase them before the client "
        "is lost.", "longest waiting first",
        ("referral", "date", "clinician", "clinician_name", "referral_status", "status_on", "days_waiting"),
        filters=("referral_status", "clinician"),
        sorts=("referral", "date", "clinician_name", "referral_status", "days_waiting")),
    "key-person-risk": _spec(
        "Key-person risk", "Referrers who depend on one clinician: broaden the relationship.",
        "most referrals at stake first", ("depends_on", "depends_on_names", "referrals_last_12_months"),
        filters=("depends_on",), sorts=("referrals_last_12_months",)),
}


assert tuple(WORKLISTS) == WORKLIST_NAMES, "vocabulary.WORKLIST_NAMES names the lists, in their order"

# Each list's own order (most urgent first), ties broken by id so that the order is total: what
# ``merged`` keeps when a few referrers' rows are made again.
SORT_KEYS = {
    "new": lambda row: (row["days_since_first"], row["referrer"]),
    "stalled": lambda row: (-row["days_in_stage"], -row["referrals"], row["referrer"]),
    "ready": lambda row: (-row["colleagues_tried"], -row["last_referral"].toordinal(), row["referrer"]),
    "lapsed": lambda row: (row["change"], row["days_since_last"], row["referrer"]),
    "follow-up": lambda row: (-row["days_overdue"], row["date"], row["referral"]),
    "unseen": lambda row: (-row["days_waiting"], row["referral"]),
    "key-person-risk": lambda row: (-row["referrals_last_12_months"], -row["referrals"], row["referrer"]),
}


def replace_rows(lists: dict, old: dict, fresh: dict) -> None:
    """In each list of ``lists``, the rows ``old[name]`` taken out and ``fresh[name]`` (``worklists`` of
    just the changed referrers, on the same graph) put in, each in the list's order (``SORT_KEYS``), in
    place: the lists end as if made whole.

    Each order is total (every key ends with a referrer's or a referral's id), so a row is found by
    bisection: a write's few rows cost a few bisections and memory moves, not a pass over the list
    (tens of milliseconds a write at 100,000 referrers, where a pass cost hundreds).

    >>> lists = {"new": [{"referrer": "a", "days_since_first": 3}, {"referrer": "b", "days_since_first": 9}]}
    >>> replace_rows(lists, {"new": [lists["new"][1]]}, {"new": [{"referrer": "b", "days_since_first": 1}]})
    >>> [(r["referrer"], r["days_since_first"]) for r in lists["new"]]
    [('b', 1), ('a', 3)]
    """
    for name, rows in lists.items():
        key = SORT_KEYS[name]
        for row in old.get(name, ()):
            _remove(rows, row, key)
        for row in fresh.get(name, ()):
            insort(rows, row, key=key)


def _remove(rows: list, item, key) -> None:
    """Take ``item`` out of ``rows`` (sorted by ``key``, a total order): the one whose key is ``item``'s."""
    i = bisect_left(rows, key(item), key=key)
    if i < len(rows) and key(rows[i]) == key(item):
        del rows[i]
    else:  # not there: nothing to take out
        raise ValueError(f"not in the list: {key(item)!r}")


# The start of each list's row ids: a row's list can be told from its id.
ID_PREFIX = {"new": "new", "stalled": "stl", "ready": "rdy", "lapsed": "lap", "follow-up": "fu",
             "unseen": "uns", "key-person-risk": "kpr"}


def row_id(worklist: str, referrer: str, situation) -> str:
    """A worklist row's stable id: the list, the referrer and the situation that put it there.

    The same situation gives the same id in every analysis, so the work done
    on the row (its task) stays with it while its reason holds; a new
    situation (the referrer stalls again after a while in stage 2) is a new
    row. The situations, by list: ``new``, the first referral's date;
    ``stalled``, the day stage 1 began; ``ready``, the day the stage-2 spell
    began; ``lapsed``, the last referral's date (lapsed) or the day the
    decline began (``decline_start``); ``follow-up``, the referral's id;
    ``key-person-risk``, the clinicians depended on and the stage spell.

    >>> row_id("stalled", "drx", date(2024, 3, 1))
    'stl-a105dea405ef3443'
    >>> row_id("stalled", "drx", date(2024, 3, 1)) == row_id("stalled", "drx", date(2024, 9, 1))
    False
    """
    text = f"{worklist}\x1f{referrer}\x1f{situation}"
    return f"{ID_PREFIX[worklist]}-{hashlib.blake2b(text.encode(), digest_size=8).hexdigest()}"


def decline_start(dates: list[date], as_of: date) -> date | None:
    """The first day of the referrer's current decline, or None when it is not declining on ``as_of``.

    Declining on day ``d``: fewer referrals in the year up to ``d`` than in
    the year before (``metrics``'s ``trend``). The answer changes only on
    the days a referral enters the first year, moves to the second or leaves
    it, so only those days (and the next two, for 29 February) are judged,
    latest first, back to the first day it was not declining.

    >>> d = [date(2023, 1, 10), date(2023, 2, 10), date(2024, 3, 1)]
    >>> decline_start(d, date(2024, 6, 1))  # from the day the year up to it held none, the year before two
    datetime.date(2024, 2, 10)
    >>> decline_start(d, date(2024, 2, 1)) is None
    True
    """
    dates = sorted(d for d in dates if d <= as_of)
    if not _declining(dates, as_of):
        return None
    changes = set()
    for x in dates:
        changes.add(x)
        for years in (1, 2):
            later = _years_after(x, years)
            changes.update(later + timedelta(days=k) for k in (0, 1, 2))
    start = None
    for day in sorted((c for c in changes if c <= as_of), reverse=True):
        if not _declining(dates, day):
            break
        start = day
    return start


def _declining(dates: list[date], day: date) -> bool:
    year_ago, two_years_ago = _years_before(day, 1), _years_before(day, 2)
    upto, mid, low = bisect_right(dates, day), bisect_right(dates, year_ago), bisect_right(dates, two_years_ago)
    return upto - mid < mid - low


def _years_before(day: date, years: int) -> date:
    """As ``metrics`` counts its years (29 February -> 28 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def _referral_dates(G, r) -> list[date]:
    return [data["date"] for keyed in G._adj[r].values() for data in keyed.values() if data["type"] == "referral"]


def with_tasks(lists: dict, G, *, today: date, names=None) -> dict:
    """Each row of ``lists`` (``worklists``'s) with the work done on it: ``TASK_COLUMNS``.

    A row's task is its referrer's task with the row's id (``G.nodes[r]["tasks"]``,
    ``graph.add_task``); a row without one is ``open`` and unassigned. A
    task ``done`` makes the row ``done``; one snoozed until a day after
    ``today`` makes it ``snoozed``; otherwise the row is ``open`` (a snooze
    that has ended brings it back). A task whose row is not on any list any
    more (its reason disappeared) has no row. New row dicts; ``lists`` is
    not changed.

    >>> from graphsvc.analysis import graph as p
    >>> G = p.new_graph(); p.add_member(G, "ana", name="Ana")
    >>> p.add_referrer(G, "drx", point_person="ana", since=date(2024, 1, 1))
    >>> p.add_task(G, "drx", "stl-1", worklist="stalled", assigned_to="ana", snoozed_until=date(2025, 1, 6))
    >>> rows = with_tasks({"stalled": [{"id": "stl-1", "referrer": "drx"}]}, G, today=date(2025, 1, 2))
    >>> row = rows["stalled"][0]
    >>> row["task_status"], row["assigned_to_name"], row["snoozed_until"]
    ('snoozed', 'Ana', datetime.date(2025, 1, 6))
    >>> with_tasks({"stalled": [{"id": "stl-1", "referrer": "drx"}]}, G, today=date(2025, 1, 6))["stalled"][0]["status"]
    'open'
    """
    names = names or _Names(G)
    out = {}
    for name, rows in lists.items():
        done = []
        for row in rows:
            task = G.nodes[row["referrer"]].get("tasks", {}).get(row["id"]) if row["referrer"] in G else None
            done.append(_with_task(row, task, today, names))
        out[name] = done
    return out


def row_with_task(row: dict, task: dict | None, *, today: date, names: dict) -> dict:
    """One row with the work done on it (``task``: a ``records.Task`` row, or None): as ``with_tasks``
    gives it, for a row just acted on. ``names``: member names by id."""
    return _with_task(row, task, today, lambda m: None if m is None else names.get(m, m))


def _with_task(row: dict, task: dict | None, today: date, names) -> dict:
    if task is None or task["status"] == "closed":
        state, assigned, until, note, done_on = "open", None, None, "", None
    else:
        assigned, until, note, done_on = task["assigned_to"], task["snoozed_until"], task["note"], task["done_on"]
        state = ("done" if task["status"] == "done" else
                 "snoozed" if until is not None and until > today else "open")
    # Follow-up's own status (due / overdue), from its days (``row`` may have been through here before).
    own_status = None if "days_overdue" not in row else "overdue" if row["days_overdue"] > 0 else "due"
    return {"id": row["id"], **row,
            "status": "done" if state == "done" else own_status if own_status is not None else state,
            "task_status": state, "assigned_to": assigned, "assigned_to_name": names(assigned),
            "snoozed_until": until, "note": note, "done_on": done_on}


def worklists(G, histories: dict, metrics: dict, *, as_of: date, new_days: int = 90,
              follow_up_days: int = DEFAULT_ANALYSIS.follow_up_days, unseen_days: int = DEFAULT_ANALYSIS.unseen_days,
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
    {'new': 1, 'stalled': 0, 'ready': 0, 'lapsed': 0, 'follow-up': 1, 'unseen': 0, 'key-person-risk': 1}
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
    ready, follow_up, unseen = _ready_and_follow_up(
        G, histories, referrer, names, as_of=as_of, ready_after=ready_after, window=window,
        staff=StaffPool(G, index.members if index else None, index.addressed_counts if index else None),
        follow_up_days=follow_up_days, lookback_days=lookback_days, unseen_days=unseen_days)
    lists = {
        "new": _new(histories, referrer, as_of, new_days),
        "stalled": _stalled(histories, referrer, as_of),
        "ready": ready,
        "lapsed": _lapsed(G, histories, metrics, referrer, as_of),
        "follow-up": follow_up,
        "unseen": unseen,
        "key-person-risk": _key_person_rows(histories, metrics, key_person_risk, referrer, names),
    }
    for name, rows in lists.items():
        for row in rows:
            row["priority"] = priority(name, row, metrics[row["referrer"]]["trend"])
            row["referrer_id"] = row["referrer"]
    return with_tasks(lists, G, today=as_of, names=names)


def priority(worklist: str, row: dict, trend: dict) -> float:
    """What is at stake on a row, comparable across the lists (``/today`` ranks by it): the referrer's
    referrals a year, times how pressing the list's reason is.

    The referrals a year are the more of its last 12 months and the 12 before
    (a lapsed referrer's are what the practice stands to lose), plus one (a
    new referrer's first referral counts). How pressing, by list:
    ``follow-up`` 1 + a week's worth per week overdue (0.5 while still
    due); ``new`` 1.5 in the first 30 days (first impressions), then 1;
    ``stalled`` 1 + a year's worth per year in stage 1; ``ready`` 1.5 (an
    opening); ``lapsed`` 2, or for a decline 1 + the share of referrals lost;
    ``key-person-risk`` 1.

    >>> priority("follow-up", {"days_overdue": 14}, {"last_12_months": 9, "previous_12_months": 4})
    30.0
    >>> priority("lapsed", {"reason": "declining", "change": -6}, {"last_12_months": 6, "previous_12_months": 12})
    19.5
    """
    stake = max(trend["last_12_months"], trend["previous_12_months"]) + 1
    if worklist == "follow-up":
        pressing = 1 + max(row["days_overdue"], 0) / 7 if row["days_overdue"] > 0 else 0.5
    elif worklist == "unseen":
        pressing = 1 + row["days_waiting"] / 21
    elif worklist == "new":
        pressing = 1.5 if row["days_since_first"] <= 30 else 1.0
    elif worklist == "stalled":
        pressing = 1 + row["days_in_stage"] / 365
    elif worklist == "ready":
        pressing = 1.5
    elif worklist == "lapsed":
        pressing = 2.0 if "lapsed" in row["reason"] else 1 - row["change"] / max(trend["previous_12_months"], 1)
    else:
        pressing = 1.0
    return round(stake * pressing, 1)


class Ranking(NamedTuple):
    """Every open row of the worklists, the most at stake first (``ranking``): what ``todays_work`` reads."""

    entries: list  # (rank, list name, row), rank = (-priority, the list's place, the row's id), sorted
    lists_of: dict  # referrer -> the lists it has an open row on, best first


def ranking(lists: dict) -> Ranking:
    """The open rows of ``lists`` (``worklists``'s, or some referrers' rows of them), ranked by
    ``priority`` (highest first), then the lists' order, then the row's id.

    >>> lists = {"stalled": [{"id": "a", "referrer": "x", "priority": 2.0, "task_status": "open"}],
    ...          "lapsed": [{"id": "b", "referrer": "x", "priority": 5.0, "task_status": "open"},
    ...                     {"id": "c", "referrer": "y", "priority": 9.0, "task_status": "done"}]}
    >>> r = ranking(lists)
    >>> [(name, row["id"]) for _, name, row in r.entries], r.lists_of
    ([('lapsed', 'b'), ('stalled', 'a')], {'x': ['lapsed', 'stalled']})
    """
    entries = [((-row["priority"], order, row["id"]), name, row)
               for order, (name, rows) in enumerate(lists.items())
               for row in rows if row["task_status"] == "open"]
    entries.sort(key=_first)
    lists_of: dict[str, list] = {}
    for _, name, row in entries:
        mine = lists_of.setdefault(row["referrer"], [])
        if name not in mine:
            mine.append(name)
    return Ranking(entries, lists_of)


def rerank(ranked: Ranking, old: dict, fresh: dict, changed) -> None:
    """``ranked`` with the entries of the rows ``old`` (by list) replaced by those of ``fresh``, the
    ``changed`` referrers' lists of open rows made again: in place, by bisection, as ``replace_rows``."""
    order = {name: i for i, name in enumerate(WORKLISTS)}
    entries = ranked.entries
    for name, rows in old.items():
        for row in rows:
            if row["task_status"] == "open":
                _remove(entries, ((-row["priority"], order[name], row["id"]), name, row), _first)
    new = ranking({name: fresh.get(name, []) for name in WORKLISTS})
    for entry in new.entries:
        insort(entries, entry, key=_first)
    for r in changed:
        ranked.lists_of.pop(r, None)
    ranked.lists_of.update(new.lists_of)


def _first(entry: tuple):
    return entry[0]


def todays_work(ranked: Ranking, *, limit: int = 15, member: str | None = None) -> list[dict]:
    """The few things most worth doing now: from ``ranked`` (``ranking``), the best row of each of the
    first ``limit`` referrers (one call covers a referrer's other rows, listed in ``also``), read from
    the top and no further than needed.

    With ``member``, only the rows of referrers it is the point person of and the rows assigned to it.
    Each item is the row with ``worklist`` (its list) and ``also`` (the referrer's other lists with an
    open row, best first).

    >>> def row(r, pp, priority, assigned=None, state="open"):
    ...     return {"id": f"{r}-{priority}", "referrer": r, "point_person": pp, "assigned_to": assigned,
    ...             "priority": priority, "task_status": state}
    >>> lists = {"follow-up": [row("x", "ana", 9.0)],
    ...          "lapsed": [row("y", "ben", 5.0, "ana"), row("z", "ben", 8.0, state="done")],
    ...          "stalled": [row("x", "ana", 4.0), row("w", "ben", 1.0)]}
    >>> [(i["worklist"], i["referrer"], i["also"]) for i in todays_work(ranking(lists), member="ana")]
    [('follow-up', 'x', ['stalled']), ('lapsed', 'y', [])]
    >>> [i["referrer"] for i in todays_work(ranking(lists), limit=2)]
    ['x', 'y']
    """
    items: dict[str, dict] = {}
    for _, name, row in ranked.entries:
        if len(items) == limit:
            break
        if member is not None and row["point_person"] != member and row["assigned_to"] != member:
            continue
        r = row["referrer"]
        if r not in items:
            items[r] = {**row, "worklist": name, "also": [n for n in ranked.lists_of[r] if n != name]}
    return list(items.values())


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
        row.update(id=row_id("new", r, first), days_since_first=days,
                   why=f"first referral {_ago(days)} ({first}); {_count(n, 'referral')} so far",
                   next_step=f"Bring your A game: see {'this client' if n == 1 else 'these clients'} quickly "
                             f"and report back to {row['name']}.")
        rows.append(row)
    rows.sort(key=SORT_KEYS["new"])
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
        row.update(id=row_id("stalled", r, since), stage_since=since, days_in_stage=days,
                   why=f"in stage 1 for {_count(days, 'day')} (since {since}); "
                       f"{_count(h['referrals'], 'referral')}, none addressed to a colleague of {pp}",
                   next_step=f"Get {row['name']} to try a colleague: {pp} introduces a colleague who suits "
                             f"{row['name']}'s clients (see the suggestions on the referrer's page).")
        rows.append(row)
    rows.sort(key=SORT_KEYS["stalled"])
    return rows


def _lapsed(G, histories, metrics, referrer, as_of) -> list[dict]:
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
        # The situation: a lapse since the last referral; a decline since the day it began.
        situation = (f"lapsed {last}" if h["lapsed"] else
                     f"declining {decline_start(_referral_dates(G, r), as_of)}")
        row.update(id=row_id("lapsed", r, situation), reason=" and ".join(reasons), days_since_last=days,
                   last_12_months=trend["last_12_months"], previous_12_months=trend["previous_12_months"],
                   change=trend["change"], why="; ".join(why), next_step=step)
        rows.append(row)
    rows.sort(key=SORT_KEYS["lapsed"])
    return rows


def _ready_and_follow_up(G, histories, referrer, names, *, as_of, ready_after, window, staff, follow_up_days,
                         lookback_days, unseen_days) -> tuple[list[dict], list[dict], list[dict]]:
    """The three lists that need a referrer's events, each referrer that can be on any walked once."""
    earliest = as_of - timedelta(days=lookback_days)
    practice = PracticeFlags(G)
    ready, follow_up, unseen = [], [], []
    for r, h in histories.items():
        # Only a referrer in stage 2 or 3 has tried a colleague; only one that referred since
        # `earliest` can have a referral waiting for a follow-up. The rest are never walked.
        can_be_ready = h["stage"] >= 2 and bool(staff)
        can_wait = h["referrals"] > 0 and h["first_referral"] <= as_of and h["last_referral"] >= earliest
        if not (can_be_ready or can_wait):
            continue
        referrals, follow_ups, introduced, covered = _events(G, r)
        if can_be_ready:
            row = _ready_row(G, r, h, referrals, introduced, referrer, names, practice, ready_after, window,
                             staff)
            if row is not None:
                ready.append(row)
        if can_wait:
            _follow_up_rows(follow_up, r, referrals, (follow_ups, covered), referrer, names, as_of, earliest,
                            follow_up_days)
            _unseen_rows(unseen, r, referrals, referrer, names, as_of, earliest, unseen_days)
    ready.sort(key=SORT_KEYS["ready"])
    follow_up.sort(key=SORT_KEYS["follow-up"])
    unseen.sort(key=SORT_KEYS["unseen"])
    return ready, follow_up, unseen


def _ready_row(G, r, h, referrals, introduced, referrer, names, practice, ready_after, window,
               staff) -> dict | None:
    found = stage_3_introduction(G, r, referrals, introduced, staff=staff, practice=practice,
                                 ready_after=ready_after, window=window)
    if found is None:
        return None
    coordinator, tried = found
    row = referrer(r)
    role = G.nodes[coordinator].get("role") or "staff member"
    pp = _who(row["point_person_name"])
    colleagues = listing(names(m) for m in tried)
    # The situation: this spell in stage 2 (a new spell is a new row, whichever coordinator it needs).
    row.update(id=row_id("ready", r, h["history"][-1]["date"]), colleagues_tried=len(tried),
               coordinator=coordinator, coordinator_name=names(coordinator),
               coordinator_role=role,
               why=f"in stage 2: has tried {_count(len(tried), 'colleague')} of {pp} ({colleagues}) "
                   f"but does not yet send to the practice as a whole",
               next_step=f"Introduce the {words(role)}: {pp} introduces {row['name']} to "
                         f"{names(coordinator)}, who takes referrals for the whole practice.")
    return row


def _follow_up_rows(rows, r, referrals, closers, referrer, names, as_of, earliest, follow_up_days) -> None:
    common = None
    for day, key, assigned, _ in _in_window(referrals, earliest, as_of):
        loop = rules.follow_up(day, _closing(closers, key), due_days=follow_up_days, as_of=as_of)
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
        rows.append({**common, "id": row_id("follow-up", r, key), "referral": key, "date": day,
                     "clinician": assigned, "clinician_name": clinician,
                     "due": due, "days_overdue": overdue, "status": loop.status,
                     "why": f"referred on {day} to {clinician}; no follow-up contact with {common['name']} "
                            f"since; {when}",
                     "next_step": f"Close the loop: {clinician} keeps {common['name']} informed about this "
                                  f"client (with the client's consent) and records the follow-up contact."})


def _unseen_rows(rows, r, referrals, referrer, names, as_of, earliest, unseen_days) -> None:
    """The referrer's referrals of the look-back window, ``unseen_days`` old or more, with no first visit and
    no end (declined, no show, referred out: a known outcome, nothing to chase)."""
    common = None
    for day, key, assigned, data in _in_window(referrals, earliest, as_of - timedelta(days=unseen_days)):
        status, since = rules.current_status(day, data["statuses"])
        if status not in ("received", "contacted", "scheduled"):
            continue
        if common is None:
            common = referrer(r)
        clinician = names(assigned)
        waiting = (as_of - day).days
        if status == "scheduled":
            step = (f"Chase: {clinician} checks whether the first visit scheduled on {since} happened, and records "
                    f"it (or the no show).")
        else:
            step = (f"Chase: {clinician} calls the client {'again ' if status == 'contacted' else ''}to schedule a "
                    f"first visit before the client looks elsewhere.")
        rows.append({**common, "id": row_id("unseen", r, key), "referral": key, "date": day, "clinician": assigned,
                     "clinician_name": clinician, "referral_status": status, "status_on": since,
                     "days_waiting": waiting,
                     "why": f"referred on {day} to {clinician}; still {words(status)} (since {since}) after "
                            f"{_count(waiting, 'day')}, with no first visit",
                     "next_step": step})


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
        a later one), ``due`` (open, still in time) and ``overdue``: the sum of
        ``follow_up_counts`` over the referrers.

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
    return sum_follow_ups(follow_up_counts(G, histories, as_of=as_of, follow_up_days=follow_up_days,
                                           lookback_days=lookback_days).values())


def follow_up_counts(G, histories: dict, *, as_of: date, follow_up_days: int = DEFAULT_ANALYSIS.follow_up_days,
                     lookback_days: int = 90) -> dict:
    """``follow_up_figures``'s counts per referrer (only the referrers with referrals in the window), so that a
    live analysis counts again just the referrers a write changed."""
    earliest = as_of - timedelta(days=lookback_days)
    out = {}
    for r, h in histories.items():
        if not (h["referrals"] and h["first_referral"] <= as_of and h["last_referral"] >= earliest):
            continue
        referrals, follow_ups, _, covered = _events(G, r)
        counts = dict.fromkeys(("on_time", "late", "due", "overdue"), 0)
        for day, key, *_ in _in_window(referrals, earliest, as_of):
            counts[rules.follow_up(day, _closing((follow_ups, covered), key), due_days=follow_up_days,
                                   as_of=as_of).status] += 1
        out[r] = counts
    return out


def sum_follow_ups(per_referrer) -> dict:
    """``follow_up_counts``'s values summed: ``referrals``, ``on_time``, ``late``, ``due``, ``overdue``."""
    total = dict.fromkeys(("on_time", "late", "due", "overdue"), 0)
    for counts in per_referrer:
        for k, n in counts.items():
            total[k] += n
    return {"referrals": sum(total.values()), **total}


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
        # The situation: depending on these clinicians, in this stage spell.
        spell = h["history"][-1]["date"] if h["history"] else None
        row.update(id=row_id("key-person-risk", r, f"{';'.join(clinicians)} {spell}"), depends_on=clinicians,
                   depends_on_names=[names(c) for c in clinicians],
                   referrals_last_12_months=metrics[r]["trend"]["last_12_months"],
                   why="; ".join(why),
                   next_step=f"Broaden the relationship: {_who(row['point_person_name'])} introduces "
                             f"{row['name']} to a colleague, so its referrals no longer depend on {who} alone.")
        rows.append(row)
    rows.sort(key=SORT_KEYS["key-person-risk"])
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


def _events(G, r) -> tuple[list, list, set, dict]:
    """A referrer's referrals as ``(date, id, assigned, data)`` sorted (the order of
    ``referrals.referral_edges``: by date, then id), its follow-up contact dates
    sorted, the members introduced to it, and the updates sent to it by the
    referral they covered (``{referral id: [dates]}``).

    One walk of the adjacency dicts for all four (as ``metrics`` does), not
    ``referral_edges`` and a second walk for the contacts and introductions;
    nothing is kept once the referrer's rows are made.
    """
    referrals, follow_ups, introduced, covered = [], [], set(), {}
    for member, keyed in G._adj[r].items():
        for key, data in keyed.items():
            kind = data["type"]
            if kind == "referral":
                referrals.append((data["date"], key, member, data))
            elif kind == "introduction":
                introduced.add(member)
            elif kind == "contact":
                if data["contact_kind"] == "follow_up":
                    follow_ups.append(data["date"])
                elif data["contact_kind"] == "update_sent":
                    for referral in data.get("covers", ()):
                        covered.setdefault(referral, []).append(data["date"])
    referrals.sort(key=_by_date_and_id)
    follow_ups.sort()
    return referrals, follow_ups, introduced, covered


def _closing(closers: tuple[list, dict], referral: str) -> list:
    """The dates that can close a referral's loop (``rules.follow_up``): the referrer's follow-ups, and
    the updates that covered this referral."""
    follow_ups, covered = closers
    return sorted(follow_ups + covered[referral]) if referral in covered else follow_ups


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
