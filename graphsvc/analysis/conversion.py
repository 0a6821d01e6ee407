"""Conversion and leakage: how many referrals reach a first visit, and how fast.

A referral is judged once it has had ``wait_days`` to reach a first visit:
the referrals dated in the ``months`` months up to ``as_of``, and
``wait_days`` or more before it (younger ones are still on their way; the
``unseen`` worklist takes them from the day they are due). Each judged
referral either reached a ``first_visit`` (by ``as_of``), ended without one
(``declined``, ``no_show``, ``referred_out``: leaked), or is still waiting
(no first visit and no end recorded: leaked unless it comes).

``referral_outcomes`` reads the graph once and keeps, per referrer, the
counts and the days each first visit took; ``conversion`` sums any group of
referrers (one, a kind, the practice) into ``referrals``, ``first_visits``,
``share`` (first visits / referrals), ``median_days`` (referral to first
visit), ``ended`` and ``waiting``.
"""

from __future__ import annotations

from datetime import date, timedelta
from statistics import median

from ..config import DEFAULT_ANALYSIS
from ..vocabulary import REFERRAL_ENDS


def referral_outcomes(G, referrers=None, *, as_of: date, wait_days: int = DEFAULT_ANALYSIS.unseen_days,
                      months: int = 12) -> dict:
    """Per referrer, what became of its judged referrals (see the module docstring).

    Parameters
    ----------
    G : networkx.MultiDiGraph
        A referral graph (``graphsvc.analysis.graph``); referral edges carry ``statuses``.
    referrers : iterable of str, optional
        The referrers to judge; every referrer when omitted.
    as_of : date
        The day judged on.
    wait_days : int
        Days a referral is given to reach a first visit before it is judged.
    months : int
        How far back referrals are judged (whole years of 365 days per 12 months).

    Returns
    -------
    dict
        ``{referrer: {"referrals", "first_visits", "ended", "days"}}``, ``days`` the days each first
        visit took, sorted.

    Examples
    --------
    >>> from datetime import date
    >>> from graphsvc.analysis import graph as p
    >>> G = p.new_graph(); p.add_member(G, "ana"); p.add_referrer(G, "drx", point_person="ana", since=date(2024, 1, 1))
    >>> p.add_referral(G, "drx", "a", date(2024, 11, 1), "ana", statuses={"first_visit": date(2024, 11, 13)})
    >>> p.add_referral(G, "drx", "b", date(2024, 11, 5), "ana", statuses={"no_show": date(2024, 11, 20)})
    >>> p.add_referral(G, "drx", "c", date(2024, 11, 9), "ana")
    >>> p.add_referral(G, "drx", "d", date(2024, 12, 20), "ana")  # 11 days old: not judged yet
    >>> referral_outcomes(G, as_of=date(2024, 12, 31))
    {'drx': {'referrals': 3, 'first_visits': 1, 'ended': 1, 'days': [12]}}
    """
    if referrers is None:
        referrers = [n for n, kind in G.nodes(data="kind") if kind == "referrer"]
    earliest = as_of - timedelta(days=round(months * 365 / 12))
    latest = as_of - timedelta(days=wait_days)
    out = {}
    for r in referrers:
        judged = seen = ended = 0
        days = []
        for keyed in G._adj[r].values():
            for data in keyed.values():
                if data["type"] != "referral" or not earliest < data["date"] <= latest:
                    continue
                judged += 1
                statuses = data.get("statuses") or {}
                visit = statuses.get("first_visit")
                if visit is not None and visit <= as_of:
                    seen += 1
                    days.append((visit - data["date"]).days)
                elif any(statuses.get(end) is not None and statuses[end] <= as_of for end in REFERRAL_ENDS):
                    ended += 1
        days.sort()
        out[r] = {"referrals": judged, "first_visits": seen, "ended": ended, "days": days}
    return out


def conversion(outcomes: dict, referrers=None) -> dict:
    """The conversion of a group of referrers (all of ``outcomes`` when ``referrers`` is omitted).

    Returns
    -------
    dict
        ``referrals`` judged, ``first_visits``, ``share`` (None without referrals), ``median_days`` to a
        first visit (None without one), ``ended`` (declined, no show, referred out) and ``waiting``.

    Examples
    --------
    >>> conversion({"x": {"referrals": 3, "first_visits": 2, "ended": 1, "days": [5, 12]},
    ...             "y": {"referrals": 2, "first_visits": 1, "ended": 0, "days": [30]}})
    {'referrals': 5, 'first_visits': 3, 'share': 0.6, 'median_days': 12, 'ended': 1, 'waiting': 1}
    """
    chosen = outcomes.values() if referrers is None else (outcomes[r] for r in referrers if r in outcomes)
    judged = seen = ended = 0
    days = []
    for o in chosen:
        judged += o["referrals"]
        seen += o["first_visits"]
        ended += o["ended"]
        days += o["days"]
    return {"referrals": judged, "first_visits": seen, "share": round(seen / judged, 4) if judged else None,
            "median_days": median(days) if days else None, "ended": ended, "waiting": judged - seen - ended}
