"""Is ``suggest_introductions`` any good? Replay history and count hits.

For every introduction that was followed by a referral to the introduced
member, rebuild the suggestions from the events dated before the
introduction and ask whether that member was among the first k. Two
baselines are scored on the same cases: a random eligible member (its exact
expected hit rate, k / eligible, rather than one noisy draw) and the member
most referred to across the practice before that day.
"""

from __future__ import annotations

from collections import defaultdict

from .index import Index
from .suggestions import suggest_introductions


def evaluate(G, *, ks=(1, 3), limit_cases: int | None = None, **options) -> dict:
    """Hit@k of the suggestions and of two baselines over past introductions.

    Parameters
    ----------
    G : networkx.MultiDiGraph
    ks : tuple of int
    limit_cases : int, optional
        Stop after this many cases (the earliest first), for quick runs.
    **options
        Passed to ``suggest_introductions``.

    Returns
    -------
    dict
        ``cases``, ``skipped`` (introduced member not eligible at the time),
        and for each method (``suggestions``, ``random``, ``most_referred``)
        a dict ``{"hit@1": rate, "hit@3": rate}``.
    """
    cases = _cases(G)
    if limit_cases is not None:
        cases = cases[:limit_cases]
    hits = {name: defaultdict(float) for name in ("suggestions", "random", "most_referred")}
    evaluated = skipped = 0
    indexes: dict = {}
    for referrer, member, day in cases:
        index = indexes.get(day)
        if index is None:
            index = indexes[day] = Index(G, before=day)
        excluded = ({index.point_person(referrer)} | index.introduced.get(referrer, set())
                    | index.referred_to.get(referrer, set()))
        eligible = sorted(m for m in index.members if m not in excluded)
        if member not in eligible:
            skipped += 1  # e.g. it had already received a referral from this referrer
            continue
        evaluated += 1
        ranked = suggest_introductions(G, referrer, limit=max(ks), index=index, before=day, **options)
        top = [s["member"] for s in ranked]
        popular = sorted(eligible, key=lambda m: (-index.assigned_counts.get(m, 0), m))
        for k in ks:
            hits["suggestions"][k] += member in top[:k]
            hits["random"][k] += min(k, len(eligible)) / len(eligible)
            hits["most_referred"][k] += member in popular[:k]
    out = {"cases": evaluated, "skipped": skipped}
    for name, by_k in hits.items():
        out[name] = {f"hit@{k}": round(by_k[k] / evaluated, 4) if evaluated else None for k in ks}
    return out


def _cases(G) -> list[tuple]:
    """(referrer, introduced member, introduction day) for introductions that led to a referral."""
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
