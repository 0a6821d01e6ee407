"""Practice-level views: how much each clinician shares, and who bridges.

``clinician_sharing`` answers "who opens doors for colleagues": per member,
the referrers it is point person for, the referrals it passed on and took
over, the introductions it made, and the referrals it received from
referrers it had been introduced to.

``bridge_members`` ranks members by betweenness on the member co-referral
graph (two members are linked when a referrer is connected to both, through
an event or as its point person; the more referrers they share, the shorter
the link), sampled
over ``k`` pivots so that it stays cheap on large practices, and counts for
how many referrers each member was the first colleague tried after the
point person.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from itertools import combinations

import networkx as nx

from ..vocabulary import PRACTICE
from .referrals import current_point_person, referral_edges, tries_colleague


def clinician_sharing(G) -> dict:
    """Per member: point person for, passes made/received, introductions, referrals via introductions.

    Examples
    --------
    >>> from datetime import date
    >>> from graphsvc.analysis import graph as p
    >>> G = p.new_graph()
    >>> p.add_member(G, "ana"); p.add_member(G, "ben")
    >>> p.add_referrer(G, "drx", point_person="ana", since=date(2024, 1, 1))
    >>> p.add_introduction(G, "drx", "i1", date(2024, 1, 5), "ben", by="ana")
    >>> p.add_referral(G, "drx", "r1", date(2024, 2, 1), "ben")
    >>> s = clinician_sharing(G)
    >>> s["ana"]["introductions_made"], s["ben"]["referrals_via_introductions"]
    (1, 1)
    """
    members = [n for n, kind in G.nodes(data="kind") if kind in ("clinician", "staff")]
    out = {m: {"point_person_for": 0, "passes_made": 0, "passes_received": 0, "introductions_made": 0,
               "introduced": 0, "referrals_via_introductions": 0} for m in members}
    for r, kind in G.nodes(data="kind"):
        if kind != "referrer":
            continue
        current = current_point_person(G, r)
        if current in out:
            out[current]["point_person_for"] += 1
        introduced_on: dict[str, object] = {}
        for _, member, _, data in G.out_edges(r, keys=True, data=True):
            if data["type"] == "introduction":
                out[member]["introduced"] += 1
                if data["by"] in out:
                    out[data["by"]]["introductions_made"] += 1
                if member not in introduced_on or data["date"] < introduced_on[member]:
                    introduced_on[member] = data["date"]
        for _, assigned, _, data in referral_edges(G, r):
            if data["pass_reason"]:
                if data["addressed_to"] in out:
                    out[data["addressed_to"]]["passes_made"] += 1
                out[assigned]["passes_received"] += 1
            since = introduced_on.get(assigned)
            if since is not None and data["date"] >= since:
                out[assigned]["referrals_via_introductions"] += 1
    return out


def bridge_members(G, *, k: int | None = 32, seed: int = 0) -> dict:
    """Betweenness on the member co-referral graph, and first-colleague counts.

    Parameters
    ----------
    k : int or None
        Pivots for sampled betweenness (None: exact; fine for small practices).

    Returns
    -------
    dict
        Keyed by member: ``betweenness`` (0..1) and ``first_colleague_for``.
    """
    members = [n for n, kind in G.nodes(data="kind") if kind in ("clinician", "staff")]
    H = nx.Graph()
    H.add_nodes_from(members)
    weights: Counter = Counter()
    first_colleague: Counter = Counter()
    for r, kind in G.nodes(data="kind"):
        if kind != "referrer":
            continue
        connected = {m for m in G.successors(r) if m in H}
        connected.update(c for _, _, c in G.nodes[r]["tenures"] if c in H)  # its point persons
        connected.update(d["addressed_to"] for _, _, d in G.out_edges(r, data=True)
                         if d["type"] == "referral" and d["addressed_to"] != PRACTICE)
        for a, b in combinations(sorted(connected), 2):
            weights[a, b] += 1
        tenures = G.nodes[r]["tenures"]
        for _, _, _, data in referral_edges(G, r):
            if tries_colleague(G, tenures, data):
                first_colleague[data["addressed_to"]] += 1
                break
    # Strong ties (many shared referrers) are short: in a practice where every
    # clinician shares some referrer with every other, only weighted paths
    # tell a bridge from the rest.
    H.add_edges_from((a, b, {"distance": 1 / w}) for (a, b), w in weights.items())
    pivots = None if k is None or k >= len(H) else k
    betweenness = nx.betweenness_centrality(H, k=pivots, seed=seed, normalized=True, weight="distance")
    return {m: {"betweenness": round(betweenness.get(m, 0.0), 4), "first_colleague_for": first_colleague[m]}
            for m in members}


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
