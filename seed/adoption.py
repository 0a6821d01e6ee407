"""The ``fit``, ``peers`` and ``mixed`` adoption modes of the seed generator.

``seed.generate`` plans the practice, the referrers (with the days their
point persons introduce colleagues, but not whom) and the referral dates as
in the ``kind`` mode; ``AdoptionWorld`` then replays the referrals in date
order and, on each introduction's day, decides whom the point person
introduces and whether the referrer adopts them, from the history before
that day only (the same view a backtest has). See the module docstring of
``seed.generate`` for what each mode does.

Every draw comes from the generator's one ``random.Random``.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict, deque

from graphsvc.analysis.fit import fit_score, profile
from graphsvc.vocabulary import CONTACT_KINDS, POPULATIONS, PRACTICE, SCHEDULE_SLOTS

from .generate import (
    _COMMERCIAL,
    INSURANCE_MIX,
    INSURANCES,
    JUMP,
    KIND_POPULATIONS,
    MIXED_PREFERENCE,
    NEED_FIT,
    NO_SCHEDULE_PREFERENCE,
    PASS_INSURANCE,
    PASS_OTHER,
    PASS_REASON_SHARE,
    PASS_SCHEDULING,
    PASS_SPECIALTY,
    SCHEDULE_WANTED,
    SPECIALTY_DEMAND,
    STAGE3,
    _add_contact,
    _cum,
    _draw_needs,
    _id_format,
    _open,
    _other_clinician,
    _out_client,
    _weighted,
)

# A referrer's clients so far, as the fit mode sees them: the last RECENT, each
# older one weighing DECAY times the next newer one.
RECENT = 10
DECAY = 0.9
# Softmax temperatures: lower follows the criterion more strictly.
FIT_TEMPERATURE = 0.03          # introducing by fit to the clients so far (fit 0..1)
FIT_TRY_TEMPERATURE = 0.08      # choosing, per client, among adopted colleagues
PEERS_TEMPERATURE = 0.35        # introducing and trying by log(1 + standing)
# A peer in the same organization counts this many times a peer of the same kind.
ORGANIZATION_WEIGHT = 3
# Adoption: probability = ADOPT_FLOOR + ADOPT_SLOPE * rank ** ADOPT_POWER, rank being the share of the
# other candidates the colleague outranks by the referrer's criterion (1.0 = the best): 0.95 for the best,
# 0.66 for one better than 90% of the rest, 0.45 at 80%, 0.15 at the median.
ADOPT_FLOOR, ADOPT_SLOPE, ADOPT_POWER = 0.1, 0.85, 4
# With no history to go on (no clients yet, no peer adoptions yet): the kind draw, adopted this often.
FALLBACK_ADOPT = 0.5
# Fit lost by a colleague not taking new clients, when ranking by fit.
NOT_ACCEPTING_PENALTY = 0.15
# A client the addressee lacks something for is passed this often (to a colleague who suits it fully).
PASS_WHEN_LACKING = 0.2


class Caseload:
    """What one referrer's clients look like: its kind's populations with a lean of its own."""

    def __init__(self, rng, kind, practice):
        prefs = KIND_POPULATIONS.get(kind)
        pops = [p for p in POPULATIONS if p in practice.covered_pops]
        weights = [(prefs.get(p, 0) if prefs else 1) * rng.lognormvariate(0, 0.6) for p in pops]
        if not any(weights):
            weights = [1.0] * len(pops)
        self.pops, self.pop_cum = pops, _cum(weights)
        specs = practice.covered_specs
        lean = {s: rng.lognormvariate(0, 0.5) for s in specs}
        for s in _weighted(rng, specs, [SPECIALTY_DEMAND[s] for s in specs], k=2):
            lean[s] *= 4  # the needs this referrer sees most (a school's autism program, a clinic's addiction work)
        self.specs, self.lean = specs, lean
        self.ins_lean = [rng.lognormvariate(0, 0.6) for _ in INSURANCES]  # the area's payer mix
        self.slot_lean = [rng.lognormvariate(0, 0.4) for _ in SCHEDULE_SLOTS]
        self._by_pop = {}

    def draw(self, rng):
        """A client: (needs, population, insurance, schedule), schedule "" for no preference."""
        pop = rng.choices(self.pops, cum_weights=self.pop_cum)[0]
        tables = self._by_pop.get(pop)
        if tables is None:
            need_w = [SPECIALTY_DEMAND[s] * NEED_FIT.get(s, {}).get(pop, 1) * self.lean[s] for s in self.specs]
            mix = INSURANCE_MIX.get(pop, _COMMERCIAL)
            ins_w = [(mix.get(i, 0.3) or 0.01) * lean for i, lean in zip(INSURANCES, self.ins_lean, strict=False)]
            wanted = SCHEDULE_WANTED.get(pop, {})
            slot_w = [wanted.get(s, 0.5) * lean for s, lean in zip(SCHEDULE_SLOTS, self.slot_lean, strict=False)]
            tables = self._by_pop[pop] = (_cum(need_w), _cum(ins_w), _cum(slot_w))
        need_cum, ins_cum, slot_cum = tables
        needs = _draw_needs(rng, self.specs, need_cum, None)
        insurance = rng.choices(INSURANCES, cum_weights=ins_cum)[0]
        schedule = "" if rng.random() < NO_SCHEDULE_PREFERENCE else rng.choices(SCHEDULE_SLOTS, cum_weights=slot_cum)[0]
        return needs, pop, insurance, schedule


class AdoptionWorld:
    """Referrals in date order, with introductions and adoptions decided as the days come."""

    def __init__(self, rng, mode, practice, referrers):
        self.rng, self.mode, self.practice, self.referrers = rng, mode, practice, referrers
        n_clin = practice.n_clinicians
        # Clinicians as graphsvc.analysis.fit reads them (a node's attributes).
        self.attrs = [{"specialties": frozenset(practice.specialties[c]),
                       "populations": frozenset(practice.populations[c]),
                       "insurances": frozenset(practice.insurances[c]),
                       "schedule": frozenset(practice.schedules[c])} for c in range(n_clin)]
        self.caseloads = [Caseload(rng, r.kind, practice) for r in referrers]
        if mode == "mixed":
            names = [name for name, _ in MIXED_PREFERENCE]
            cum = _cum(share for _, share in MIXED_PREFERENCE)
            self.preference = [rng.choices(names, cum_weights=cum)[0] for _ in referrers]
        else:
            self.preference = [mode] * len(referrers)
        self.recent = [deque(maxlen=RECENT) for _ in referrers]   # client dicts, oldest first
        self.adopted = [[] for _ in referrers]                      # colleagues adopted, in introduction order
        self.tried = [set() for _ in referrers]                     # adopted colleagues already sent a referral
        self.kind_adopters = defaultdict(Counter)                   # kind -> colleague -> referrers that adopted
        self.org_adopters = defaultdict(Counter)                    # organization -> colleague -> referrers

    # ------------------------------------------------------------------ introductions

    def introduce(self, day, i, slot):
        """Decide the introduction r.introduced[slot] (dated `day`) and whether referrer i adopts."""
        rng, r, practice = self.rng, self.referrers[i], self.practice
        taken = {r.point_person} | {c for _, c in r.handoffs} | {c for _, c in r.introduced if c is not None}
        candidates = [c for c in range(practice.n_clinicians) if c not in taken]
        if not candidates:
            return
        preference = self.preference[i]
        scores = None
        if preference == "fit" and self.recent[i]:
            wanted = profile([(DECAY ** age, c) for age, c in enumerate(reversed(self.recent[i]))])
            scores = [fit_score(self.attrs[c], wanted) - (0 if practice.accepting[c] else NOT_ACCEPTING_PENALTY)
                      for c in candidates]
            temperature = FIT_TEMPERATURE
        elif preference == "peers":
            standing = self._standing(r, candidates)
            if any(standing):
                scores = [math.log1p(s) for s in standing]
                temperature = PEERS_TEMPERATURE
        if scores is None:  # the kind draw: by kind mode, or nothing yet to go on
            colleague = _other_clinician(rng, practice, r.kind, taken)
            adopt = preference == "kind" or rng.random() < FALLBACK_ADOPT
        else:
            pick = _softmax_pick(rng, scores, temperature)
            colleague = candidates[pick]
            adopt = rng.random() < ADOPT_FLOOR + ADOPT_SLOPE * _rank_share(scores, pick) ** ADOPT_POWER
        r.introduced[slot] = (day, colleague)
        if adopt:
            self.adopted[i].append(colleague)

    def _standing(self, r, candidates):
        by_kind, by_org = self.kind_adopters[r.kind], self.org_adopters[r.organization]
        return [by_kind[c] + ORGANIZATION_WEIGHT * by_org[c] for c in candidates]

    # ------------------------------------------------------------------ one referral

    def addressee(self, i, r, day, client):
        """Whom referrer i addresses `client` to on `day`: a clinician index, a staff id, or None (the practice)."""
        rng, random_, practice = self.rng, self.rng.random, self.practice
        persona = r.persona
        if persona == JUMP or (persona == STAGE3 and day >= r.stage3):  # as in the kind mode
            share = r.practice_max
            if persona == STAGE3:
                share *= min(1.0, (day - r.stage3 + 1) / r.stage3_ramp)
            if random_() < share:
                if random_() >= r.intake_share:
                    return None
                if random_() < 0.9 or len(practice.staff_ids) == 1:
                    return practice.staff_ids[0]
                return rng.choice(practice.staff_ids[1:])
        adopted = self.adopted[i]
        if adopted:
            first_intro = r.introduced[0][0]
            if random_() < r.try_max * min(1.0, (day - first_intro + 1) / r.try_ramp):
                return self._try(i, r, adopted, client)
        return r.point_person_on(day)

    def _try(self, i, r, adopted, client):
        if len(adopted) == 1:
            return adopted[0]
        preference = self.preference[i]
        if preference == "fit":
            wanted = profile([(1.0, client)])
            return adopted[_softmax_pick(self.rng, [fit_score(self.attrs[c], wanted) for c in adopted],
                                         FIT_TRY_TEMPERATURE)]
        if preference == "peers":
            scores = [math.log1p(s) for s in self._standing(r, adopted)]
            return adopted[_softmax_pick(self.rng, scores, PEERS_TEMPERATURE)]
        return self.rng.choice(adopted)

    def lacks(self, c, client):
        """The pass reasons clinician c has for `client`, in PASS_REASON_SHARE order."""
        p = self.practice
        lacking = []
        if client["schedule"] and client["schedule"] not in p.slot_sets[c]:
            lacking.append(PASS_SCHEDULING)
        if client["insurance"] not in p.ins_sets[c]:
            lacking.append(PASS_INSURANCE)
        if not set(client["needs"]) <= p.spec_sets[c]:
            lacking.append(PASS_SPECIALTY)
        if client["population"] not in p.pop_sets[c] or not p.accepting[c]:
            lacking.append(PASS_OTHER)
        return lacking

    def maybe_pass(self, c, client):
        """(reason, colleague) when clinician c passes `client`, else None."""
        lacking = self.lacks(c, client)
        rng = self.rng
        if not lacking or rng.random() >= PASS_WHEN_LACKING:
            return None
        suitable = [x for x in self.practice.accepting_list if x != c and not self.lacks(x, client)]
        if not suitable:
            return None
        share = dict(PASS_REASON_SHARE)
        reason = rng.choices(lacking, weights=[share[x] for x in lacking])[0]
        return reason, rng.choice(suitable)

    def intake_assigns(self, client):
        """The accepting clinician intake gives a practice-addressed client: one who suits it, or fits it best."""
        accepting = self.practice.accepting_list
        wanted = profile([(1.0, client)])
        return accepting[_softmax_pick(self.rng, [fit_score(self.attrs[c], wanted) for c in accepting], 0.05)]

    # ------------------------------------------------------------------ the stream

    def stream_referrals(self, out, events, n_out, providers, contacts, span, day_iso):
        """Like ``seed.generate._stream_referrals``, deciding introductions on their days."""
        rng, practice, referrers = self.rng, self.practice, self.referrers
        last_day = span - 1
        n_ref, n_members = len(referrers), len(practice.member_ids)
        kinds = list(CONTACT_KINDS)
        n_kinds = len(kinds)
        follow_up, case_consult = kinds.index("follow_up"), kinds.index("case_consult")
        referred_out = set(rng.sample(range(len(events)), n_out))
        client_fmt = _id_format("cl", len(events), 7)
        referral_fmt = _id_format("ref", len(events), 7)
        out_fmt = _id_format("out", n_out, 5)
        clinician_ids = practice.clinician_ids
        random_ = rng.random
        # Introductions dated on a day are decided before that day's referrals, from what came before.
        pending = sorted((day, i, slot) for i, r in enumerate(referrers) for slot, (day, _) in enumerate(r.introduced))
        next_pending = 0

        clients_handle, clients = _open(out, "clients.csv")
        referrals_handle, referrals_writer = _open(out, "referrals.csv")
        out_handle, out_writer = _open(out, "referrals_out.csv")
        n_referrals = n_referred_out = 0
        with clients_handle, referrals_handle, out_handle:
            for position, packed in enumerate(events):
                day, i = divmod(packed, n_ref)
                while next_pending < len(pending) and pending[next_pending][0] <= day:
                    self.introduce(*pending[next_pending])
                    next_pending += 1
                r = referrers[i]
                client_id = client_fmt.format(position + 1)
                date_iso = day_iso[day]

                if position in referred_out:
                    n_referred_out += 1
                    clients.writerow(_out_client(rng, client_id, r.kind, practice, providers, out_writer,
                                                 out_fmt.format(n_referred_out), date_iso, r.id))
                    continue

                needs, pop, insurance, schedule = self.caseloads[i].draw(rng)
                client = {"needs": needs, "population": pop, "insurance": insurance, "schedule": schedule or None}
                addressee = self.addressee(i, r, day, client)
                pass_reason = ""
                if addressee is None or isinstance(addressee, str):  # the practice or a staff member
                    assigned = self.intake_assigns(client)
                    addressed_to = PRACTICE if addressee is None else addressee
                else:
                    assigned = addressee
                    addressed_to = clinician_ids[addressee]
                    passed = self.maybe_pass(addressee, client)
                    if passed is not None:
                        pass_reason, assigned = passed
                        if random_() < 0.3:  # the colleague who took the case follows up
                            _add_contact(contacts, day, last_day, rng, i, n_ref, assigned, n_members, n_kinds,
                                         follow_up)
                    if addressee != r.point_person_on(day):
                        if addressee not in self.tried[i]:  # adopted: now visible to its peers
                            self.tried[i].add(addressee)
                            self.kind_adopters[r.kind][addressee] += 1
                            self.org_adopters[r.organization][addressee] += 1
                        if random_() < 0.5:
                            _add_contact(contacts, day, last_day, rng, i, n_ref, addressee, n_members, n_kinds,
                                         follow_up if random_() < 0.7 else case_consult)
                self.recent[i].append(client)
                clients.writerow((client_id, ";".join(needs), pop, insurance, schedule))
                n_referrals += 1
                referrals_writer.writerow((referral_fmt.format(n_referrals), date_iso, r.id, client_id,
                                           addressed_to, clinician_ids[assigned], pass_reason))
        for decision in pending[next_pending:]:
            self.introduce(*decision)
        for r in referrers:  # a slot with nobody left to introduce is dropped
            r.introduced = [(d, c) for d, c in r.introduced if c is not None]
        return {"clients.csv": len(events), "referrals.csv": n_referrals, "referrals_out.csv": n_referred_out}


def _softmax_pick(rng, scores, temperature):
    """An index drawn with probability proportional to exp(score / temperature)."""
    top = max(scores)
    return rng.choices(range(len(scores)), weights=[math.exp((s - top) / temperature) for s in scores])[0]


def _rank_share(scores, pick):
    """0..1: the share of the other scores below scores[pick] (ties count half)."""
    if len(scores) == 1:
        return 1.0
    mine = scores[pick]
    below = sum(s < mine for s in scores)
    ties = sum(s == mine for s in scores) - 1
    return (below + 0.5 * ties) / (len(scores) - 1)

