"""Learn the weights of the suggestions' parts from the practice's own history.

``suggest_introductions`` scores each eligible clinician as ``w_fit * fit +
w_trust * trust + w_track * track``; the default weights (0.3, 0.5, 0.2) were
chosen on the demo generator, not on the practice in front of us. ``tune``
finds out what drives adoption here:

1. **Cases.** Every past introduction followed by a referral to the
   introduced member (``backtest.introduction_cases``), replayed in date
   order with only the events dated before it (``backtest.replay``).
2. **Time split.** Learn on the cases before ``cut`` (by default the day
   that splits the cases 70/30), validate on those from ``cut`` on: the
   weights are judged on introductions they never saw, later in time, as
   they will be used.
3. **Parts once.** Each case's fit, trust and track per eligible clinician
   are computed once (``suggestions.candidate_parts``); any weights then
   rank a case by a dot product, exactly as ``suggest_introductions`` ranks
   (score rounded to 4 places, members accepting new clients first, ties by
   id, the intake coordinator first when the referrer is ready for stage 3).
4. **Search.** Every weight vector on a simplex grid (step 0.1: 66 vectors
   summing to 1) is scored on the learning cases; the best mean reciprocal
   rank wins, ties going to the better hit@3, then to the vector nearest the
   defaults (so the defaults stand unless the data says otherwise), then to
   the smaller vector in (fit, trust, track) order. Deterministic: same
   data, same weights.
5. **Recency decay** (how much each older referral counts in fit, 0.85 by
   default) is searched the same way over ``decays``; a decay other than the
   default must do strictly better on the learning cases (a tie keeps the
   default) and is kept only when it also beats the default decay's best
   weights on the validation cases (it has to earn its keep).
6. **Checks.** With fewer than ``min_cases`` learning cases (50: below that
   one case moves MRR by 0.02 or more, as much as neighbouring grid points
   differ, so the search would chase single cases) or fewer than
   ``min_validation`` validation cases (nothing to check the weights on),
   or when the tuned weights do worse than the defaults on the validation
   cases, the defaults are kept and ``why`` says so.

The validation table compares the tuned weights, the defaults and the
backtest's baselines (random eligible member, most referred member, observed
fit) by hit@1, hit@3 and MRR. Pure: reads a NetworkX graph, never the
database.
"""

from __future__ import annotations

from datetime import date

import numpy as np

from ..config import DEFAULT_ANALYSIS
from ..rules import READY_AFTER
from .backtest import eligible_members, introduction_cases, most_referred, observed_fit, replay
from .fit import fit_score, profile
from .suggestions import DEFAULT_DECAY, DEFAULT_WEIGHTS, candidate_parts, intake_candidate

PARTS = ("fit", "trust", "track")
MIN_CASES = 50
MIN_VALIDATION = 20
DECAYS = (0.5, 0.7, 0.85, 1.0)
PART_WORDS = {"fit": "fit to the referrer's clients",
              "trust": "what similar referrers trust",
              "track": "the point person's track record with the colleague"}


def simplex(step: float = 0.1) -> list[tuple[float, float, float]]:
    """Every (fit, trust, track) on a grid of ``step`` that sums to 1, e.g. 66 vectors for 0.1.

    >>> len(simplex(0.1)), simplex(0.5)
    (66, [(0.0, 0.0, 1.0), (0.0, 0.5, 0.5), (0.0, 1.0, 0.0), (0.5, 0.0, 0.5), (0.5, 0.5, 0.0), (1.0, 0.0, 0.0)])
    """
    n = round(1 / step)
    return [(round(i / n, 10), round(j / n, 10), round((n - i - j) / n, 10))
            for i in range(n + 1) for j in range(n + 1 - i)]


def tune(G, *, cut: date | None = None, grid=None, decays=DECAYS, min_cases: int = MIN_CASES,
         min_validation: int = MIN_VALIDATION, split: float = 0.7, **options) -> dict:
    """Weights of fit, trust and track (and the recency decay) learned from the practice's history.

    Parameters
    ----------
    G : networkx.MultiDiGraph
    cut : date, optional
        Learn on introductions dated before it, validate on the rest; by
        default the day that splits the cases ``split`` / ``1 - split``.
    grid : list of (fit, trust, track), optional
        The weight vectors searched; ``simplex(0.1)`` by default (66).
    decays : tuple of float
        Recency decays searched (the default decay, 0.85 or ``options["decay"]``,
        is always among them).
    min_cases : int
        Fewer learning cases than this: keep the defaults.
    min_validation : int
        Fewer validation cases than this: keep the defaults.
    **options
        ``suggest_introductions`` options held fixed: ``recent``, ``similar``,
        ``ready_after``, ``window``, ``decay`` (the default decay),
        ``weights`` (the defaults compared against).

    Returns
    -------
    dict
        ``weights`` ({fit, trust, track}, those to use), ``decay`` (the decay to
        use), ``decay_tuned``, ``kept_defaults``, ``why`` (None or a sentence),
        ``cases`` ({learn, validate}), ``skipped``, ``cut``, ``learned`` (the
        best weights on the learning cases, used or not), ``validation`` and
        ``learning``: {tuned, defaults, random, most_referred, observed_fit},
        each {hit@1, hit@3, mrr} (None without cases), ``grid`` (vectors
        searched), ``decays``, ``min_cases``, ``summary`` (which part
        weighs most, in words) and, once tuned, ``gain``: the validation MRR
        of the learned weights minus the defaults', ``{"mrr", "ci95"}``
        (a paired bootstrap over the validation cases).
    """
    defaults = tuple(options.pop("weights", DEFAULT_WEIGHTS))
    default_decay = options.pop("decay", DEFAULT_DECAY)
    grid = [tuple(w) for w in (grid if grid is not None else simplex(0.1))]
    decays = tuple(sorted(set(decays) | {default_decay}))
    cases = collect_cases(G, decays=decays, **options)
    days = [c["day"] for c in cases]
    if cut is None and cases:
        cut = days[min(int(len(days) * split), len(days) - 1)]
    learn = [c for c in cases if cut is not None and c["day"] < cut]
    validate = [c for c in cases if cut is None or c["day"] >= cut]
    d0 = decays.index(default_decay)
    out = {"cut": cut, "cases": {"learn": len(learn), "validate": len(validate)},
           "skipped": len(introduction_cases(G)) - len(cases),
           "grid": len(grid), "decays": list(decays), "min_cases": min_cases}

    def table(subset, tuned_weights, tuned_decay):
        rows = {"tuned": _metrics(_rr(subset, [tuned_weights], decays.index(tuned_decay))[:, 0]),
                "defaults": _metrics(_rr(subset, [defaults], d0)[:, 0])}
        for name in ("random", "most_referred", "observed_fit"):
            rows[name] = _baseline(subset, name)
        return rows

    why = None
    if len(learn) < min_cases:
        why = (f"only {len(learn)} learning case{'' if len(learn) == 1 else 's'} (introductions followed by a "
               f"referral before {cut}); "
               f"at least {min_cases} are needed for the weights to reflect the practice rather than a few cases")
    elif len(validate) < min_validation:
        why = (f"only {len(validate)} validation case{'' if len(validate) == 1 else 's'} from {cut} on; "
               f"at least {min_validation} are needed "
               f"to check tuned weights on introductions they were not learned from")
    if why:
        out.update(weights=dict(zip(PARTS, defaults, strict=False)), decay=default_decay, decay_tuned=False,
                   kept_defaults=True, why=why, learned=None,
                   validation=table(validate, defaults, default_decay),
                   learning=table(learn, defaults, default_decay))
        out["summary"] = weights_reason(defaults)
        return out

    best = {}  # decay index -> (weights, learning mrr)
    for di in range(len(decays)):
        best[di] = _pick(grid, _ranks(learn, grid, di), defaults)
    chosen_di = d0
    overall = min(range(len(decays)), key=lambda di: (-best[di][1], -best[di][2], di != d0, best[di][3], di))
    if overall != d0:
        # A decay other than the default must also win on the validation cases.
        v_other = _rr(validate, [best[overall][0]], overall)[:, 0].mean()
        v_default = _rr(validate, [best[d0][0]], d0)[:, 0].mean()
        if v_other > v_default:
            chosen_di = overall
    learned, decay = best[chosen_di][0], decays[chosen_di]
    out["learned"] = {**dict(zip(PARTS, learned, strict=False)), "decay": decay}
    out["validation"] = table(validate, learned, decay)
    out["learning"] = table(learn, learned, decay)
    out["gain"] = _paired_gain(_rr(validate, [learned], chosen_di)[:, 0], _rr(validate, [defaults], d0)[:, 0])
    tuned_mrr, default_mrr = out["validation"]["tuned"]["mrr"], out["validation"]["defaults"]["mrr"]
    if tuned_mrr < default_mrr:
        out.update(weights=dict(zip(PARTS, defaults, strict=False)), decay=default_decay, decay_tuned=False,
                   kept_defaults=True,
                   why=(f"the weights learned before {cut} did worse than the defaults on the "
                        f"{len(validate)} later cases (MRR {tuned_mrr} vs {default_mrr})"))
    else:
        out.update(weights=dict(zip(PARTS, learned, strict=False)), decay=decay, decay_tuned=decay != default_decay,
                   kept_defaults=False, why=None)
    out["summary"] = weights_reason(tuple(out["weights"][p] for p in PARTS))
    return out


def in_force(stored: dict | None) -> dict:
    """``{"weights": (fit, trust, track), "decay", "tuned", "source"}``: the stored ones, else the defaults.

    ``stored`` is what ``graphsvc evaluate --tune`` stored on the practice
    (``store.weights.stored_weights``), or None. ``source`` says where the
    weights come from, as a phrase that stands on its own, and ``tuned``
    whether this practice's history chose them.

    >>> in_force(None)["source"]
    'the default weights, not tuned on this practice yet (graphsvc evaluate --tune)'
    >>> in_force({"weights": [0.1, 0.8, 0.1], "decay": 0.7, "tuned_at": "2026-11-30T10:00:00",
    ...           "cases_learn": 400, "cases_validate": 120})["source"]
    "weights tuned on 2026-11-30 from this practice's history (400 learning and 120 validation cases)"
    """
    if not stored:
        return {"weights": tuple(DEFAULT_WEIGHTS), "decay": DEFAULT_DECAY, "tuned": False,
                "source": "the default weights, not tuned on this practice yet (graphsvc evaluate --tune)"}
    when = stored["tuned_at"][:10] if stored.get("tuned_at") else "?"
    cases = f"{stored.get('cases_learn') or 0} learning and {stored.get('cases_validate') or 0} validation cases"
    if stored.get("kept_defaults"):
        source = f"the default weights, kept by graphsvc evaluate --tune on {when} ({cases}): {stored.get('why')}"
    else:
        source = f"weights tuned on {when} from this practice's history ({cases})"
    return {"weights": tuple(stored["weights"]), "decay": stored.get("decay") or DEFAULT_DECAY,
            "tuned": not stored.get("kept_defaults"), "source": source}


def weights_reason(weights) -> str:
    """Which parts weigh most, as a sentence for the suggestions' reasons.

    ``weights``: (fit, trust, track) or a dict with those keys. Parts within
    0.1 of the heaviest count as weighing about as much.

    >>> weights_reason((0.7, 0.2, 0.1))
    "in this practice, fit to the referrer's clients weighs most"
    >>> weights_reason({"fit": 0.4, "trust": 0.45, "track": 0.15})
    "in this practice, what similar referrers trust and fit to the referrer's clients weigh most, about equally"
    >>> weights_reason((0.3, 0.3, 0.4))
    'in this practice, fit, trust and track record weigh about equally'
    """
    if isinstance(weights, dict):
        weights = tuple(weights[p] for p in PARTS)
    order = sorted(zip(PARTS, weights, strict=False), key=lambda pw: (-pw[1], PARTS.index(pw[0])))
    top = [p for p, w in order if order[0][1] - w < 0.1 + 1e-9]
    if len(top) == 3:
        return "in this practice, fit, trust and track record weigh about equally"
    if len(top) == 2:
        return f"in this practice, {PART_WORDS[top[0]]} and {PART_WORDS[top[1]]} weigh most, about equally"
    return f"in this practice, {PART_WORDS[top[0]]} weighs most"


def collect_cases(G, *, decays=(DEFAULT_DECAY,), recent: int = 8, similar: int = 50, ready_after: int = READY_AFTER,
                  window: int = DEFAULT_ANALYSIS.window, accepting: bool | None = None) -> list[dict]:
    """Each evaluable case's per-candidate parts, computed once (one replay of the history).

    Returns one dict per case (cases whose member was not eligible are left
    out, as the backtest skips them): ``day``, ``referrer``, ``member``, ``fit`` (an
    array per decay in ``decays``), ``trust``, ``track``, ``not_accepting``,
    ``order`` (each candidate's place among member ids), ``target`` (the
    member's row among the candidates, or None), ``intake`` (whether the
    intake staff member comes first), ``target_is_intake``, ``eligible`` and
    the baselines' ranks (``most_referred``, ``observed_fit``).
    """
    order = {m: i for i, m in enumerate(sorted(n for n, a in G.nodes(data=True)
                                               if a.get("kind") in ("clinician", "staff")))}
    decays = tuple(decays)
    out = []
    for (referrer, member, day), index in replay(G, introduction_cases(G)):
        eligible = eligible_members(index, referrer)
        if member not in eligible:
            continue  # skipped, as in the backtest
        parts = candidate_parts(G, referrer, index=index, recent=recent, decay=DEFAULT_DECAY,
                                similar=similar, accepting=accepting)
        cands = parts.candidates
        intake = None if accepting is False else intake_candidate(G, referrer, parts.excluded, index=index,
                                                                  ready_after=ready_after, window=window)
        history = index.referrals.get(referrer, [])[-recent:]
        fits = []
        for d in decays:
            if d == DEFAULT_DECAY:
                fits.append(np.array([c.fit for c in cands], dtype=float))
                continue
            wanted = profile([(d ** age, data) for age, (*_, data) in enumerate(reversed(history))])
            fits.append(np.array([fit_score(index.members[c.member], wanted) for c in cands], dtype=float))
        rows = {c.member: i for i, c in enumerate(cands)}
        out.append({
            "day": day, "referrer": referrer, "member": member, "eligible": len(eligible),
            "fit": fits, "trust": np.array([c.trust for c in cands], dtype=float),
            "track": np.array([c.track for c in cands], dtype=float),
            "not_accepting": np.array([not c.accepting_new for c in cands], dtype=bool),
            "order": np.array([order[c.member] for c in cands], dtype=np.int64),
            "target": rows.get(member), "intake": intake is not None,
            "target_is_intake": intake is not None and intake["member"] == member,
            "most_referred": most_referred(index, eligible).index(member) + 1,
            "observed_fit": observed_fit(index, referrer, eligible).index(member) + 1,
        })
    return out


def _rr(cases: list[dict], weights: list, di: int) -> np.ndarray:
    """Reciprocal rank of each case's member (rows) under each weight vector (columns)."""
    return _reciprocal(_ranks(cases, weights, di))


def _reciprocal(ranks: np.ndarray) -> np.ndarray:
    return np.where(ranks > 0, 1.0 / np.maximum(ranks, 1), 0.0)


def _ranks(cases: list[dict], weights: list, di: int) -> np.ndarray:
    """Rank (1 = first) of each case's member under each weight vector; 0 when it is not ranked at all.

    Exactly ``suggest_introductions``' order: the intake staff member first
    when offered, then members accepting new clients before the others, by
    score rounded to 4 places (highest first), ties by member id.
    """
    W = np.asarray(weights, dtype=float).reshape(-1, 3)
    ranks = np.zeros((len(cases), len(W)), dtype=np.int64)
    ranked = [i for i, c in enumerate(cases) if c["target"] is not None and not c["target_is_intake"]]
    for i, c in enumerate(cases):
        if c["target_is_intake"]:
            ranks[i] = 1
    if not ranked:
        return ranks
    sub = [cases[i] for i in ranked]
    F = np.concatenate([c["fit"][di] for c in sub])[:, None]
    T = np.concatenate([c["trust"] for c in sub])[:, None]
    K = np.concatenate([c["track"] for c in sub])[:, None]
    na = np.concatenate([c["not_accepting"] for c in sub])[:, None]
    order = np.concatenate([c["order"] for c in sub])[:, None]
    sizes = np.array([len(c["trust"]) for c in sub])
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    case_of_row = np.repeat(np.arange(len(sub)), sizes)
    target_row = starts + np.array([c["target"] for c in sub])
    # Same operations, in the same order, as rank_candidates: w_fit*fit + w_trust*trust + w_track*track.
    S = np.round(F * W[:, 0] + T * W[:, 1] + K * W[:, 2], 4)
    St = S[target_row][case_of_row]
    na_t = na[target_row][case_of_row]
    order_t = order[target_row][case_of_row]
    ahead = (na < na_t) | ((na == na_t) & ((S > St) | ((S == St) & (order < order_t))))
    ahead_counts = np.add.reduceat(ahead.astype(np.int64), starts, axis=0)
    intake = np.array([c["intake"] for c in sub], dtype=np.int64)[:, None]
    ranks[ranked] = 1 + intake + ahead_counts
    return ranks


def _pick(grid: list, ranks: np.ndarray, defaults: tuple) -> tuple:
    """The best weights: highest MRR, then hit@3, then nearest the defaults, then smallest."""
    mrr = _reciprocal(ranks).mean(axis=0)
    hit3 = ((ranks > 0) & (ranks <= 3)).mean(axis=0)
    dist = [round(sum((a - b) ** 2 for a, b in zip(w, defaults, strict=False)), 9) for w in grid]
    j = min(range(len(grid)), key=lambda j: (-round(float(mrr[j]), 9), -round(float(hit3[j]), 9), dist[j], grid[j]))
    return grid[j], round(float(mrr[j]), 9), round(float(hit3[j]), 9), dist[j]


def _paired_gain(tuned: np.ndarray, defaults: np.ndarray, resamples: int = 2000) -> dict:
    """MRR of the tuned weights minus the defaults' on the same validation cases, with a 95% interval.

    A paired bootstrap over cases (fixed seed, so repeatable): an interval
    above 0 says the gain is more than the luck of which cases fell after
    the cut.
    """
    diff = tuned - defaults
    draws = np.random.default_rng(0).integers(0, len(diff), size=(resamples, len(diff)))
    lo, hi = np.percentile(diff[draws].mean(axis=1), [2.5, 97.5])
    return {"mrr": round(float(diff.mean()), 4), "ci95": [round(float(lo), 4), round(float(hi), 4)]}


def _metrics(rr: np.ndarray) -> dict:
    """hit@1, hit@3 and MRR from reciprocal ranks (rank k has rr 1/k)."""
    if not len(rr):
        return {"hit@1": None, "hit@3": None, "mrr": None}
    return {"hit@1": round(float((rr >= 1 - 1e-12).mean()), 4),
            "hit@3": round(float((rr >= 1 / 3 - 1e-12).mean()), 4),
            "mrr": round(float(rr.mean()), 4)}


def _baseline(cases: list[dict], name: str) -> dict:
    if not cases:
        return {"hit@1": None, "hit@3": None, "mrr": None}
    if name == "random":
        ns = [c["eligible"] for c in cases]
        return {"hit@1": round(sum(1 / n for n in ns) / len(ns), 4),
                "hit@3": round(sum(min(3, n) / n for n in ns) / len(ns), 4),
                "mrr": round(sum(sum(1 / i for i in range(1, n + 1)) / n for n in ns) / len(ns), 4)}
    return _metrics(np.array([1 / c[name] for c in cases]))
