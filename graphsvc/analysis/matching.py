"""Which clinician should take a new client, and when to pass or refer out.

``match_client`` scores every clinician for one client (``graphsvc.analysis.fit``),
says whether a colleague fits better than the addressed clinician (a pass,
with its reason), and which outside providers the practice used before for
needs nobody covers.
"""

from __future__ import annotations

from collections import Counter

from ..errors import NotFound
from ..presentation import words
from ..vocabulary import PRACTICE
from .fit import fit_score, profile
from .index import Index


def match_client(G, *, needs=(), population=None, insurance=None, schedule=None, addressed_to=None,
                 limit: int = 3, index: Index | None = None) -> dict:
    """Score each clinician for one new client; suggest a pass and outside providers.

    Returns
    -------
    dict
        ``candidates`` (best clinicians, accepting ones first, with ``fit`` and
        ``reasons``), ``addressed`` (the addressed clinician's own fit, if
        any), ``pass`` (None, or the better colleague with a ``reason`` of
        scheduling / insurance / specialty / other and sentences why),
        ``uncovered_needs`` and ``external_providers`` used before for them.
    """
    index = index or Index(G)
    client = {"needs": tuple(needs or ()), "population": population, "insurance": insurance,
              "schedule": schedule}
    clinicians = {m: a for m, a in index.members.items() if a["kind"] == "clinician"}
    covered = set().union(*(a["specialties"] for a in clinicians.values())) if clinicians else set()
    # A need nobody covers is referred out; it is no one's gap.
    coverable = {**client, "needs": tuple(n for n in client["needs"] if n in covered)}
    wanted = profile([(1.0, coverable)])
    scored = []
    for m, attrs in clinicians.items():
        fit = fit_score(attrs, wanted)
        scored.append({"member": m, "name": attrs["name"], "fit": round(fit, 4),
                       "accepting_new": attrs["accepting_new"], "reasons": _strengths(attrs, client),
                       "gaps": _gaps(attrs, coverable)})
    scored.sort(key=lambda s: (not s["accepting_new"], -s["fit"], s["member"]))
    addressed = next((s for s in scored if s["member"] == addressed_to), None)
    if addressed_to is not None and addressed is None and addressed_to != PRACTICE:
        raise NotFound(f"field 'addressed_to': {addressed_to!r} is not a clinician")
    suggestion = None
    if addressed is not None:
        better = [s for s in scored if s["member"] != addressed_to and s["accepting_new"]
                  and (s["fit"] > addressed["fit"] or not addressed["accepting_new"])]
        if better:
            best = better[0]
            suggestion = {**best, "reason": _pass_reason(addressed, best),
                          "why": _pass_why(addressed, best, index.members[addressed_to]["name"])}
    uncovered = sorted(set(client["needs"]) - covered)
    return {
        "candidates": scored[:limit],
        "addressed": addressed,
        "pass": suggestion,
        "uncovered_needs": uncovered,
        "external_providers": _providers_for(G, uncovered),
    }


def _strengths(member: dict, client: dict) -> list[str]:
    out = []
    covered = [n for n in client["needs"] if n in member["specialties"]]
    if covered:
        out.append("covers " + ", ".join(words(n) for n in covered))
    if client["population"] and client["population"] in member["populations"]:
        out.append(f"sees {words(client['population'])} clients")
    if client["insurance"] and client["insurance"] in member["insurances"]:
        out.append(f"takes {words(client['insurance'])}")
    if client["schedule"] and client["schedule"] in member["schedule"]:
        out.append(f"has {words(client['schedule'])} openings")
    return out


def _gaps(member: dict, client: dict) -> list[str]:
    gaps = []
    if set(client["needs"]) - member["specialties"]:
        gaps.append("specialty")
    if client["population"] and client["population"] not in member["populations"]:
        gaps.append("population")
    if client["insurance"] and client["insurance"] not in member["insurances"]:
        gaps.append("insurance")
    if client["schedule"] and client["schedule"] not in member["schedule"]:
        gaps.append("scheduling")
    if not member["accepting_new"]:
        gaps.append("not accepting new clients")
    return gaps


def _pass_reason(addressed: dict, best: dict) -> str:
    """The pass reason: the first gap of the addressed clinician the colleague does not share."""
    for gap in ("specialty", "insurance", "scheduling"):
        if gap in addressed["gaps"] and gap not in best["gaps"]:
            return gap
    return "other"


def _pass_why(addressed: dict, best: dict, addressed_name: str) -> list[str]:
    words = {"specialty": "does not cover every need", "population": "does not see this population",
             "insurance": "does not take this insurance", "scheduling": "has no opening in the wanted slot",
             "not accepting new clients": "is not accepting new clients"}
    why = [f"{addressed_name} {words[g]}" for g in addressed["gaps"] if g not in best["gaps"]]
    why += [f"{best['name']} {r}" for r in best["reasons"]]
    return why + [f"but {best['name']} {words[g]}" for g in best["gaps"]]


def _providers_for(G, niches: list[str]) -> list[dict]:
    """Outside providers covering ``niches``, those the practice used most first."""
    if not niches:
        return []
    used: Counter = Counter()
    for _, p, data in G.edges(data=True):
        if data["type"] == "referral_out" and data["niche"] in niches:
            used[p, data["niche"]] += 1
    out = []
    for p, attrs in G.nodes(data=True):
        if attrs.get("kind") != "provider":
            continue
        for niche in sorted(attrs["niches"] & set(niches)):
            out.append({"provider": p, "name": attrs["name"], "niche": niche, "referred_before": used[p, niche]})
    out.sort(key=lambda x: (-x["referred_before"], x["niche"], x["provider"]))
    return out
