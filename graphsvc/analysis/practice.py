"""Practice-level views: how much each clinician shares, who opens doors, who is a key person.

``clinician_sharing`` answers "who opens doors for colleagues": per member,
the referrers it is point person for, the referrals it passed on and took
over, the introductions it made and how many of them led to a referral, and
the referrals it received from referrers it had been introduced to.

``bridge_members`` counts for how many referrers each member was the first
colleague tried after the point person.

``key_person_risk`` answers "what would we lose if this clinician left": per
clinician, the referrers that depend on it alone (in stage 1 with it as
point person, or every recent referral assigned to it), and how many
referrals they sent in the last 12 months.
"""

from __future__ import annotations

import calendar
from collections import Counter, defaultdict
from datetime import date

from .referrals import colleague_tried, current_point_person, referral_edges


def clinician_sharing(G) -> dict:
    """Per member: point person for, passes made/received, introductions and what they led to.

    Returns
    -------
    dict
        Keyed by member (clinicians and staff): ``point_person_for`` (referrers
        it is the current point person of), ``passes_made`` (referrals
        addressed to it that went to a colleague), ``passes_received``,
        ``introductions_made``, ``introductions_led`` (of those, how many were
        followed, on or after the introduction's date, by a referral from that
        referrer addressed or assigned to the introduced member: the track
        record suggestions use), ``introduced`` (introductions of it) and
        ``referrals_via_introductions`` (referrals assigned to it by referrers
        on or after it was first introduced to them).

    Examples
    --------
    >>> from datetime import date
    >>> from graphsvc.analysis import graph as p
    >>> G = p.new_graph()
    >>> p.add_member(G, "ana"); p.add_member(G, "ben"); p.add_member(G, "cai")
    >>> p.add_referrer(G, "drx", point_person="ana", since=date(2024, 1, 1))
    >>> p.add_introduction(G, "drx", "i1", date(2024, 1, 5), "ben", by="ana")
    >>> p.add_introduction(G, "drx", "i2", date(2024, 1, 5), "cai", by="ana")
    >>> p.add_referral(G, "drx", "r1", date(2024, 2, 1), "ben")
    >>> s = clinician_sharing(G)
    >>> s["ana"]["introductions_made"], s["ana"]["introductions_led"], s["ben"]["referrals_via_introductions"]
    (2, 1, 1)
    """
    members = [n for n, kind in G.nodes(data="kind") if kind in ("clinician", "staff")]
    out = {m: {"point_person_for": 0, "passes_made": 0, "passes_received": 0, "introductions_made": 0,
               "introductions_led": 0, "introduced": 0, "referrals_via_introductions": 0} for m in members}
    for r, kind in G.nodes(data="kind"):
        if kind != "referrer":
            continue
        current = current_point_person(G, r)
        if current in out:
            out[current]["point_person_for"] += 1
        referrals = referral_edges(G, r)
        last_named: dict = {}  # member -> date of r's latest referral addressed or assigned to it
        for _, assigned, _, data in referrals:  # date order: the last one wins
            last_named[assigned] = last_named[data["addressed_to"]] = data["date"]
        introduced_on: dict[str, object] = {}
        for _, member, _, data in G.out_edges(r, keys=True, data=True):
            if data["type"] == "introduction":
                out[member]["introduced"] += 1
                if data["by"] in out:
                    out[data["by"]]["introductions_made"] += 1
                    if member in last_named and last_named[member] >= data["date"]:
                        out[data["by"]]["introductions_led"] += 1
                if member not in introduced_on or data["date"] < introduced_on[member]:
                    introduced_on[member] = data["date"]
        for _, assigned, _, data in referrals:
            if data["pass_reason"]:
                if data["addressed_to"] in out:
                    out[data["addressed_to"]]["passes_made"] += 1
                out[assigned]["passes_received"] += 1
            since = introduced_on.get(assigned)
            if since is not None and data["date"] >= since:
                out[assigned]["referrals_via_introductions"] += 1
    return out


def bridge_members(G) -> dict:
    """For how many referrers each member was the first colleague tried.

    A referrer's first referral addressed to a clinician other than its point
    person on that date (``rules.tries_colleague``) names the colleague
    that opened the rest of the practice to it.

    Returns
    -------
    dict
        Keyed by member (clinicians and staff): ``first_colleague_for``.

    Examples
    --------
    >>> from datetime import date
    >>> from graphsvc.analysis import graph as p
    >>> G = p.new_graph()
    >>> p.add_member(G, "ana"); p.add_member(G, "ben"); p.add_member(G, "cai")
    >>> p.add_referrer(G, "drx", point_person="ana", since=date(2024, 1, 1))
    >>> p.add_referral(G, "drx", "r1", date(2024, 2, 1), "ben")
    >>> p.add_referral(G, "drx", "r2", date(2024, 3, 1), "cai")
    >>> {m: b["first_colleague_for"] for m, b in bridge_members(G).items()}
    {'ana': 0, 'ben': 1, 'cai': 0}
    """
    first_colleague: Counter = Counter()
    for r, kind in G.nodes(data="kind"):
        if kind != "referrer":
            continue
        tenures = G.nodes[r]["tenures"]
        for _, _, _, data in referral_edges(G, r):
            if colleague_tried(G, tenures, data):
                first_colleague[data["addressed_to"]] += 1
                break
    return {m: {"first_colleague_for": first_colleague[m]}
            for m, kind in G.nodes(data="kind") if kind in ("clinician", "staff")}


def key_person_risk(G, histories: dict, *, as_of: date, months: int = 12) -> dict:
    """Per clinician, the referrers the practice could lose with it, and their recent referrals.

    A referrer is at risk for clinician ``c`` when (a) it is in stage 1 (per
    ``histories``) with ``c`` as its current point person, or (b) every one
    of its referrals in the last ``months`` months up to ``as_of`` (at least
    one) was assigned to ``c``.

    Parameters
    ----------
    G : networkx.MultiDiGraph
        A referral graph (``graphsvc.analysis.graph``).
    histories : dict
        ``stages.stage_histories`` of the referrers to judge; others are left out.
    as_of : date
        The last day of the window.
    months : int
        The window: referrals dated after the same day ``months`` months
        before ``as_of``, up to and including ``as_of`` (as ``trend`` in
        ``metrics`` counts its 12 months).

    Returns
    -------
    dict
        Keyed by every clinician: ``referrers`` (sorted ids, empty if none),
        ``count`` and ``referrals_last_12_months``, the at-risk referrers'
        referrals in the window (what the practice stands to lose a year if
        the clinician leaves; the key keeps its name for other ``months``).

    Examples
    --------
    >>> from datetime import date
    >>> from graphsvc.analysis import graph as p
    >>> from graphsvc.analysis.stages import stage_histories
    >>> G = p.new_graph()
    >>> p.add_member(G, "ana"); p.add_member(G, "ben")
    >>> p.add_referrer(G, "drx", point_person="ana", since=date(2024, 1, 1))
    >>> p.add_referral(G, "drx", "r1", date(2024, 2, 1), "ana")
    >>> p.add_referral(G, "drx", "r2", date(2024, 3, 1), "ana", "ben", pass_reason="insurance")
    >>> risk = key_person_risk(G, stage_histories(G, as_of=date(2024, 6, 1)), as_of=date(2024, 6, 1))
    >>> risk["ana"], risk["ben"]["count"]
    ({'referrers': ['drx'], 'count': 1, 'referrals_last_12_months': 2}, 0)
    """
    since = _months_before(as_of, months)
    at_risk: dict = defaultdict(set)
    in_window: dict = {}
    for r, h in histories.items():
        assigned = [a for _, a, _, data in referral_edges(G, r) if since < data["date"] <= as_of]
        in_window[r] = len(assigned)
        if h["stage"] == 1:
            pp = current_point_person(G, r)
            if pp is not None:
                at_risk[pp].add(r)
        if assigned and all(a == assigned[0] for a in assigned):
            at_risk[assigned[0]].add(r)
    out = {}
    for c, kind in G.nodes(data="kind"):
        if kind != "clinician":
            continue
        referrers = sorted(at_risk.get(c, ()))
        out[c] = {"referrers": referrers, "count": len(referrers),
                  "referrals_last_12_months": sum(in_window[r] for r in referrers)}
    return out


def practice_summary(G, histories: dict, metrics: dict) -> dict:
    """Headline numbers for managers, from already computed histories and metrics."""
    referrers = list(histories)
    stages = defaultdict(int)
    for h in histories.values():
        stages[h["stage"]] += 1
    return {
        "referrers": len(referrers),
        "referrals": sum(h["referrals"] for h in histories.values()),
        "stages": {s: stages.get(s, 0) for s in range(4)},
        "jumped": sum(h["jumped"] for h in histories.values()),
        "stalled": sum(h["stalled"] for h in histories.values()),
        "lapsed": sum(h["lapsed"] for h in histories.values()),
        "passes": sum(m["passes_total"] for m in metrics.values()),
    }


def _months_before(day: date, months: int) -> date:
    """The same day ``months`` months earlier (that month's last day if it is shorter)."""
    y, m = divmod(day.year * 12 + day.month - 1 - months, 12)
    return day.replace(year=y, month=m + 1, day=min(day.day, calendar.monthrange(y, m + 1)[1]))
