"""The next colleague to introduce to a referrer, with reasons.

``suggest_introductions`` ranks practice members a point person could
introduce next. A member is eligible unless it is the point person, was
already introduced to the referrer, or already received one of its
referrals. Each eligible member gets a score from three parts, each 0..1:

* **fit** to the referrer's recent clients (the last ``recent`` referrals,
  the newest weighing most): their needs against the member's specialties,
  population, insurance and schedule (``graphsvc.analysis.fit``);
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
"""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from datetime import date
from typing import NamedTuple

from ..config import DEFAULT_ANALYSIS
from ..errors import NotFound
from ..presentation import count_of, verb, words
from ..rules import READY_AFTER
from .fit import fit_reasons, fit_score, profile
from .index import Index
from .referrals import StaffPool, stage_3_introduction

BASIS_SIZE = 12
DEFAULT_WEIGHTS = (0.3, 0.5, 0.2)  # fit, trust, track
DEFAULT_DECAY = 0.85  # how much each older referral counts, relative to the next newer one


def suggest_introductions(G, referrer, *, limit: int = 5, recent: int = 8, decay: float = DEFAULT_DECAY,
                          weights: tuple[float, float, float] = DEFAULT_WEIGHTS, similar: int = 50,
                          ready_after: int = READY_AFTER, window: int = DEFAULT_ANALYSIS.window,
                          index: Index | None = None,
                          before: date | None = None, accepting: bool | None = None) -> list[dict]:
    """Ranked members to introduce to ``referrer`` next, with reasons.

    Parameters
    ----------
    G : networkx.MultiDiGraph
        A referral graph (``graphsvc.analysis.graph``).
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
        The stage-3 window: a referrer already in stage 3 by that window
        (``rules.whole_practice``) is not offered the intake staff member.
    index : Index, optional
        A prebuilt ``Index`` of ``G`` (the service keeps one); built if omitted.
    before : date, optional
        Use only events dated before this day (backtests).
    accepting : bool, optional
        True: only members accepting new clients now (and the intake staff
        member when the referrer is ready for stage 3); False: only members
        not accepting now; None (default): both, accepting ones first.

    Returns
    -------
    list of dict
        ``member``, ``name``, ``kind``, ``score``, ``accepting_new``, ``parts``
        (``fit``, ``trust``, ``track``) and ``reasons`` (sentences), best first.

    Examples
    --------
    >>> from datetime import date
    >>> from graphsvc.analysis import graph as p
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
    parts = candidate_parts(G, referrer, index=index, recent=recent, decay=decay, similar=similar,
                            accepting=accepting)
    pp, excluded, clients, similar_referrers = parts.pp, parts.excluded, parts.clients, parts.similar_referrers
    kind = G.nodes[referrer]["referrer_kind"]
    # Score every eligible clinician (numbers only), then explain just the top ones.
    scored = rank_candidates(parts.candidates, weights)
    intake = None if accepting is False else _ready_for_stage_3(G, index, referrer, excluded, ready_after,
                                                                window)
    top = scored[:max(limit - (intake is not None), 0)]
    similar_counts = Counter(m for s in similar_referrers for m in index.trusted.get(s, ()))
    same_kind = index.kind_trust.get(kind, Counter())
    pp_name = index.members[pp]["name"] if pp in index.members else pp
    out = [intake] if intake else []
    for not_accepting, neg_score, m, fit, t, track in top:
        attrs = index.members[m]
        name = attrs["name"]
        reasons = fit_reasons(attrs, clients)
        n = similar_counts.get(m, 0)
        if n:
            reasons.append(f"{count_of(n, 'referrer')} similar to this one "
                           f"{verb(n, 'refers', 'refer')} to {name}")
        n = same_kind.get(m, 0)
        if n:
            reasons.append(f"{count_of(n, kind)} {verb(n, 'refers', 'refer')} to {name}")
        made, led = index.intro_record.get((pp, m), (0, 0))
        if led and pp is not None:
            share = f"{pp_name}'s introduction" if made == 1 else \
                f"{led} of {pp_name}'s {count_of(made, 'introduction')}"
            reasons.append(f"{share} of {name} to other referrers led to referrals")
        if not_accepting:
            reasons.append("not accepting new clients")
        out.append({"member": m, "name": name, "kind": attrs["kind"], "score": -neg_score,
                    "accepting_new": not not_accepting,
                    "parts": {"fit": round(fit, 4), "trust": round(t, 4), "track": round(track, 4)},
                    "reasons": reasons})
    return out[:limit]


class Candidate(NamedTuple):
    """One eligible clinician's parts (each 0..1), before any weights."""

    member: str
    accepting_new: bool
    fit: float
    trust: float
    track: float


class CandidateParts(NamedTuple):
    """What ``suggest_introductions`` knows of a referrer before it weighs the parts.

    ``candidates`` in ``index.members`` order; ``clients`` the referrer's recent
    clients as ``[(weight, referral data), ...]``, newest first.
    """

    pp: object
    excluded: set
    clients: list
    similar_referrers: list
    candidates: list


def candidate_parts(G, referrer, *, index: Index, recent: int = 8, decay: float = DEFAULT_DECAY,
                    similar: int = 50,
                    accepting: bool | None = None) -> CandidateParts:
    """Every eligible clinician's fit, trust and track for ``referrer``, unranked and unweighted.

    The numbers ``suggest_introductions`` ranks (``rank_candidates``), exposed
    so that a backtest or a tuner can compute them once per case and score any
    weights by a dot product. Raises ``NotFound`` for an unknown referrer.
    """
    if referrer not in G or G.nodes[referrer].get("kind") != "referrer":
        raise NotFound(f"unknown referrer {referrer!r}")
    pp = index.point_person(referrer)
    excluded = {pp} | index.introduced.get(referrer, set()) | index.referred_to.get(referrer, set())
    history = index.referrals.get(referrer, [])[-recent:]
    clients = [(decay ** age, data) for age, (_, _, _, data) in enumerate(reversed(history))]
    trust, similar_referrers = _trust(index, referrer, similar)
    wanted = profile(clients)
    candidates = []
    for m, attrs in index.members.items():
        if m in excluded or attrs["kind"] != "clinician":
            continue
        if accepting is not None and attrs["accepting_new"] != accepting:
            continue
        made, led = index.intro_record.get((pp, m), (0, 0))
        track = led / (made + 1)  # smoothed: one success in one try is 0.5, not 1.0
        candidates.append(Candidate(m, attrs["accepting_new"], fit_score(attrs, wanted), trust.get(m, 0.0), track))
    return CandidateParts(pp, excluded, clients, similar_referrers, candidates)


def rank_candidates(candidates, weights: tuple[float, float, float] = DEFAULT_WEIGHTS) -> list[tuple]:
    """Candidates best first as ``(not accepting, -score, member, fit, trust, track)``.

    ``score = w_fit * fit + w_trust * trust + w_track * track`` rounded to 4
    places; members not accepting new clients after all who are; ties by id.
    """
    w_fit, w_trust, w_track = weights
    scored = [(not c.accepting_new, -round(w_fit * c.fit + w_trust * c.trust + w_track * c.track, 4), c.member,
               c.fit, c.trust, c.track) for c in candidates]
    scored.sort()
    return scored


def intake_candidate(G, referrer, excluded: set, *, index: Index, ready_after: int = READY_AFTER,
                     window: int = DEFAULT_ANALYSIS.window) -> dict | None:
    """The intake staff member ``suggest_introductions`` offers first, when the referrer is ready for stage 3."""
    return _ready_for_stage_3(G, index, referrer, excluded, ready_after, window)

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
    """The intake staff member as a suggestion, when the referrer is ready for stage 3.

    The rule is ``referrals.stage_3_introduction`` (``rules.ready_for_stage_3``
    and ``rules.coordinator_to_introduce``), the one the ready worklist reads
    too; the members it has met are those ``excluded`` here.
    """
    found = stage_3_introduction(G, referrer, index.referrals.get(referrer, ()), excluded,
                                 staff=StaffPool(G, index.members, index.addressed_counts), ready_after=ready_after,
                                 window=window)
    if found is None:
        return None
    m, tried = found
    attrs = index.members[m]
    role = words(attrs.get("role") or "staff member")
    return {"member": m, "name": attrs["name"], "kind": "staff", "score": 1.0, "accepting_new": True,
            "parts": {"fit": 0.0, "trust": 0.0, "track": 0.0},
            "reasons": [f"ready for stage 3: has tried {len(tried)} colleagues of its point person; "
                        f"introduce {attrs['name']} ({role}), who takes referrals for the whole practice"]}
