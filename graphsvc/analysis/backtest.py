"""Is ``suggest_introductions`` any good? Replay history and count hits.

For every introduction that was followed by a referral to the introduced
member, rank the members as ``suggest_introductions`` would have from the
events dated before the introduction, and ask where that member came: hit@k
(among the first k) and the reciprocal rank (1 for first, 1/2 for second,
..., 0 when it was not ranked at all, e.g. a staff member other than the
intake coordinator), averaged over the cases as MRR.

The history is built once and stepped through in date order: one ``Index``
that, before each new introduction day, forgets and relearns just the
referrers with events since the previous one (``Index.forget`` /
``Index.learn``), which leaves it exactly as ``Index(G, before=day)`` would
be built from scratch.

Three baselines are scored on the same cases, among the same eligible
members (neither the point person, nor introduced to the referrer before,
nor already referred to by it):

* ``random``: a random eligible member, its exact expected hit rate
  (k / eligible) and reciprocal rank (H(n) / n) rather than one noisy draw;
* ``most_referred``: the member most referred to across the practice before
  that day;
* ``observed_fit``: every client the referrer sent so far, weighed alike,
  against each member's specialties, populations, insurances and schedule
  (``graphsvc.analysis.fit``), best fit first.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator

from .fit import fit_score, profile
from .index import Index
from .suggestions import DEFAULT_WEIGHTS, candidate_parts, intake_candidate, rank_candidates

METHODS = ("suggestions", "random", "most_referred", "observed_fit")


def evaluate(G, *, ks=(1, 3), limit_cases: int | None = None, **options) -> dict:
    """Hit@k and MRR of the suggestions and of three baselines over past introductions.

    Parameters
    ----------
    G : networkx.MultiDiGraph
    ks : tuple of int
    limit_cases : int, optional
        Stop after this many cases (the earliest first), for quick runs.
    **options
        Passed to ``suggest_introductions`` (``weights``, ``decay``,
        ``recent``, ``similar``, ``ready_after``, ``window``, ``accepting``).

    Returns
    -------
    dict
        ``cases``, ``skipped`` (introduced member not eligible at the time),
        and for each method (``suggestions``, ``random``, ``most_referred``,
        ``observed_fit``) a dict ``{"hit@1": rate, "hit@3": rate, "mrr": mean
        reciprocal rank}`` (None when there are no cases).
    """
    cases = introduction_cases(G)
    if limit_cases is not None:
        cases = cases[:limit_cases]
    weights = options.pop("weights", DEFAULT_WEIGHTS)
    ready = {k: options.pop(k) for k in ("ready_after", "window") if k in options}
    options.pop("limit", None)
    hits = {name: defaultdict(float) for name in METHODS}
    rr = dict.fromkeys(METHODS, 0.0)
    evaluated = skipped = 0
    for (referrer, member, _day), index in replay(G, cases):
        eligible = eligible_members(index, referrer)
        if member not in eligible:
            skipped += 1  # e.g. it had already received a referral from this referrer
            continue
        evaluated += 1
        parts = candidate_parts(G, referrer, index=index, **options)
        ranking = [row[2] for row in rank_candidates(parts.candidates, weights)]
        if options.get("accepting") is not False:
            intake = intake_candidate(G, referrer, parts.excluded, index=index, **ready)
            if intake is not None:
                ranking.insert(0, intake["member"])
        ranks = {"suggestions": _rank(ranking, member),
                 "most_referred": _rank(most_referred(index, eligible), member),
                 "observed_fit": _rank(observed_fit(index, referrer, eligible), member)}
        n = len(eligible)
        for k in ks:
            hits["random"][k] += min(k, n) / n
            for name, rank in ranks.items():
                hits[name][k] += rank is not None and rank <= k
        rr["random"] += sum(1 / i for i in range(1, n + 1)) / n
        for name, rank in ranks.items():
            rr[name] += 1 / rank if rank is not None else 0.0
    out = {"cases": evaluated, "skipped": skipped}
    for name in METHODS:
        out[name] = {f"hit@{k}": round(hits[name][k] / evaluated, 4) if evaluated else None for k in ks}
        out[name]["mrr"] = round(rr[name] / evaluated, 4) if evaluated else None
    return out


def introduction_cases(G) -> list[tuple]:
    """(referrer, introduced member, introduction day) for introductions that led to a referral, by day."""
    referrals = defaultdict(list)
    intros = []
    for r, m, data in G.edges(data=True):
        if data["type"] == "referral":
            referrals[r].append((data["date"], m, data["addressed_to"]))
        elif data["type"] == "introduction":
            intros.append((data["date"], r, m))
    cases = []
    for day, r, m in sorted(intros):
        if any(d >= day and m in (assigned, addressed) for d, assigned, addressed in referrals[r]):
            cases.append((r, m, day))
    return cases


_cases = introduction_cases  # the old private name


def replay(G, cases: Iterable[tuple]) -> Iterator[tuple[tuple, Index]]:
    """Each case with the ``Index`` of the events dated before its day; cases in day order.

    One index is stepped forward: before each new day it forgets the
    referrers with referrals or introductions since the previous day, moves
    its ``before`` to the new day and learns them again. The index yielded is
    the same object each time: read it before asking for the next case.
    """
    events = sorted((data["date"], r) for r, _, data in G.edges(data=True)
                    if data["type"] in ("referral", "introduction"))
    index = None
    i = 0
    for case in sorted(cases, key=lambda c: c[2]):
        day = case[2]
        if index is None:
            index = Index(G, before=day)
            while i < len(events) and events[i][0] < day:
                i += 1
        elif day != index.before:
            changed = set()
            while i < len(events) and events[i][0] < day:
                changed.add(events[i][1])
                i += 1
            changed = sorted(changed)
            for r in changed:
                index.forget(r)   # with the old ``before``: undoes exactly what learn added
            index.before = day
            for r in changed:
                index.learn(r)
        yield case, index


def eligible_members(index: Index, referrer) -> list:
    """Members that could be introduced: not the point person, not introduced, not referred to; by id."""
    excluded = ({index.point_person(referrer)} | index.introduced.get(referrer, set())
                | index.referred_to.get(referrer, set()))
    return sorted(m for m in index.members if m not in excluded)


def most_referred(index: Index, eligible: list) -> list:
    """The eligible members, most assigned referrals (across the practice) first, ties by id."""
    return sorted(eligible, key=lambda m: (-index.assigned_counts.get(m, 0), m))


def observed_fit(index: Index, referrer, eligible: list) -> list:
    """The eligible members, best fit to all the referrer's clients so far (weighed alike) first."""
    wanted = profile([(1.0, data) for *_, data in index.referrals.get(referrer, ())])
    members = index.members
    return sorted(eligible, key=lambda m: (-round(fit_score(members[m], wanted), 4), m))


def _rank(ranking: list, member) -> int | None:
    try:
        return ranking.index(member) + 1
    except ValueError:
        return None
