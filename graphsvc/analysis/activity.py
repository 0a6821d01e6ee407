"""Practice activity over time: referrals by month, outreach and what followed it, work sent away.

``monthly_activity`` is the dashboard's time line: per month, referrals, how
many were addressed to the practice as a whole, active and new referrers, the
stages first reached, and the median effective breadth of the referrers so far.

``outreach`` counts contacts (lunches, talks, school consults, ...) by kind,
member and month, and per contact kind how often a contact was **followed**
within ``within_days`` by a stage increase of the referrer contacted, beside
a baseline: how often any day of a referrer at the same stage is followed by
one. It says "followed by", never "caused by": a contact is often made
because a referrer is already warming up.

``coverage`` counts referrals out to external providers by niche and
provider; ``niches_sent_away`` ranks the niches the practice sends away, the
candidates for a hire.

All take a graph built by ``graphsvc.analysis.graph`` and an ``as_of`` day:
events dated after it are left out, so a graph that was not cut with
``graph.as_of`` gives the same answers as one that was (referrers are those
of ``histories`` where a function takes it). Each walks the edges once.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections import Counter, defaultdict
from datetime import date

import numpy as np

from ..vocabulary import CONTACT_KINDS
from .metrics import _round
from .practice import _months_before
from .referrals import PracticeFlags
from .stages import _month, _month_keys


def monthly_activity(G, histories: dict, metrics: dict | None = None, *, as_of: date) -> list[dict]:
    """Referrals, share to the practice, active referrers and median breadth, month by month.

    Parameters
    ----------
    G : networkx.MultiDiGraph
        A referral graph (``graphsvc.analysis.graph``).
    histories : dict
        ``stages.stage_histories``: the referrers to count (others are left
        out) and the dates they first reached each stage.
    metrics : dict, optional
        Not used: each month needs the breadth as it stood at that month's
        end, which ``referrer_metrics`` (as of one day) does not hold.
        Accepted so the call reads as ``practice_summary``'s.
    as_of : date
        The last day counted; the last row is its month (partial).

    Returns
    -------
    list of dict
        One row per month, from the month of the first event (of any kind)
        of these referrers to ``as_of``'s month, none missing:

        * ``month``: ``"YYYY-MM"``;
        * ``referrals``: referrals dated in the month;
        * ``addressed_to_practice``: of those, addressed to the practice as
          a whole (a staff member counts as the practice, as in the stage
          rules); ``practice_share``: the ratio, None without referrals;
        * ``referrers_active``: distinct referrers with a referral in the
          month; ``new_referrers``: those whose first referral it was;
        * ``reached``: ``{1: n, 2: n, 3: n}``, referrers that first reached
          that stage in the month (``histories[r]["reached"]``);
        * ``median_effective_breadth``: the median, over every referrer with
          at least one referral by the month's end, of its effective breadth
          on its referrals up to then (1 / Herfindahl index of its referrals
          over assigned clinicians, as ``metrics`` defines it); None before
          the first referral.

    Notes
    -----
    Each referrer's clinician counts are kept as its referrals come, month
    after month (``n`` and the sum of squared counts are enough: the
    effective breadth is ``n**2 / sum(c**2)``), so only the referrers active
    in a month get a new value; the Python work is O(referrals). The median
    itself is a ``numpy.median`` (a partition, in C) over the referrers
    begun so far: O(months x referrers), but about a millisecond a month at
    100,000 referrers.

    Examples
    --------
    >>> from datetime import date
    >>> from graphsvc.analysis import graph as p
    >>> from graphsvc.analysis.stages import stage_histories
    >>> G = p.new_graph()
    >>> p.add_member(G, "ana"); p.add_member(G, "ben")
    >>> p.add_referrer(G, "drx", point_person="ana", since=date(2024, 1, 1))
    >>> p.add_referral(G, "drx", "r1", date(2024, 1, 5), "ana")
    >>> p.add_referral(G, "drx", "r2", date(2024, 3, 1), "practice", "ben")
    >>> rows = monthly_activity(G, stage_histories(G, as_of=date(2024, 3, 31)), as_of=date(2024, 3, 31))
    >>> [(r["month"], r["referrals"], r["practice_share"], r["median_effective_breadth"]) for r in rows]
    [('2024-01', 1, 0.0, 1.0), ('2024-02', 0, None, 1.0), ('2024-03', 1, 1.0, 2.0)]
    """
    practice = PracticeFlags(G)
    tally = _MonthTally()
    first_event = date.max
    for r in histories:
        first_event = min(first_event, tally.referrer(G, r, as_of, practice))
    if first_event == date.max:
        return []
    base = first_event.year * 12 + first_event.month - 1
    reached = _reached_by_month(histories, first_event, as_of)
    breadth = np.zeros(tally.number)
    begun = np.zeros(tally.number, dtype=bool)  # a referrer's first update is in its first month
    rows = []
    for i, month in enumerate(_month_keys(first_event, as_of)):
        m = base + i
        if m in tally.updated:
            who, values = tally.updated[m]
            breadth[who] = values
            begun[who] = True
        n = tally.referrals.get(m, 0)
        addressed = tally.addressed.get(m, 0)
        rows.append({
            "month": month,
            "referrals": n,
            "addressed_to_practice": addressed,
            "practice_share": _round(addressed / n) if n else None,
            "referrers_active": tally.active.get(m, 0),
            "new_referrers": tally.new.get(m, 0),
            "reached": reached.get(m, {1: 0, 2: 0, 3: 0}),
            "median_effective_breadth": _round(float(np.median(breadth[begun]))) if begun.any() else None,
        })
    return rows


class _MonthTally:
    """``monthly_activity``'s counts, month by month, a referrer at a time.

    Months are whole numbers (year * 12 + month - 1) and the tallies flat
    dicts and arrays: at 100,000 referrers, a list per referrer and month kept
    to the end made Python's garbage collector walk them again and again (it
    tripled the run).
    """

    def __init__(self):
        self.referrals: dict[int, int] = {}
        self.addressed: dict[int, int] = {}
        self.active: dict[int, int] = {}
        self.new: dict[int, int] = {}
        # Per month: the referrers (by number) with a referral in it, and their breadth at its end.
        self.updated: dict[int, tuple] = {}
        self.number = 0

    def referrer(self, G, r, as_of: date, practice) -> date:
        """Count one referrer's referrals up to ``as_of``; returns its first event's day (``date.max``: none)."""
        first_event = date.max
        months, members = [], []
        for member, keyed in G._adj[r].items():
            for data in keyed.values():
                day = data["date"]
                if day > as_of:
                    continue
                if day < first_event:
                    first_event = day
                if data["type"] == "referral":
                    m = day.year * 12 + day.month - 1
                    months.append(m)
                    members.append(member)
                    self.referrals[m] = self.referrals.get(m, 0) + 1
                    if practice[data["addressed_to"]]:
                        self.addressed[m] = self.addressed.get(m, 0) + 1
        if months:
            self._breadth(months, members)
            self.number += 1
        return first_event

    def _breadth(self, months: list, members: list) -> None:
        """Its effective breadth at the end of each month it referred in (``n**2 / sum(c**2)``)."""
        order = sorted(range(len(months)), key=months.__getitem__)
        self.new[months[order[0]]] = self.new.get(months[order[0]], 0) + 1
        counts: dict = {}
        n = squares = 0
        for j, i in enumerate(order):
            c = counts.get(members[i], 0)
            counts[members[i]] = c + 1
            squares += 2 * c + 1  # (c + 1)**2 - c**2: the Herfindahl sum, kept as counts grow
            n += 1
            m = months[i]
            if j + 1 == len(order) or months[order[j + 1]] != m:  # the month's last referral
                self.active[m] = self.active.get(m, 0) + 1
                slot = self.updated.get(m)
                if slot is None:
                    slot = self.updated[m] = (array("q"), array("d"))
                slot[0].append(self.number)
                slot[1].append(n * n / squares)


def _reached_by_month(histories: dict, first_event: date, as_of: date) -> dict[int, dict]:
    """Referrers that first reached each stage, by month (whole numbers, as ``_MonthTally``'s)."""
    reached: dict[int, dict] = {}
    for h in histories.values():
        for stage, day in h["reached"].items():
            if stage in (1, 2, 3) and first_event <= day <= as_of:
                m = day.year * 12 + day.month - 1
                reached.setdefault(m, {1: 0, 2: 0, 3: 0})[stage] += 1
    return reached


def outreach(G, histories: dict, *, as_of: date, within_days: int = 90) -> dict:
    """Contacts by kind, member and month, and how often each kind was followed by a stage increase.

    A contact is **followed** when the referrer's stage rose (a change to a
    higher stage in ``histories[r]["history"]``, the first referral's
    0 -> 1, 2 or 3 included) on a day strictly after the contact's date and
    at most ``within_days`` days after it: with ``within_days=90``, a rise 90
    days after a contact counts, one 91 days after does not, nor one on the
    contact's own day (which came first is not known). Only contacts whose
    whole window has passed by ``as_of`` (contact date + ``within_days`` <=
    ``as_of``) are judged; the others are counted as ``pending``, so a
    recent contact is neither a success nor a failure yet.

    The **baseline** is what the share would be if the contacts had been
    made on days picked at random from the referrers' lives: over every
    referrer-day (each day from a referrer's start, its ``since`` or first
    event, to ``as_of - within_days``, contacted or not), the share followed
    by a stage increase within ``within_days``, taken per stage on that day
    (``baseline_by_stage``), then weighted by the stages of the judged
    contacts of the kind (a referrer in stage 3 can rise only after falling
    back, one in stage 0 rises with its first referral: against one overall
    rate, a kind would be flattered or shamed for the referrers it reaches,
    not for what follows). ``share`` well above ``baseline`` says contacts of that kind
    tend to come before rises; it does not say they cause them.

    Parameters
    ----------
    G : networkx.MultiDiGraph
        A referral graph (``graphsvc.analysis.graph``).
    histories : dict
        ``stages.stage_histories`` of the referrers to count (others are
        left out), computed on the same graph.
    as_of : date
        The last day counted.
    within_days : int
        The follow-up window, in days after the contact.

    Returns
    -------
    dict
        * ``by_kind``: ``{kind: contacts}``, every kind of
          ``vocabulary.CONTACT_KINDS`` (then any other kind found);
        * ``by_member``: ``{member: {kind: contacts}}`` for every clinician
          and staff member (zeros for one with none), by id;
        * ``by_month``: ``[{"month": "YYYY-MM", "total": n, kind: n, ...}]``
          from the first contact's month to ``as_of``'s, none missing;
        * ``follow_up``: ``{kind: {...}}`` for each kind, and ``"all"``:
          ``contacts``, ``referrers`` (distinct referrers contacted),
          ``pending``, ``judged``, ``followed`` (judged contacts followed by
          a stage increase), ``share`` (followed / judged, None if none
          judged) and ``baseline`` (None when no referrer-day exists);
        * ``baseline_by_stage``: ``{0: share, 1: share, 2: share, 3: share}``
          (None for a stage no referrer-day was in);
        * ``within_days`` and ``as_of``.

    Examples
    --------
    >>> from datetime import date
    >>> from graphsvc.analysis import graph as p
    >>> from graphsvc.analysis.stages import stage_histories
    >>> G = p.new_graph()
    >>> p.add_member(G, "ana"); p.add_member(G, "ben")
    >>> p.add_referrer(G, "drx", point_person="ana", since=date(2024, 1, 1))
    >>> p.add_contact(G, "drx", "k1", date(2024, 1, 10), "ana", "lunch")
    >>> p.add_referral(G, "drx", "r1", date(2024, 2, 1), "ana")   # 0 -> 1, 22 days after the lunch
    >>> h = stage_histories(G, as_of=date(2024, 12, 31))
    >>> lunch = outreach(G, h, as_of=date(2024, 12, 31))["follow_up"]["lunch"]
    >>> lunch["judged"], lunch["followed"], lunch["share"]
    (1, 1, 1.0)
    """
    # Days as ordinals (whole numbers): the arithmetic below runs a million times at 100,000 referrers.
    last_day = as_of.toordinal()
    last_judged = last_day - within_days  # the last contact day whose window has fully passed
    members = sorted((n for n, kind in G.nodes(data="kind") if kind in ("clinician", "staff")), key=str)
    tally = _ContactTally(members)
    # Referrer-days with a complete window, by the stage on the day, and those followed by a rise.
    days_in = [0, 0, 0, 0]
    days_followed = [0, 0, 0, 0]
    for r, h in histories.items():
        start, contacts = _contacts_of(G, r, as_of)
        change_days, change_stages, rises = _stage_changes(h, last_day)
        seen = set()
        for o, day, member, kind in contacts:
            if o > last_judged:
                outcome = None
            else:
                # The stage at the end of the contact's day; a rise strictly after it, within the window.
                i = bisect_right(change_days, o)
                at = change_stages[i - 1] if i else 0
                j = bisect_right(rises, o)
                outcome = (at, j < len(rises) and rises[j] <= o + within_days)
            tally.add(day, member, kind, outcome, seen)
        if start is not None and start <= last_judged:
            _count_days(change_days, change_stages, rises, start, last_judged, within_days, days_in,
                        days_followed)
    baseline_by_stage = {s: _round(days_followed[s] / days_in[s]) if days_in[s] else None for s in range(4)}
    follow_up = {}
    for kind in tally.kinds + ["all"]:
        contacts, referrers, pending, judged, followed, stages = tally.stats[kind]
        follow_up[kind] = {
            "contacts": contacts,
            "referrers": referrers,
            "pending": pending,
            "judged": judged,
            "followed": followed,
            "share": _round(followed / judged) if judged else None,
            "baseline": _baseline(stages, days_in, days_followed),
        }
    return {
        "by_kind": tally.by_kind,
        "by_member": tally.by_member,
        "by_month": tally.months(as_of),
        "follow_up": follow_up,
        "baseline_by_stage": baseline_by_stage,
        "within_days": within_days,
        "as_of": as_of,
    }


def _contacts_of(G, r, as_of: date) -> tuple[int | None, list[tuple]]:
    """A referrer's start (ordinal: its ``since`` or first event, whichever is first) and its contacts up to
    ``as_of`` as ``(ordinal, day, member, kind)``."""
    start = G.nodes[r].get("since")
    start = start.toordinal() if start is not None else None
    contacts = []
    for member, keyed in G._adj[r].items():
        for data in keyed.values():
            day = data["date"]
            if day > as_of:
                continue
            o = day.toordinal()
            if start is None or o < start:
                start = o
            if data["type"] == "contact":
                contacts.append((o, day, member, data["contact_kind"]))
    return start, contacts


def _stage_changes(history: dict, last_day: int) -> tuple[list, list, list]:
    """A referrer's stage changes up to ``last_day`` (ordinals): their days, the stages, and the days of rises."""
    change_days, change_stages, rises = [], [], []
    stage = 0
    for c in history["history"]:
        o = c["date"].toordinal()
        if o > last_day:
            break
        if c["stage"] > stage:
            rises.append(o)
        stage = c["stage"]
        change_days.append(o)
        change_stages.append(stage)
    return change_days, change_stages, rises


class _ContactTally:
    """``outreach``'s counts of contacts: by kind, member and month, and the follow-up stats by kind."""

    def __init__(self, members: list):
        self.kinds = list(CONTACT_KINDS)
        self.by_member = {m: dict.fromkeys(self.kinds, 0) for m in members}
        self.by_kind = dict.fromkeys(self.kinds, 0)
        self.by_month: dict[int, dict] = {}  # year * 12 + month - 1 -> {kind: n}
        # Per kind ("all" too): contacts, distinct referrers, pending, judged, followed, judged by stage.
        self.stats = {k: [0, 0, 0, 0, 0, [0, 0, 0, 0]] for k in self.kinds + ["all"]}
        self.first_contact: date | None = None

    def add(self, day: date, member, kind: str, outcome, seen: set) -> None:
        """One contact; ``outcome``: ``(stage on the day, followed by a rise)``, or None while pending;
        ``seen``: the kinds counted for this contact's referrer already."""
        if self.first_contact is None or day < self.first_contact:
            self.first_contact = day
        if kind not in self.stats:  # a kind outside the vocabulary: counted all the same
            self.kinds.append(kind)
            self.by_kind[kind] = 0
            self.stats[kind] = [0, 0, 0, 0, 0, [0, 0, 0, 0]]
            for counts in self.by_member.values():
                counts[kind] = 0
        self.by_kind[kind] += 1
        month = self.by_month.setdefault(day.year * 12 + day.month - 1, {})
        month[kind] = month.get(kind, 0) + 1
        if member in self.by_member:
            self.by_member[member][kind] += 1
        for name in (kind, "all"):
            s = self.stats[name]
            s[0] += 1
            if name not in seen:
                seen.add(name)
                s[1] += 1
            if outcome is None:
                s[2] += 1
            else:
                s[3] += 1
                s[4] += outcome[1]
                s[5][outcome[0]] += 1

    def months(self, as_of: date) -> list[dict]:
        """``by_month`` as rows from the first contact's month to ``as_of``'s, none missing."""
        first = self.first_contact
        rows = []
        for i, m in enumerate(_month_keys(first, as_of) if first else []):
            counts = self.by_month.get(first.year * 12 + first.month - 1 + i, {})
            rows.append({"month": m, "total": sum(counts.values()), **{k: counts.get(k, 0) for k in self.kinds}})
        return rows


def _count_days(change_days, change_stages, rises, start: int, last: int, within_days: int,
                days_in: list, days_followed: list) -> None:
    """Count one referrer's days ``start..last`` (ordinals) by stage, and those followed by a rise.

    A day ``d`` is followed when a rise falls in ``(d, d + within_days]``,
    that is ``d`` in ``[rise - within_days, rise - 1]``: a union of
    intervals, intersected with each stage's span of days (the stage at the
    end of the day: a change on ``d`` counts for ``d``).
    """
    spans, stage, begin = [], 0, start
    for changed, new in zip(change_days, change_stages, strict=False):
        if changed > last:
            break
        if changed > begin:
            spans.append((stage, begin, changed - 1))
            begin = changed
        stage = new
    spans.append((stage, begin, last))
    covered = []  # merged [first, last] day intervals followed by a rise
    for rise in rises:
        a, b = rise - within_days, rise - 1
        if covered and a <= covered[-1][1] + 1:
            covered[-1][1] = max(covered[-1][1], b)
        else:
            covered.append([a, b])
    for stage, first, final in spans:
        days_in[stage] += final - first + 1
        for a, b in covered:
            lo, hi = max(a, first), min(b, final)
            if lo <= hi:
                days_followed[stage] += hi - lo + 1


def _baseline(stages: list, days_in: list, days_followed: list):
    """The share expected for contacts at these stages (counts by stage) had they been any referrer-days."""
    weighted = total = 0
    for stage, n in enumerate(stages):
        if n and days_in[stage]:
            weighted += n * days_followed[stage] / days_in[stage]
            total += n
    return _round(weighted / total) if total else None


def coverage(G, *, as_of: date, top: int = 5) -> dict:
    """Referrals out to external providers, by niche, provider and month, and the niches sent away most.

    Parameters
    ----------
    G : networkx.MultiDiGraph
        A referral graph (``graphsvc.analysis.graph``).
    as_of : date
        The last day counted, and the end of the 12-month windows: the last
        12 months are the days after the same day a year before, up to
        ``as_of``; the previous 12 months the year before that (as
        ``metrics``' ``trend``).
    top : int
        How many niches ``by_month`` shows one by one (the most sent away
        over all time); the others are summed under ``"other"``.

    Returns
    -------
    dict
        * ``by_niche``: ``{niche: {"referrals_out", "last_12_months",
          "previous_12_months", "referrers", "providers"}}``: ``referrers``
          how many distinct referrers' clients were sent for it,
          ``providers`` the ids of the providers used, sorted;
        * ``by_provider``: ``{provider: {"name", "niches", "referrals_out",
          "by_niche"}}`` for every provider node (zeros for one never used):
          ``niches`` the niches it offers, ``by_niche`` what was sent to it;
        * ``top_niches``: the niches of ``by_month``, most sent first;
        * ``by_month``: ``[{"month", "total", niche: n, ..., "other": n}]``
          from the first referral out's month to ``as_of``'s, none missing;
        * ``niches_sent_away``: every niche as ``{"niche", "referrals_out",
          "last_12_months", "previous_12_months", "change", "referrers"}``,
          most sent away in the last 12 months first (then over all time,
          then by niche): the niches the practice turns away most lately,
          candidates for a hire;
        * ``referrals_out`` (total) and ``as_of``.

    Examples
    --------
    >>> from datetime import date
    >>> from graphsvc.analysis import graph as p
    >>> G = p.new_graph()
    >>> p.add_provider(G, "ep1", niches=["tms"])
    >>> p.add_referrer(G, "drx")
    >>> p.add_referral_out(G, "drx", "o1", date(2024, 5, 1), "ep1", "tms")
    >>> c = coverage(G, as_of=date(2024, 12, 31))
    >>> c["by_niche"]["tms"]["last_12_months"], [n["niche"] for n in c["niches_sent_away"]]
    (1, ['tms'])
    """
    year_ago, two_years_ago = _months_before(as_of, 12), _months_before(as_of, 24)
    niches: dict[str, dict] = {}
    referrers_by_niche: dict[str, set] = defaultdict(set)
    providers = {n: d for n, d in G.nodes(data=True) if d.get("kind") == "provider"}
    sent_to: dict = defaultdict(Counter)  # provider -> niche -> n
    by_month: dict[str, Counter] = defaultdict(Counter)
    first = None
    for r, kind in G.nodes(data="kind"):
        if kind != "referrer":
            continue
        for provider, keyed in G._adj[r].items():
            for data in keyed.values():
                day = data["date"]
                if data["type"] != "referral_out" or day > as_of:
                    continue
                niche = data["niche"]
                n = niches.get(niche)
                if n is None:
                    n = niches[niche] = {"referrals_out": 0, "last_12_months": 0, "previous_12_months": 0,
                                         "providers": set()}
                n["referrals_out"] += 1
                if day > year_ago:
                    n["last_12_months"] += 1
                elif day > two_years_ago:
                    n["previous_12_months"] += 1
                n["providers"].add(provider)
                referrers_by_niche[niche].add(r)
                sent_to[provider][niche] += 1
                by_month[_month(day)][niche] += 1
                if first is None or day < first:
                    first = day
    by_niche = {
        niche: {"referrals_out": n["referrals_out"], "last_12_months": n["last_12_months"],
                "previous_12_months": n["previous_12_months"], "referrers": len(referrers_by_niche[niche]),
                "providers": sorted(n["providers"], key=str)}
        for niche, n in sorted(niches.items())
    }
    ranking = sorted(by_niche, key=lambda k: (-by_niche[k]["last_12_months"], -by_niche[k]["referrals_out"], k))
    top_niches = sorted(by_niche, key=lambda k: (-by_niche[k]["referrals_out"], k))[:top]
    months = _month_keys(first, as_of) if first else []
    rows = []
    for m in months:
        counts = by_month[m]
        row = {"month": m, "total": sum(counts.values())}
        row.update((k, counts[k]) for k in top_niches)
        row["other"] = row["total"] - sum(counts[k] for k in top_niches)
        rows.append(row)
    return {
        "by_niche": by_niche,
        "by_provider": {
            p: {"name": d.get("name", p), "niches": sorted(d.get("niches", ())),
                "referrals_out": sum(sent_to[p].values()), "by_niche": dict(sorted(sent_to[p].items()))}
            for p, d in sorted(providers.items(), key=lambda t: str(t[0]))
        },
        "top_niches": top_niches,
        "by_month": rows,
        "niches_sent_away": [
            {"niche": k, "referrals_out": by_niche[k]["referrals_out"],
             "last_12_months": by_niche[k]["last_12_months"],
             "previous_12_months": by_niche[k]["previous_12_months"],
             "change": by_niche[k]["last_12_months"] - by_niche[k]["previous_12_months"],
             "referrers": by_niche[k]["referrers"]}
            for k in ranking
        ],
        "referrals_out": sum(n["referrals_out"] for n in by_niche.values()),
        "as_of": as_of,
    }
