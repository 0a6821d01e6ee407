"""Where each referrer stands in the three stages, and how it got there.

Stage rules, evaluated after each referral in date order (ties by id):

* 0, new: no referral yet.
* 3, whole practice: entered when at least half of its last ``window``
  referrals (all of them while it has fewer) were addressed to the practice
  as a whole; a referral addressed to a staff member counts as addressed to the
  practice. Left only when **none** of its last ``window`` referrals was, so a
  referrer in stage 3 stays there while any of them was
  (``rules.whole_practice``).
* 2, trying colleagues: otherwise, if any referral so far was addressed to a
  clinician other than the point person on that referral's date. Never left
  for stage 1.
* 1, point person: otherwise.

A referrer leaving stage 3 falls to 2 or 1 by the same rules.
"""

from __future__ import annotations

from collections import deque
from datetime import date

from ..config import DEFAULT_ANALYSIS
from ..rules import point_person_finder, tries_colleague, whole_practice
from .referrals import PracticeFlags, referral_edges


def stage_histories(G, referrers=None, *, window: int = DEFAULT_ANALYSIS.window,
                    stall_days: int = DEFAULT_ANALYSIS.stall_days,
                    lapse_days: int = DEFAULT_ANALYSIS.lapse_days, as_of: date | None = None) -> dict:
    """Stage, stage history and pace of each referrer.

    Parameters
    ----------
    G : networkx.MultiDiGraph
        A referral graph (``graphsvc.analysis.graph``).
    referrers : iterable, optional
        Referrer ids; all referrers when omitted.
    window : int
        How many recent referrals decide stage 3: at least half of them
        addressed to the practice to enter it, none to leave it.
    stall_days, lapse_days : int
        Thresholds for ``stalled`` and ``lapsed``.
    as_of : date, optional
        The day to judge ``stalled`` and ``lapsed`` on; today when omitted.

    Returns
    -------
    dict
        Keyed by referrer: ``stage``, ``history`` (each change as
        ``{"stage", "date", "referral"}``), ``reached`` (stage -> first date),
        ``first_referral``, ``last_referral``, ``referrals``,
        ``days_to_stage_2``, ``days_to_stage_3``, ``jumped``, ``stalled``,
        ``lapsed``.

    Examples
    --------
    >>> from datetime import date
    >>> from graphsvc.analysis import graph as p
    >>> G = p.new_graph()
    >>> p.add_member(G, "ana"); p.add_member(G, "ben")
    >>> p.add_referrer(G, "drx", point_person="ana", since=date(2024, 1, 1))
    >>> p.add_referral(G, "drx", "r1", date(2024, 2, 1), "ana")
    >>> p.add_referral(G, "drx", "r2", date(2024, 3, 1), "ben")
    >>> h = stage_histories(G, as_of=date(2024, 6, 1))["drx"]
    >>> h["stage"], h["days_to_stage_2"]
    (2, 29)
    """
    as_of = as_of or date.today()
    if referrers is None:
        referrers = [n for n, kind in G.nodes(data="kind") if kind == "referrer"]
    practice = PracticeFlags(G)
    return {r: _history(G, r, window, stall_days, lapse_days, as_of, practice) for r in referrers}


def _history(G, referrer, window, stall_days, lapse_days, as_of, practice: PracticeFlags) -> dict:
    point_person = point_person_finder(G.nodes[referrer]["tenures"])
    referrals = referral_edges(G, referrer)
    recent = deque(maxlen=window)
    tried_colleague = False
    stage = 0
    history, reached = [], {}
    spell_start = None
    for _, _assigned, key, data in referrals:
        addressed = data["addressed_to"]
        flag = practice[addressed]
        recent.append(flag)
        # rules.tries_colleague, its two lookups done once per addressee (flag) and per referrer
        if not tried_colleague:
            tried_colleague = tries_colleague(addressed, to_practice=flag, point_person=point_person(data["date"]))
        new = 3 if whole_practice(recent, stage == 3) else 2 if tried_colleague else 1
        if new != stage:
            stage = new
            spell_start = data["date"]
            history.append({"stage": stage, "date": data["date"], "referral": key})
            reached.setdefault(stage, data["date"])
    first = referrals[0][3]["date"] if referrals else None
    last = referrals[-1][3]["date"] if referrals else None
    count = len(referrals)
    return {
        "stage": stage,
        "history": history,
        "reached": reached,
        "referrals": count,
        "first_referral": first,
        "last_referral": last,
        "days_to_stage_2": (reached[2] - first).days if 2 in reached else None,
        "days_to_stage_3": (reached[3] - first).days if 3 in reached else None,
        "jumped": 3 in reached and 2 not in reached,
        "stalled": stage == 1 and count >= 3 and (as_of - spell_start).days > stall_days,
        "lapsed": count >= 3 and (as_of - last).days > lapse_days,
    }


def stage_counts(histories: dict) -> dict[int, int]:
    """How many referrers are in each stage (0 to 3)."""
    counts = {0: 0, 1: 0, 2: 0, 3: 0}
    for h in histories.values():
        counts[h["stage"]] += 1
    return counts


def monthly_stage_counts(G, histories: dict, *, as_of: date | None = None) -> list[dict]:
    """Stage counts at the end of each month, from the first referrer's start to ``as_of``.

    A referrer counts from the month its relationship began, or of its first
    event if earlier (stage 0 until its first referral). Returns
    ``[{"month": "YYYY-MM", "stages": {0: n, 1: n, 2: n, 3: n}}, ...]``.
    """
    as_of = as_of or date.today()
    starts = [s for s in (_start(G, r, h) for r, h in histories.items()) if s is not None]
    if not starts:
        return []
    first = min(starts)
    months = _month_keys(first, as_of)
    index = {m: i for i, m in enumerate(months)}
    # Difference arrays: +1 when a referrer enters a stage in a month, -1 when it leaves.
    delta = {s: [0] * (len(months) + 1) for s in range(4)}
    for r, h in histories.items():
        start = _start(G, r, h)
        if start is None or start > as_of:
            continue
        spans = [(0, start)] + [(c["stage"], c["date"]) for c in h["history"] if c["date"] <= as_of]
        for (stage, began), nxt in zip(spans, spans[1:] + [(None, None)], strict=False):
            i = index[_month(max(began, first))]
            delta[stage][i] += 1
            if nxt[1] is not None:
                delta[stage][index[_month(nxt[1])]] -= 1
    out = []
    running = {s: 0 for s in range(4)}
    for i, m in enumerate(months):
        for s in range(4):
            running[s] += delta[s][i]
        out.append({"month": m, "stages": dict(running)})
    return out


def _start(G, referrer, history) -> date | None:
    """When a referrer enters the counts: its start, or an earlier first event of any kind.

    The same rule ``graph.as_of`` keeps a referrer by, so the last month of
    ``monthly_stage_counts`` counts every referrer of the headline.
    """
    known = [d for d in (G.nodes[referrer]["since"], history["first_referral"]) if d is not None]
    known += [e["date"] for _, _, e in G.out_edges(referrer, data=True)]
    return min(known) if known else None


def _month(d: date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def _month_keys(first: date, last: date) -> list[str]:
    keys, y, m = [], first.year, first.month
    while (y, m) <= (last.year, last.month):
        keys.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return keys
