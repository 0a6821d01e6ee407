"""The next colleague to introduce to a referrer, and better matches for a client.

``suggest_introductions`` ranks practice members a point person could
introduce next. A member is eligible unless it is the point person, was
already introduced to the referrer, or already received one of its
referrals. Each eligible member gets a score from three parts, each 0..1:

* **fit** to the referrer's recent clients (the last ``recent`` referrals,
  the newest weighing most): their needs against the member's specialties,
  population, insurance and schedule;
* **trust by similar referrers**: half from the referrers that share members
  with this one (Jaccard similarity on the referrer-member graph of
  referrals), summed by similarity; half from the share of referrers of the
  same kind (pediatricians, clergy, ...) that refer to the member;
* **the point person's track record** introducing this member: the share of
  its earlier introductions of the member (to any referrer) followed by a
  referral, smoothed toward 0.

``score = w_fit * fit + w_trust * trust + w_track * track``. Members not
accepting new clients rank below every member who is. A referrer ready for
stage 3 (in stage 2 with ``ready_after`` colleagues tried) is first offered
the staff member who takes practice-addressed referrals.

``match_client`` scores every clinician for one new client and says whether
a colleague fits better than the addressed clinician (a pass), and which
outside providers the practice used before for needs nobody covers.
"""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date

from ..vocabulary import PRACTICE
from .referrals import point_person_on, to_practice

FIT_WEIGHTS = {"needs": 0.45, "population": 0.2, "insurance": 0.25, "schedule": 0.1}
BASIS_SIZE = 12


@dataclass
class Index:
    """Neighbourhoods of the referral graph, built once (optionally as of a day).

    ``before``: ignore every event dated on or after it (for backtests).
    """

    G: object
    before: date | None = None
    members: dict = field(default_factory=dict)
    referrals: dict = field(default_factory=lambda: defaultdict(list))      # referrer -> [(date, id, assigned, data)]
    referred_to: dict = field(default_factory=lambda: defaultdict(set))     # referrer -> members it referred to
    trusted: dict = field(default_factory=lambda: defaultdict(set))         # the same, clinicians only
    trusted_by: dict = field(default_factory=lambda: defaultdict(set))      # clinician -> referrers
    introduced: dict = field(default_factory=lambda: defaultdict(set))      # referrer -> members introduced
    intro_record: dict = field(default_factory=lambda: defaultdict(lambda: [0, 0]))  # (by, member) -> [made, led]
    addressed_counts: Counter = field(default_factory=Counter)               # member -> referrals addressed to it
    assigned_counts: Counter = field(default_factory=Counter)
    kind_trust: dict = field(default_factory=lambda: defaultdict(Counter))   # referrer kind -> member -> referrers

    def __post_init__(self):
        G, before = self.G, self.before
        self.members = {n: a for n, a in G.nodes(data=True) if a.get("kind") in ("clinician", "staff")}
        intros = []
        for r, m, key, data in G.edges(keys=True, data=True):
            if before is not None and data["date"] >= before:
                continue
            kind = data["type"]
            if kind == "referral":
                self.referrals[r].append((data["date"], key, m, data))
                for member in (m, data["addressed_to"]):
                    if member != PRACTICE:
                        self.referred_to[r].add(member)
                        # Staff stand for the practice as a whole: not a colleague trusted.
                        if G.nodes[member].get("kind") == "clinician":
                            self.trusted[r].add(member)
                            self.trusted_by[member].add(r)
                if data["addressed_to"] != PRACTICE:
                    self.addressed_counts[data["addressed_to"]] += 1
                self.assigned_counts[m] += 1
            elif kind == "introduction":
                self.introduced[r].add(m)
                intros.append((r, m, data["by"], data["date"]))
        for refs in self.referrals.values():
            refs.sort(key=lambda x: (x[0], x[1]))
        for r, members in self.trusted.items():
            self.kind_trust[G.nodes[r]["referrer_kind"]].update(members)
        for r, m, by, day in intros:
            record = self.intro_record[by, m]
            record[0] += 1
            if any(d >= day and (a == m or data["addressed_to"] == m) for d, _, a, data in self.referrals.get(r, ())):
                record[1] += 1

    def tried_colleagues(self, referrer) -> set:
        tenures = self.G.nodes[referrer]["tenures"]
        return {data["addressed_to"] for day, _, _, data in self.referrals.get(referrer, ())
                if not to_practice(self.G, data["addressed_to"])
                and data["addressed_to"] != point_person_on(tenures, day)}

    def point_person(self, referrer):
        tenures = self.G.nodes[referrer]["tenures"]
        if self.before is None:
            return tenures[-1][2] if tenures else None
        return point_person_on(tenures, self.before)


def suggest_introductions(G, referrer, *, limit: int = 5, recent: int = 8, decay: float = 0.85,
                          weights: tuple[float, float, float] = (0.3, 0.5, 0.2), similar: int = 50,
                          ready_after: int = 2, window: int = 5, index: Index | None = None,
                          before: date | None = None) -> list[dict]:
    """Ranked members to introduce to ``referrer`` next, with reasons.

    Parameters
    ----------
    G : networkx.MultiDiGraph
        A referral graph (``graphsvc.projection``).
    referrer : str
    limit : int
        How many suggestions.
    recent : int
        How many of the referrer's latest referrals describe its clients.
    decay : float
        Weight of each older referral relative to the next newer one.
    weights : (fit, trust, track)
    similar : int
        How many of the most similar referrers count as evidence.
    ready_after : int
        Colleagues tried in stage 2 before the intake staff member is suggested.
    window : int
        The stage-3 window: a referrer that sent any of its last ``window``
        referrals to the practice is not offered the intake staff member.
    index : Index, optional
        A prebuilt ``Index`` of ``G`` (the service keeps one); built if omitted.
    before : date, optional
        Use only events dated before this day (backtests).

    Returns
    -------
    list of dict
        ``member``, ``name``, ``kind``, ``score``, ``accepting_new``, ``parts``
        (``fit``, ``trust``, ``track``) and ``reasons`` (sentences), best first.

    Examples
    --------
    >>> from datetime import date
    >>> from graphsvc import projection as p
    >>> G = p.new_graph()
    >>> p.add_member(G, "ana", specialties=["anxiety"], populations=["child"])
    >>> p.add_member(G, "ben", name="Ben", specialties=["adhd"], populations=["child"])
    >>> p.add_member(G, "cai", specialties=["grief"], populations=["adult"])
    >>> p.add_referrer(G, "drx", point_person="ana", since=date(2024, 1, 1))
    >>> p.add_referral(G, "drx", "r1", date(2024, 2, 1), "ana", needs=["adhd"], population="child")
    >>> [s["member"] for s in suggest_introductions(G, "drx")]
    ['ben', 'cai']
    """
    index = index or Index(G, before)
    if referrer not in G or G.nodes[referrer].get("kind") != "referrer":
        from ..errors import NotFound

        raise NotFound(f"unknown referrer {referrer!r}")
    pp = index.point_person(referrer)
    excluded = {pp} | index.introduced.get(referrer, set()) | index.referred_to.get(referrer, set())
    history = index.referrals.get(referrer, [])[-recent:]
    clients = [(decay ** age, data) for age, (_, _, _, data) in enumerate(reversed(history))]
    trust, similar_referrers = _trust(index, referrer, similar)
    kind = G.nodes[referrer]["referrer_kind"]
    w_fit, w_trust, w_track = weights
    profile = _profile(clients)
    # Score every eligible clinician (numbers only), then explain just the top ones.
    scored = []
    for m, attrs in index.members.items():
        if m in excluded or attrs["kind"] != "clinician":
            continue
        fit = _fit_score(attrs, profile)
        made, led = index.intro_record.get((pp, m), (0, 0))
        track = led / (made + 1)  # smoothed: one success in one try is 0.5, not 1.0
        t = trust.get(m, 0.0)
        score = w_fit * fit + w_trust * t + w_track * track
        scored.append((not attrs["accepting_new"], -round(score, 4), m, fit, t, track))
    scored.sort()
    intake = _ready_for_stage_3(G, index, referrer, excluded, ready_after, window)
    top = scored[:max(limit - (intake is not None), 0)]
    similar_counts = Counter(m for s in similar_referrers for m in index.trusted.get(s, ()))
    same_kind = index.kind_trust.get(kind, Counter())
    pp_name = index.members[pp]["name"] if pp in index.members else pp
    out = [intake] if intake else []
    for not_accepting, neg_score, m, fit, t, track in top:
        attrs = index.members[m]
        name = attrs["name"]
        reasons = _fit_reasons(attrs, clients)
        n = similar_counts.get(m, 0)
        if n:
            reasons.append(f"{n} referrer{'s' if n != 1 else ''} similar to this one "
                           f"refer{'s' if n == 1 else ''} to {name}")
        n = same_kind.get(m, 0)
        if n:
            reasons.append(f"{n} {_words(kind)}{'s' if n != 1 else ''} refer{'s' if n == 1 else ''} to {name}")
        made, led = index.intro_record.get((pp, m), (0, 0))
        if led and pp is not None:
            reasons.append(f"{led} of {pp_name}'s {made} introduction{'s' if made != 1 else ''} "
                           f"of {name} led to referrals")
        if not_accepting:
            reasons.append("not accepting new clients")
        out.append({"member": m, "name": name, "kind": attrs["kind"], "score": -neg_score,
                    "accepting_new": not not_accepting,
                    "parts": {"fit": round(fit, 4), "trust": round(t, 4), "track": round(track, 4)},
                    "reasons": reasons})
    return out[:limit]


def _profile(clients: list) -> dict:
    """The weighted recent clients, summed per aspect value, for fast scoring."""
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


def _fit_score(member: dict, profile: dict) -> float:
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


def _fit(member: dict, clients: list) -> tuple[float, list[str]]:
    """How well ``member`` fits the weighted recent clients, and why (sentences)."""
    return _fit_score(member, _profile(clients)), _fit_reasons(member, clients)


def _fit_reasons(member: dict, clients: list) -> list[str]:
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
        who = "" if population in need else _words(population) + " "
        reasons.append(f"covers {who}{_words(need)}, which {k} of this referrer's "
                       f"last {n} referrals needed")
    if insurances:
        plan, k = min(insurances.items(), key=lambda kv: (-kv[1], kv[0]))
        reasons.append(f"takes {_words(plan)} like {k} of its last {n} clients")
    if slots:
        slot, k = min(slots.items(), key=lambda kv: (-kv[1], kv[0]))
        reasons.append(f"has {_words(slot)} openings, which {k} of its last {n} clients wanted")
    return reasons


def _trust(index: Index, referrer, similar: int, kind_share: float = 0.5) -> tuple[dict, list]:
    """Members trusted by referrers like this one, 0..1.

    Half from the ``similar`` referrers nearest by Jaccard similarity of the
    members they referred to, half from all referrers of the same kind
    (pediatricians, clergy, ...), each part scaled to its best member.
    """
    mine = _basis(index, referrer)
    shared: Counter = Counter()
    for m in mine:
        for s in index.trusted_by.get(m, ()):
            shared[s] += 1
    shared.pop(referrer, None)
    size = len(mine)
    trusted = index.trusted
    top = heapq.nlargest(similar, ((common / (size + len(trusted[s]) - common), s)  # Jaccard
                                   for s, common in shared.items()))
    votes: Counter = Counter()
    for sim, s in top:
        for m in index.trusted[s]:
            votes[m] += sim
    same_kind = index.kind_trust.get(index.G.nodes[referrer]["referrer_kind"], Counter())
    trust: dict = defaultdict(float)
    for part, weight in ((votes, 1 - kind_share), (same_kind, kind_share)):
        best = max(part.values(), default=0)
        for m, v in part.items():
            trust[m] += weight * v / best
    return dict(trust), [s for _, s in top]


def _basis(index: Index, referrer, most: int = BASIS_SIZE) -> set:
    """The clinicians that define a referrer for similarity: its point person and
    the ``most`` clinicians it referred to most often (a heavy referrer's long
    tail of one-off referrals says little, and costs a lot to compare)."""
    counts: Counter = Counter()
    for *_, assigned, data in index.referrals.get(referrer, ()):
        for m in {assigned, data["addressed_to"]} & index.trusted.get(referrer, set()):
            counts[m] += 1
    basis = {m for m, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:most]}
    pp = index.point_person(referrer)
    if pp is not None:
        basis.add(pp)
    return basis


def _ready_for_stage_3(G, index: Index, referrer, excluded: set, ready_after: int,
                       window: int) -> dict | None:
    """The intake staff member, when a stage-2 referrer has tried enough colleagues."""
    tried = index.tried_colleagues(referrer)
    history = index.referrals.get(referrer, [])
    practice_now = any(to_practice(G, data["addressed_to"]) for *_, data in history[-window:])
    if len(tried) < ready_after or practice_now:
        return None
    staff = [(m, a) for m, a in index.members.items() if a["kind"] == "staff" and m not in excluded]
    if not staff:
        return None
    m, attrs = min(staff, key=lambda ma: (ma[1].get("role") != "intake_coordinator",
                                          -index.addressed_counts.get(ma[0], 0), ma[0]))
    role = _words(attrs.get("role") or "staff member")
    return {"member": m, "name": attrs["name"], "kind": "staff", "score": 1.0, "accepting_new": True,
            "parts": {"fit": 0.0, "trust": 0.0, "track": 0.0},
            "reasons": [f"ready for stage 3: has tried {len(tried)} colleagues of its point person; "
                        f"introduce the {role}, who takes referrals for the whole practice"]}


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
    scored = []
    for m, attrs in clinicians.items():
        fit, _ = _fit(attrs, [(1.0, coverable)])
        scored.append({"member": m, "name": attrs["name"], "fit": round(fit, 4),
                       "accepting_new": attrs["accepting_new"], "reasons": _strengths(attrs, client),
                       "gaps": _gaps(attrs, coverable)})
    scored.sort(key=lambda s: (not s["accepting_new"], -s["fit"], s["member"]))
    addressed = next((s for s in scored if s["member"] == addressed_to), None)
    if addressed_to is not None and addressed is None and addressed_to != PRACTICE:
        from ..errors import NotFound

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
        out.append("covers " + ", ".join(_words(n) for n in covered))
    if client["population"] and client["population"] in member["populations"]:
        out.append(f"sees {_words(client['population'])} clients")
    if client["insurance"] and client["insurance"] in member["insurances"]:
        out.append(f"takes {_words(client['insurance'])}")
    if client["schedule"] and client["schedule"] in member["schedule"]:
        out.append(f"has {_words(client['schedule'])} openings")
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


def _words(slug: str) -> str:
    special = {"adhd": "ADHD", "ocd": "OCD", "bcbs": "BCBS", "medicaid": "Medicaid", "medicare": "Medicare",
               "tricare": "Tricare", "aetna": "Aetna", "cigna": "Cigna", "united": "United"}
    return " ".join(special.get(part, part) for part in slug.split("_")) if slug not in special else special[slug]
