"""How well a clinician fits a set of clients: needs, population, insurance, schedule.

Shared by suggestions (a referrer's recent clients, newest weighing most) and
matching (one new client). A client is a dict with ``needs``, ``population``,
``insurance`` and ``schedule``; a member is a node's attributes.
"""

from __future__ import annotations

from collections import Counter

from ..presentation import words

FIT_WEIGHTS = {"needs": 0.45, "population": 0.2, "insurance": 0.25, "schedule": 0.1}


def profile(clients: list) -> dict:
    """The weighted clients ``[(weight, client), ...]`` summed per aspect value, for fast scoring."""
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
    """0..1: the weighted share of the clients' aspects the member offers."""
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
    """Sentences naming what the member covers of the weighted clients."""
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
        reasons.append(f"covers {who}{words(need)}, which {k} of this referrer's "
                       f"last {n} referrals needed")
    if insurances:
        plan, k = min(insurances.items(), key=lambda kv: (-kv[1], kv[0]))
        reasons.append(f"takes {words(plan)} like {k} of its last {n} clients")
    if slots:
        slot, k = min(slots.items(), key=lambda kv: (-kv[1], kv[0]))
        reasons.append(f"has {words(slot)} openings, which {k} of its last {n} clients wanted")
    return reasons
