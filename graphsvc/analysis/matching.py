"""Which clinician should take a new client, and when to pass or refer out.

``match_client`` scores every clinician for one client (``graphsvc.analysis.fit``)
and checks two hard constraints: the clinician sees the client's population
and accepts new clients. Only a clinician who passes both can keep a
referral or receive a pass; insurance, schedule and needs are scored, and any
they miss is named as a gap. When no clinician passes, the answer says so
and names the outside providers covering the client's needs. A need nobody
has ever listed (no specialty, niche or past client) is reported with the
closest known needs, in case it is a typo.
"""

from __future__ import annotations

import difflib
from collections import Counter

from ..errors import InvalidInput, NotFound
from ..presentation import listing, plural, refer_out, words
from ..requests import NOTHING_TO_MATCH
from ..vocabulary import PRACTICE
from .fit import fit_score, profile
from .index import Index

# The order gaps are listed in, and in which the pass reason is chosen.
GAP_ORDER = ("specialty", "population", "insurance", "scheduling", "not accepting new clients")
# Gaps that make a clinician unable to take the client at all.
HARD_GAPS = ("population", "not accepting new clients")


def match_client(G, *, needs=(), population=None, insurance=None, schedule=None, addressed_to=None,
                 limit: int = 3, index: Index | None = None) -> dict:
    """Score each clinician for one new client; suggest a pass and outside providers.

    Parameters
    ----------
    G : networkx.MultiDiGraph
        A referral graph (``graphsvc.analysis.graph``).
    needs : sequence of str
        Specialties the client needs.
    population, insurance, schedule : str, optional
        The client's population (a hard constraint), insurance and wanted slot.
    addressed_to : str, optional
        The clinician the referral names (or ``"practice"``), to keep or pass.
    limit : int
        How many candidates to list.
    index : Index, optional
        A prebuilt ``Index`` of ``G``; built if omitted.

    Returns
    -------
    dict
        ``candidates``: the best clinicians, those who can take the client
        (``eligible``: sees its population and accepts new clients) always
        first, each with ``fit``, ``reasons``, ``gaps`` and ``gap_reasons``;
        ``addressed``: the addressed clinician's own entry, if any; ``pass``:
        None, or the colleague to pass to with a ``reason`` (specialty for a
        population or specialty gap, insurance, scheduling, other) and
        ``why``; ``no_eligible_clinician``; ``verdict``: one plain sentence;
        ``uncovered_needs``: needs no eligible clinician covers, with the
        ``external_providers`` covering them (most used first);
        ``unknown_needs``: needs nobody lists, with ``did_you_mean``.

    Raises
    ------
    InvalidInput
        Neither needs, population nor insurance given.
    NotFound
        ``addressed_to`` is not a clinician.

    Examples
    --------
    >>> from graphsvc.analysis import graph as p
    >>> G = p.new_graph()
    >>> p.add_member(G, "ana", name="Ana", specialties=["adhd"], populations=["adult"])
    >>> p.add_member(G, "ben", name="Ben", specialties=["adhd"], populations=["adolescent"])
    >>> out = match_client(G, needs=["adhd"], population="adolescent", addressed_to="ana")
    >>> [(c["member"], c["fit"], c["eligible"]) for c in out["candidates"]]
    [('ben', 1.0, True), ('ana', 0.6923, False)]
    >>> out["pass"]["member"], out["pass"]["reason"]
    ('ben', 'specialty')
    >>> out["verdict"]
    'Pass to Ben (reason: specialty): Ana does not see adolescents.'
    >>> match_client(G, needs=["adhdd"], population="adult")["unknown_needs"]
    [{'need': 'adhdd', 'did_you_mean': ['adhd']}]
    """
    needs = tuple(needs or ())
    if not needs and not population and not insurance:
        raise InvalidInput(NOTHING_TO_MATCH)
    index = index or Index(G)
    clinicians = {m: a for m, a in index.members.items() if a["kind"] == "clinician"}
    if addressed_to is not None and addressed_to != PRACTICE and addressed_to not in clinicians:
        raise NotFound(f"field 'addressed_to': {addressed_to!r} is not a clinician")
    covered = set().union(*(a["specialties"] for a in clinicians.values()))
    unknown = _unknown_needs(G, [n for n in dict.fromkeys(needs) if n not in covered])
    unknown_names = {u["need"] for u in unknown}
    client = {"needs": tuple(n for n in dict.fromkeys(needs) if n not in unknown_names),
              "population": population, "insurance": insurance, "schedule": schedule}
    # A need no clinician covers is referred out; it is no one's gap.
    coverable = {**client, "needs": tuple(n for n in client["needs"] if n in covered)}
    wanted = profile([(1.0, coverable)])
    scored = []
    for m, attrs in clinicians.items():
        gaps = _gaps(attrs, coverable)
        scored.append({"member": m, "name": attrs["name"], "fit": round(fit_score(attrs, wanted), 4),
                       "accepting_new": attrs["accepting_new"],
                       "eligible": not any(g in HARD_GAPS for g, _ in gaps),
                       "reasons": _strengths(attrs, client),
                       "gaps": [g for g, _ in gaps], "gap_reasons": [why for _, why in gaps]})
    scored.sort(key=lambda s: (not s["eligible"], -s["fit"], s["member"]))
    eligible = [s for s in scored if s["eligible"]]
    addressed = next((s for s in scored if s["member"] == addressed_to), None)
    suggestion = None
    if addressed is not None:
        # A clinician who cannot take the client is never kept, whatever its fit.
        better = [s for s in eligible if s["member"] != addressed_to
                  and (s["fit"] > addressed["fit"] or not addressed["eligible"])]
        if better:
            best = better[0]
            suggestion = {**best, "reason": _pass_reason(addressed, best), "why": _pass_why(addressed, best)}
    can_cover = set().union(*(clinicians[s["member"]]["specialties"] for s in eligible))
    uncovered = sorted(set(client["needs"]) - can_cover)
    providers = _providers_for(G, uncovered)
    return {
        "candidates": scored[:limit],
        "addressed": addressed,
        "pass": suggestion,
        "no_eligible_clinician": not eligible,
        "verdict": _verdict(clinicians, client, eligible, addressed, suggestion, uncovered, providers),
        "uncovered_needs": uncovered,
        "external_providers": providers,
        "unknown_needs": unknown,
    }


def _strengths(member: dict, client: dict) -> list[str]:
    out = []
    covered = [n for n in client["needs"] if n in member["specialties"]]
    if covered:
        out.append("covers " + listing(words(n) for n in covered))
    if client["population"] and client["population"] in member["populations"]:
        out.append(f"sees {plural(client['population'])}")
    if client["insurance"] and client["insurance"] in member["insurances"]:
        out.append(f"takes {words(client['insurance'])}")
    if client["schedule"] and client["schedule"] in member["schedule"]:
        out.append(f"has {words(client['schedule'])} openings")
    return out


def _gaps(member: dict, client: dict) -> list[tuple[str, str]]:
    """``(gap, phrase)`` for each way the member falls short, in ``GAP_ORDER``."""
    gaps = []
    missing = [n for n in client["needs"] if n not in member["specialties"]]
    if missing:
        gaps.append(("specialty", "does not cover " + listing((words(n) for n in missing), "or")))
    if client["population"] and client["population"] not in member["populations"]:
        gaps.append(("population", f"does not see {plural(client['population'])}"))
    if client["insurance"] and client["insurance"] not in member["insurances"]:
        gaps.append(("insurance", f"does not take {words(client['insurance'])}"))
    if client["schedule"] and client["schedule"] not in member["schedule"]:
        gaps.append(("scheduling", f"has no {words(client['schedule'])} openings"))
    if not member["accepting_new"]:
        gaps.append(("not accepting new clients", "is not accepting new clients"))
    return gaps


def _own_gaps(addressed: dict, best: dict) -> list[tuple[str, str]]:
    """The addressed clinician's gaps (and phrases) the colleague does not have."""
    theirs = set(best["gap_reasons"])
    return [(g, why) for g, why in zip(addressed["gaps"], addressed["gap_reasons"]) if why not in theirs]


def _pass_reason(addressed: dict, best: dict) -> str:
    """The first gap of the addressed clinician the colleague does not share; a
    population gap is a specialty reason (the vocabulary of ``pass_reason``)."""
    for gap, _ in _own_gaps(addressed, best):
        if gap in ("specialty", "population"):
            return "specialty"
        if gap in ("insurance", "scheduling"):
            return gap
    return "other"


def _pass_why(addressed: dict, best: dict) -> list[str]:
    why = [f"{addressed['name']} {phrase}" for _, phrase in _own_gaps(addressed, best)]
    why += [f"{best['name']} {r}" for r in best["reasons"]]
    return why + [f"but {best['name']} {phrase}" for phrase in best["gap_reasons"]]


def _verdict(clinicians: dict, client: dict, eligible: list, addressed, suggestion, uncovered: list,
             providers: list) -> str:
    """One plain sentence: keep, pass, the best match, or that no clinician can take the client."""
    if not eligible:
        population = client["population"]
        if population and not any(population in a["populations"] for a in clinicians.values()):
            nobody = f"No clinician sees {plural(population)}"
        elif population:
            nobody = f"No clinician who sees {plural(population)} is accepting new clients"
        else:
            nobody = "No clinician is accepting new clients"
        if not uncovered:
            return f"{nobody}, and no outside provider is known for this client."
        where = refer_out(uncovered, providers)
        return f"{nobody}: {where}." if providers else f"{nobody}, and {where}."
    if suggestion is not None:
        own = [phrase for _, phrase in _own_gaps(addressed, suggestion)]
        because = f"{addressed['name']} {listing(own)}" if own else f"{suggestion['name']} fits better"
        return f"Pass to {suggestion['name']} (reason: {suggestion['reason']}): {because}."
    keep = addressed is not None and addressed["eligible"]
    chosen = addressed if keep else eligible[0]
    sentence = (f"{chosen['name']} is the best match available: keep it" if keep
                else f"Best match: {chosen['name']}")
    if chosen["gap_reasons"]:
        sentence += f", though {chosen['name']} {listing(chosen['gap_reasons'])}"
    return sentence + "."


def _unknown_needs(G, needs: list, suggestions: int = 3) -> list[dict]:
    """Needs that no clinician specialty, provider niche or past client lists, each
    with up to ``suggestions`` close known needs (``difflib``). ``needs``: those no
    clinician covers."""
    if not needs:
        return []
    known = set()
    for _, attrs in G.nodes(data=True):
        kind = attrs.get("kind")
        if kind == "clinician":
            known |= attrs["specialties"]
        elif kind == "provider":
            known |= attrs["niches"]
    if set(needs) - known:  # only then read the past clients
        for *_, data in G.edges(data=True):
            if data["type"] == "referral":
                known.update(data["needs"])
    ordered = sorted(known)
    return [{"need": n, "did_you_mean": difflib.get_close_matches(n, ordered, n=suggestions)}
            for n in needs if n not in known]


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
