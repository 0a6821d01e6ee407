"""How well a clinician fits a set of clients: needs, population, insurance, schedule.

Shared by suggestions (a referrer's recent clients, newest weighing most) and
matching (one new client). A client is a dict with ``needs``, ``population``,
``insurance`` and ``schedule``; a member is a node's attributes.
"""

from __future__ import annotations

from collections import Counter

from ..presentation import of_last, words

FIT_WEIGHTS = {"needs": 0.45, "population": 0.2, "insurance": 0.25, "schedule": 0.1}


def profile(clients: list) -> dict:
    """The weighted clients summed per aspect value, for fast scoring.

    Parameters
    ----------
    clients : list of (float, dict)
        ``[(weight, client), ...]``; a client has ``needs``, ``population``,
        ``insurance`` and ``schedule`` (any of them empty or None).

    Returns
    -------
    dict
        ``needs`` as ``[(weight, frozenset), ...]``, a ``Counter`` of weights
        per population, insurance and schedule value, and their ``totals``.

    Examples
    --------
    >>> prof = profile([(1.0, {"needs": ["adhd"], "population": "child", "insurance": None,
    ...                        "schedule": None})])
    >>> prof["needs"], dict(prof["population"]), prof["totals"]["insurance"]
    ([(1.0, frozenset({'adhd'}))], {'child': 1.0}, 0.0)
    """
    profile = {"needs": [], "population": Counter(), "insurance": Counter(), "schedule": Counter()}
    totals = dict.fromkeys(FIT_WEIGHTS, 0.0)
    for w, c in clients:
        if c["needs"]:
            profile["needs"].append((w, frozenset(c["needs"])))
            totals["needs"] += w
        for aspect in ("population", "insurance", "schedule"):
            if c[aspect]:
                profile[aspect][c[aspect]] += w
                totals[aspect] += w
    profile["totals"] = totals
    return profile


def fit_score(member: dict, profile: dict) -> float:
    """0..1: the weighted share of the clients' aspects the member offers.

    Each aspect a client states counts with its ``FIT_WEIGHTS`` weight; an
    aspect no client states is left out (it neither helps nor hurts).

    Parameters
    ----------
    member : dict
        A clinician's node attributes (``specialties``, ``populations``,
        ``insurances``, ``schedule``).
    profile : dict
        From ``profile``.

    Examples
    --------
    >>> from graphsvc.analysis import graph as p
    >>> G = p.new_graph()
    >>> p.add_member(G, "ana", specialties=["adhd"], populations=["adult"])
    >>> client = {"needs": ["adhd"], "population": "child", "insurance": None, "schedule": None}
    >>> round(fit_score(G.nodes["ana"], profile([(1.0, client)])), 4)   # 0.45 of 0.45 + 0.2
    0.6923
    """
    totals = profile["totals"]
    score = weight = 0.0
    if totals["needs"]:
        specialties = member["specialties"]
        got = sum(w * len(needs & specialties) / len(needs) for w, needs in profile["needs"])
        score += FIT_WEIGHTS["needs"] * got / totals["needs"]
        weight += FIT_WEIGHTS["needs"]
    for aspect, offered in (("population", "populations"), ("insurance", "insurances"), ("schedule", "schedule")):
        if totals[aspect]:
            got = sum(w for value, w in profile[aspect].items() if value in member[offered])
            score += FIT_WEIGHTS[aspect] * got / totals[aspect]
            weight += FIT_WEIGHTS[aspect]
    return score / weight if weight else 0.0


def fit_reasons(member: dict, clients: list) -> list[str]:
    """Sentences naming what the member covers of a referrer's recent clients.

    Parameters
    ----------
    member : dict
        A clinician's node attributes.
    clients : list of (float, dict)
        The referrer's recent clients with their weights, newest first.

    Returns
    -------
    list of str
        The need (with population) most often covered, the insurance most
        often taken and the slot most often open, each with how many clients.

    Examples
    --------
    >>> from graphsvc.analysis import graph as p
    >>> G = p.new_graph()
    >>> p.add_member(G, "ben", specialties=["adhd"], populations=["child"], insurances=["medicaid"])
    >>> kid = {"needs": ["adhd"], "population": "child", "insurance": "medicaid", "schedule": None}
    >>> fit_reasons(G.nodes["ben"], [(1.0, kid)])
    ["covers child ADHD, which this referrer's last referral needed", 'takes Medicaid like its last client']
    >>> fit_reasons(G.nodes["ben"], [(1.0, kid), (0.85, {**kid, "insurance": "bcbs"})])[1]
    'takes Medicaid like 1 of its last 2 clients'
    """
    if not clients:
        return []
    need_pop: Counter = Counter()
    insurances: Counter = Counter()
    slots: Counter = Counter()
    for _, c in clients:
        if c["population"] in member["populations"]:
            for need in set(c["needs"]) & member["specialties"]:
                need_pop[c["population"], need] += 1
        if c["insurance"] and c["insurance"] in member["insurances"]:
            insurances[c["insurance"]] += 1
        if c["schedule"] and c["schedule"] in member["schedule"]:
            slots[c["schedule"]] += 1
    n = len(clients)
    reasons = []
    if need_pop:
        (population, need), k = min(need_pop.items(), key=lambda kv: (-kv[1], kv[0]))
        who = "" if population in need else words(population) + " "
        share = of_last(k, n, "referral", "this referrer's")
        reasons.append(f"covers {who}{words(need)}, which {share} needed")
    if insurances:
        plan, k = min(insurances.items(), key=lambda kv: (-kv[1], kv[0]))
        reasons.append(f"takes {words(plan)} like {of_last(k, n, 'client')}")
    if slots:
        slot, k = min(slots.items(), key=lambda kv: (-kv[1], kv[0]))
        reasons.append(f"has {words(slot)} openings, which {of_last(k, n, 'client')} wanted")
    return reasons
