"""Which clinician should take a new client, and when to pass or refer out.

``match_client`` scores every clinician for one client (``graphsvc.analysis.fit``)
and checks two hard constraints: the clinician sees the client's population
and accepts new clients. Only a clinician who passes both can keep a
referral or receive a pass; insurance, schedule and needs are scored, and any
they miss is named as a gap. When no clinician passes, the answer says so
and names the outside providers covering the client's needs. A need nobody
has ever listed (no specialty, niche or past client), or an insurance no
clinician takes and no past client had, is reported with the closest known
values, in case it is a typo, and left out of the match; when nothing known
is left to match on, the request is refused. A referral addressed to a staff
member (the intake coordinator, say) is addressed to the practice.
"""

from __future__ import annotations

import difflib
from collections import Counter

from ..errors import InvalidInput, NotFound
from ..limits import NOTHING_TO_MATCH
from ..presentation import listing, plural, refer_out, words
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
        The clinician the referral names, to keep or pass; ``"practice"`` or a
        staff member (the intake coordinator, say) for the practice as a whole.
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
        ``addressed``: the addressed clinician's own entry, if any;
        ``addressed_to_practice``: addressed to the practice or to a staff
        member; ``pass``: None, or the colleague to pass to with a ``reason``
        (specialty for a population or specialty gap, insurance, scheduling,
        other) and ``why``; ``no_eligible_clinician``; ``verdict``: one plain
        sentence; ``uncovered_needs``: needs no eligible clinician covers, with
        the ``external_providers`` covering them (most used first);
        ``unknown_needs``: needs nobody lists, with ``did_you_mean``;
        ``unknown_insurance``: the insurance, if no clinician takes it and no
        past client had it, with ``did_you_mean`` (left out of fit and gaps).

    Raises
    ------
    InvalidInput
        Neither needs, population nor insurance given, or only unknown ones
        (the message names them and the closest known values).
    NotFound
        ``addressed_to`` is neither a clinician, a staff member nor ``"practice"``.

    Examples
    --------
    >>> from graphsvc.analysis import graph as p
    >>> G = p.new_graph()
    >>> p.add_member(G, "ana", name="Ana", specialties=["adhd"], populations=["adult"], insurances=["medicaid"])
    >>> p.add_member(G, "ben", name="Ben", specialties=["adhd"], populations=["adolescent"])
    >>> out = match_client(G, needs=["adhd"], population="adolescent", addressed_to="ana")
    >>> [(c["member"], c["fit"], c["eligible"]) for c in out["candidates"]]
    [('ben', 1.0, True), ('ana', 0.6923, False)]
    >>> out["pass"]["member"], out["pass"]["reason"]
    ('ben', 'specialty')
    >>> out["verdict"]
    'Pass to Ben (reason: specialty): Ana does not see adolescents.'
    >>> out = match_client(G, needs=["adhdd"], population="adult", insurance="medicade")
    >>> out["unknown_needs"], out["verdict"]
    ([{'need': 'adhdd', 'did_you_mean': ['adhd']}], 'Best match: Ana.')
    >>> out["unknown_insurance"]
    [{'insurance': 'medicade', 'did_you_mean': ['medicaid']}]
    >>> try:
    ...     match_client(G, needs=["adhdd"])
    ... except InvalidInput as e:
    ...     print(e)
    nothing to match on: 'adhdd' is not a need any clinician, provider or past client lists (did you mean adhd?)
    """
    needs = tuple(dict.fromkeys(needs or ()))
    if not needs and not population and not insurance:
        raise InvalidInput(NOTHING_TO_MATCH)
    index = index or Index(G)
    clinicians = {m: a for m, a in index.members.items() if a["kind"] == "clinician"}
    staff = {m: a for m, a in index.members.items() if a["kind"] == "staff"}
    if addressed_to is not None and addressed_to != PRACTICE and addressed_to not in index.members:
        raise NotFound(f"field 'addressed_to': {addressed_to!r} is not a clinician, a staff member or "
                       f"{PRACTICE!r}")
    # A referral addressed to a staff member is addressed to the practice as a whole.
    to_practice = addressed_to == PRACTICE or addressed_to in staff
    covered = set().union(*(a["specialties"] for a in clinicians.values()))
    unknown_needs, unknown_insurance = _unknown(G, clinicians, [n for n in needs if n not in covered], insurance)
    unknown_names = {u["need"] for u in unknown_needs}
    client = {"needs": tuple(n for n in needs if n not in unknown_names), "population": population,
              # An insurance nobody takes or had cannot tell clinicians apart: no fit, no gap.
              "insurance": None if unknown_insurance else insurance, "schedule": schedule}
    if not client["needs"] and not client["population"] and not client["insurance"]:
        raise InvalidInput(_nothing_left(unknown_needs, unknown_insurance))
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
    via = staff[addressed_to]["name"] if addressed_to in staff else None
    return {
        "candidates": scored[:limit],
        "addressed": addressed,
        "addressed_to_practice": to_practice,
        "pass": suggestion,
        "no_eligible_clinician": not eligible,
        "verdict": _verdict(clinicians, client, eligible, addressed, suggestion, uncovered, providers,
                            to_practice=to_practice, via=via),
        "uncovered_needs": uncovered,
        "external_providers": providers,
        "unknown_needs": unknown_needs,
        "unknown_insurance": unknown_insurance,
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
    return [(g, why) for g, why in zip(addressed["gaps"], addressed["gap_reasons"], strict=False) if why not in theirs]


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
             providers: list, *, to_practice: bool = False, via: str | None = None) -> str:
    """One plain sentence: keep, pass, assign, the best match, or that no clinician can take the client.

    ``to_practice``: addressed to the practice, ``via`` the staff member's name if through one.
    """
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
    gaps = f" ({listing(chosen['gap_reasons'])})" if chosen["gap_reasons"] else ""
    if keep:
        return f"{chosen['name']} is the best match available{gaps}: keep it."
    if to_practice:
        through = f" (through {via})" if via else ""
        return f"Addressed to the practice{through}: assign the best match, {chosen['name']}{gaps}."
    return f"Best match: {chosen['name']}{gaps}."


def _unknown(G, clinicians: dict, needs: list, insurance: str | None, suggestions: int = 3):
    """``(unknown_needs, unknown_insurance)``: the needs no clinician specialty, provider
    niche or past client lists, and the insurance (as a list of at most one) no
    clinician takes and no past client had, each with up to ``suggestions`` close
    known values (``difflib``). ``needs``: those no clinician covers."""
    known_needs = set().union(*(a["specialties"] for a in clinicians.values()))
    if needs:  # only then read the providers
        for _, attrs in G.nodes(data=True):
            if attrs.get("kind") == "provider":
                known_needs |= attrs["niches"]
    insurances = set().union(*(a["insurances"] for a in clinicians.values()))
    if set(needs) - known_needs or (insurance and insurance not in insurances):  # only then read past clients
        for *_, data in G.edges(data=True):
            if data["type"] == "referral":
                known_needs.update(data["needs"])
                if data["insurance"]:
                    insurances.add(data["insurance"])

    def close(value, known):
        return difflib.get_close_matches(value, sorted(known), n=suggestions)

    unknown_needs = [{"need": n, "did_you_mean": close(n, known_needs)} for n in needs if n not in known_needs]
    unknown_insurance = ([{"insurance": insurance, "did_you_mean": close(insurance, insurances)}]
                         if insurance and insurance not in insurances else [])
    return unknown_needs, unknown_insurance


def _nothing_left(unknown_needs: list, unknown_insurance: list) -> str:
    """Why a request whose needs and insurance are all unknown cannot be matched."""
    def not_listed(items: list, noun: str, article: str, who: str) -> str:
        if len(items) == 1:
            value, close = items[0]
            maybe = f" (did you mean {listing(close, 'or')}?)" if close else ""
            return f"{value!r} is not {article} {noun} {who}{maybe}"
        values = listing(f"{v!r}" + (f" (did you mean {listing(c, 'or')}?)" if c else "") for v, c in items)
        return f"{values} are not {plural(noun)} {who}"

    why = []
    if unknown_needs:
        why.append(not_listed([(u["need"], u["did_you_mean"]) for u in unknown_needs], "need", "a",
                              "any clinician, provider or past client lists"))
    if unknown_insurance:
        why.append(not_listed([(u["insurance"], u["did_you_mean"]) for u in unknown_insurance], "insurance", "an",
                              "any clinician or past client lists"))
    return "nothing to match on: " + "; ".join(why)


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
