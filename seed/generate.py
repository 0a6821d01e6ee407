"""Deterministic generator of a synthetic group practice.

The practice's referrers grow through the point-person stages (see
``shared/background/point-person-referrals.txt``): stage 1 addresses only the
point person, stage 2 tries colleagues the point person introduced, stage 3
addresses the practice as a whole. Each referrer gets a persona that fixes its
path and pace; referrals are then drawn over time and streamed to CSV in date
order, so referral, client and referral-out ids increase with their dates.

How point persons choose whom to introduce, and how referrers choose which
introduced colleague to try, is the ``adoption`` mode (``--adoption``):

``kind`` (the default, the demo practice)
    The point person introduces colleagues drawn by their affinity with the
    referrer's kind (the populations pediatricians, clergy, ... send) and how
    much each networks; the referrer tries every introduced colleague, picking
    one at random each time. A client is drawn to suit whoever receives it.
    This mode is exactly what the generator always did: same seed, same bytes.

The three other modes share the kind mode's practice, referrers (kinds,
organizations, point persons, personas, handoffs) and referral dates, and
differ from it in two ways. Each referrer has a caseload of its own (its
kind's populations with a lean of its own on needs, insurances and
schedule); its clients are drawn from that caseload whoever receives them,
the clinician it addresses passes a client it cannot serve to a colleague
who can (some of the time), and intake gives practice-addressed clients to a
clinician who suits them. And whom the point person introduces is decided on
the introduction's day from the history before it (what a backtest sees):

``fit``
    The point person introduces the colleagues who fit the referrer's clients
    so far (its last ten, each older one weighing 0.9 of the next; needs
    against specialties, population, insurance and schedule, scored by
    ``graphsvc.analysis.fit``), drawn by a softmax over that fit, so a
    colleague who fits a little less is sometimes introduced. The referrer
    adopts an introduced colleague with a probability that rises steeply
    with the colleague's fit rank among those the point person could have
    introduced, and sends each new client to the adopted colleague who fits
    that client best (again by a softmax).
``peers``
    Both follow what similar referrers already do. A colleague's standing
    with a referrer is the number of referrers of the same kind who adopted
    that colleague (addressed a referral to them after an introduction) so
    far, plus three times the number in the same organization. The point
    person introduces by a softmax over log(1 + standing), the referrer
    adopts by standing rank and tries its adopted colleagues by standing: a
    herd forms. While no peer has adopted anyone yet, the point person falls
    back to the kind draw and the referrer adopts half the time.
``mixed``
    Every referrer has a latent preference drawn once, ``kind`` 30%, ``fit``
    40%, ``peers`` 30% (``MIXED_PREFERENCE``), which its point person and the
    referrer both follow as in that mode; no single ranker explains every
    referrer.

Adoption shows in the data the analysis reads: every introduction is an
Introduction row (referrer, introduced member, by, date), and an adopted
colleague then receives referrals addressed to them; one the referrer did not
adopt (fit, peers, mixed) is never addressed by it (though a colleague's pass
or intake may still assign it one of its clients). ``seed.adoption`` holds the
three modes' parameters.

All randomness comes from one ``random.Random(seed)``; the same arguments give
byte-identical files.

The practice is drawn in day numbers over a period as long as the ``years``
years ending on ``FIXED_END`` (2026-10-31: 1,826 days for five years);
``end`` only places that period in time. So the same seed with another
``end`` gives the same practice with every date moved by the same whole
number of days (the draws depend on no weekday or month); ``make demo``
passes ``--end yesterday``, so the demo it loads ends the day before it runs.
"""

import csv
import math
import random
from datetime import date, timedelta
from itertools import accumulate
from pathlib import Path

from graphsvc.vocabulary import (
    CONTACT_KINDS,
    PASS_REASONS,
    POPULATIONS,
    PRACTICE,
    REFERRER_KINDS,
    SCHEDULE_SLOTS,
    STAFF_ROLES,
)

ADOPTIONS = ("kind", "fit", "peers", "mixed")
# The latent preferences of a referrer in the mixed mode, with their shares.
MIXED_PREFERENCE = (("kind", 0.3), ("fit", 0.4), ("peers", 0.3))

SCALES = {
    "demo": {"clinicians": 45, "referrers": 1_000, "referrals": 20_000},
    "large": {"clinicians": 500, "referrers": 100_000, "referrals": 1_000_000},
}

HEADERS = {
    "clinicians.csv": ("id", "name", "specialties", "populations", "insurances", "schedule", "accepting_new"),
    "staff.csv": ("id", "name", "role"),
    "referrers.csv": ("id", "name", "kind", "organization", "point_person_id", "since"),
    "clients.csv": ("id", "needs", "population", "insurance", "schedule"),
    "referrals.csv": ("id", "date", "referrer_id", "client_id", "addressed_to", "assigned_to", "pass_reason",
                      "consent_to_update"),
    "introductions.csv": ("id", "date", "referrer_id", "introduced_id", "by_id"),
    "contacts.csv": ("id", "date", "referrer_id", "member_id", "kind", "covers"),
    "handoffs.csv": ("date", "referrer_id", "point_person_id"),
    "external_providers.csv": ("id", "name", "niches"),
    "referrals_out.csv": ("id", "date", "referrer_id", "client_id", "provider_id", "niche"),
    "referral_statuses.csv": ("referral_id", "status", "date"),
}
# The columns the closing-the-loop step adds (``_close_loops``) after the practice's stream wrote the rest.
LOOP_COLUMNS = {"referrals.csv": "consent_to_update", "contacts.csv": "covers"}

# Relative client demand for each specialty (also how often clinicians list it).
SPECIALTY_DEMAND = {
    "anxiety": 20, "depression": 18, "adhd": 10, "trauma": 10, "autism": 4, "ocd": 4,
    "grief": 4, "substance_use": 5, "eating_disorders": 3, "couples_therapy": 6,
    "family_therapy": 6, "bipolar": 3, "psychological_testing": 3, "play_therapy": 3,
    "anger_management": 3, "perinatal": 2,
}
SPECIALTIES = tuple(SPECIALTY_DEMAND)

# How plausible a need is for a population (default 1); 0 means never.
NEED_FIT = {
    "play_therapy": {"child": 1},
    "couples_therapy": {"couples": 6, "adult": 0.5, "older_adult": 0.3},
    "family_therapy": {"family": 6, "child": 1, "adolescent": 1.5, "adult": 0.5, "older_adult": 0.3},
    "perinatal": {"adult": 1, "couples": 0.5},
    "adhd": {"child": 2.5, "adolescent": 2, "adult": 0.7, "older_adult": 0.1, "couples": 0.2, "family": 0.8},
    "autism": {"child": 2.5, "adolescent": 1.5, "adult": 0.5, "older_adult": 0.1, "couples": 0.1, "family": 0.8},
    "psychological_testing": {"child": 2, "adolescent": 1.5, "adult": 0.7, "older_adult": 0.5, "couples": 0,
                              "family": 0.2},
    "grief": {"older_adult": 3, "family": 1.5},
    "substance_use": {"child": 0, "adolescent": 1, "adult": 1.5, "family": 0.7},
    "eating_disorders": {"child": 0.3, "adolescent": 2.5, "older_adult": 0.2, "couples": 0.1, "family": 0.5},
    "anger_management": {"child": 1.2, "adolescent": 1.5},
    "bipolar": {"child": 0.1, "couples": 0.2},
}

INSURANCES = ("medicaid", "medicare", "bcbs", "aetna", "cigna", "united", "tricare", "self_pay")
# Share of clinicians on each panel.
INSURANCE_PANEL = {"medicaid": 0.35, "medicare": 0.3, "bcbs": 0.75, "aetna": 0.55, "cigna": 0.5,
                   "united": 0.5, "tricare": 0.15, "self_pay": 0.9}
_COMMERCIAL = {"bcbs": 4, "aetna": 2.5, "cigna": 2, "united": 2.5, "tricare": 0.4, "self_pay": 0.8}
# Client insurance mix by population.
INSURANCE_MIX = {
    "child": {**_COMMERCIAL, "medicaid": 5, "medicare": 0.02},
    "adolescent": {**_COMMERCIAL, "medicaid": 4, "medicare": 0.02},
    "adult": {**_COMMERCIAL, "medicaid": 2, "medicare": 0.3},
    "older_adult": {**_COMMERCIAL, "bcbs": 1, "aetna": 0.5, "cigna": 0.3, "united": 1, "medicaid": 1, "medicare": 10},
    "couples": {**_COMMERCIAL, "medicaid": 0.5, "medicare": 0.2, "self_pay": 2},
    "family": {**_COMMERCIAL, "medicaid": 3, "medicare": 0.05},
}
SCHEDULE_OFFERED = {"weekday_day": 0.85, "weekday_evening": 0.5, "weekend": 0.15}
SCHEDULE_WANTED = {
    "child": {"weekday_day": 1, "weekday_evening": 2, "weekend": 0.6},
    "adolescent": {"weekday_day": 1, "weekday_evening": 2, "weekend": 0.6},
    "adult": {"weekday_day": 1.5, "weekday_evening": 1.5, "weekend": 0.4},
    "older_adult": {"weekday_day": 3, "weekday_evening": 0.3, "weekend": 0.2},
    "couples": {"weekday_day": 0.8, "weekday_evening": 2, "weekend": 0.8},
    "family": {"weekday_day": 0.8, "weekday_evening": 2, "weekend": 0.8},
}
NO_SCHEDULE_PREFERENCE = 0.35

# Clinician practice focus: share, core populations, optional extra populations, specialty boosts.
FOCUSES = (
    (0.22, ("child",), {"adolescent": 0.8, "family": 0.5},
     {"adhd": 3, "autism": 3, "play_therapy": 6, "family_therapy": 2, "psychological_testing": 2}),
    (0.18, ("adolescent",), {"adult": 0.5, "family": 0.3, "child": 0.3},
     {"adhd": 2, "eating_disorders": 3, "substance_use": 1.5, "ocd": 1.5, "anger_management": 2}),
    (0.35, ("adult",), {"older_adult": 0.4, "adolescent": 0.2, "couples": 0.15},
     {"trauma": 1.5, "substance_use": 1.5, "bipolar": 1.5, "perinatal": 2}),
    (0.15, ("couples", "family"), {"adult": 0.6, "adolescent": 0.2},
     {"couples_therapy": 10, "family_therapy": 10, "anger_management": 1.5}),
    (0.10, ("older_adult",), {"adult": 0.8},
     {"grief": 4, "depression": 1.5}),
)

# Which populations each kind of referrer sends (also which clinicians it bonds with).
KIND_POPULATIONS = {
    "physician": {"adult": 4, "older_adult": 2.5, "adolescent": 0.6, "couples": 0.4, "family": 0.3, "child": 0.2},
    "pediatrician": {"child": 4, "adolescent": 3, "family": 1.2},
    "school_counselor": {"child": 2.5, "adolescent": 3.5, "family": 1},
    "clergy": {"couples": 3, "family": 2, "adult": 2, "older_adult": 1.5, "adolescent": 0.6, "child": 0.3},
    "attorney": {"family": 2.5, "couples": 2, "adult": 2, "child": 1, "adolescent": 1, "older_adult": 0.5},
}
KIND_SHARE = {"physician": 0.30, "pediatrician": 0.20, "school_counselor": 0.20, "clergy": 0.10,
              "attorney": 0.10, "other": 0.10}
# Contact kinds by referrer kind, in CONTACT_KINDS order of name; school visits only for schools.
CONTACT_MIX = {
    "school_counselor": {"lunch": 0.8, "talk": 1.5, "school_consult": 4, "staffing": 3, "case_consult": 1,
                         "site_visit": 0.5, "follow_up": 2},
    "physician": {"lunch": 3, "talk": 1.5, "case_consult": 2.5, "site_visit": 1.5, "follow_up": 2},
    "pediatrician": {"lunch": 3, "talk": 1.5, "case_consult": 2.5, "site_visit": 1.5, "follow_up": 2},
    "clergy": {"lunch": 3, "talk": 2.5, "case_consult": 1, "site_visit": 2, "follow_up": 1.5},
    "attorney": {"lunch": 2.5, "talk": 1, "case_consult": 3, "site_visit": 0.5, "follow_up": 2},
}
DEFAULT_CONTACT_MIX = {"lunch": 2.5, "talk": 2.5, "case_consult": 1, "site_visit": 2, "follow_up": 1.5}
# How a relationship opens: no follow-ups or case consults before there is a case.
OPENING_CONTACTS = ("lunch", "talk", "site_visit", "school_consult")

# Niches no clinician covers, with how often each kind of referrer needs them.
NICHES = ("medication_management", "neuropsych_testing", "intensive_outpatient_substance",
          "inpatient_psychiatry", "inpatient_eating_disorders", "forensic_evaluation",
          "custody_evaluation", "residential_treatment", "tms")
NICHE_DEMAND = {"medication_management": 35, "neuropsych_testing": 15, "intensive_outpatient_substance": 15,
                "inpatient_psychiatry": 10, "inpatient_eating_disorders": 8, "forensic_evaluation": 4,
                "custody_evaluation": 3, "residential_treatment": 5, "tms": 3}
NICHE_DEMAND_BY_KIND = {"attorney": {"forensic_evaluation": 40, "custody_evaluation": 40},
                        "pediatrician": {"neuropsych_testing": 30, "tms": 0},
                        "school_counselor": {"neuropsych_testing": 35, "tms": 0, "medication_management": 20}}
# Niches a provider tends to offer together with its main one.
NICHE_NEIGHBOURS = {
    "medication_management": ("tms", "inpatient_psychiatry"),
    "neuropsych_testing": ("forensic_evaluation", "custody_evaluation"),
    "intensive_outpatient_substance": ("residential_treatment",),
    "inpatient_psychiatry": ("residential_treatment", "medication_management"),
    "inpatient_eating_disorders": ("residential_treatment",),
    "forensic_evaluation": ("custody_evaluation", "neuropsych_testing"),
    "custody_evaluation": ("forensic_evaluation",),
    "residential_treatment": ("intensive_outpatient_substance", "inpatient_eating_disorders"),
    "tms": ("medication_management",),
}
PROVIDER_SUFFIX = {
    "medication_management": "Psychiatric Associates", "neuropsych_testing": "Neuropsychology Group",
    "intensive_outpatient_substance": "Recovery Center", "inpatient_psychiatry": "Behavioral Hospital",
    "inpatient_eating_disorders": "Eating Disorder Center", "forensic_evaluation": "Forensic Psychology",
    "custody_evaluation": "Family Evaluation Services", "residential_treatment": "Residential Treatment Center",
    "tms": "TMS Clinic",
}
REFERRED_OUT_SHARE = 0.015

# Personas: share of referrers; volume multiplier (stage-3 referrers are the loyal, busy ones).
NEW, STALL, STAGE2, STAGE3, JUMP, LAPSE = range(6)
PERSONA_SHARE = ((NEW, 0.05), (STALL, 0.35), (STAGE2, 0.30), (STAGE3, 0.20), (JUMP, 0.05))  # rest lapse
PERSONA_VOLUME = {NEW: 0.0, STALL: 0.5, STAGE2: 1.0, STAGE3: 1.8, JUMP: 1.2, LAPSE: 0.6}
HANDOFF_SHARE = 0.03

FIRST_NAMES = (
    "Aaliyah", "Aaron", "Abigail", "Adrian", "Aisha", "Alan", "Alejandro", "Alicia", "Amara", "Amir",
    "Ana", "Andre", "Angela", "Anika", "Ben", "Bianca", "Brandon", "Brianna", "Caleb", "Camila",
    "Carlos", "Carmen", "Chen", "Chloe", "Daniel", "Dana", "David", "Deborah", "Deepa", "Derek",
    "Diego", "Elena", "Eli", "Emily", "Eric", "Esther", "Farah", "Felix", "Fiona", "Gabriel",
    "Grace", "Hannah", "Hassan", "Helen", "Ian", "Imani", "Isaac", "Ivy", "Jacob", "Jamal",
    "Jasmine", "Javier", "Jenna", "Joel", "Jordan", "Julia", "Kai", "Karen", "Keisha", "Kenji",
    "Laura", "Leah", "Leon", "Lina", "Lucas", "Maya", "Marcus", "Maria", "Mateo", "Megan",
    "Miriam", "Nadia", "Naomi", "Nathan", "Nina", "Omar", "Olivia", "Owen", "Priya", "Rachel",
    "Rafael", "Rebecca", "Rosa", "Ruth", "Samuel", "Sara", "Sean", "Sofia", "Tamara", "Theo",
    "Valerie", "Victor", "Wei", "Yara", "Yusuf", "Zoe",
)
LAST_NAMES = (
    "Abbott", "Adeyemi", "Alvarez", "Anderson", "Baker", "Banerjee", "Bennett", "Brooks", "Carter", "Castillo",
    "Chang", "Chavez", "Cohen", "Collins", "Cruz", "Daniels", "Diaz", "Dubois", "Edwards", "Ellis",
    "Evans", "Fischer", "Flores", "Foster", "Garcia", "Goldberg", "Gonzalez", "Gray", "Greene", "Gupta",
    "Hall", "Harris", "Hayes", "Hernandez", "Hoffman", "Hughes", "Ibrahim", "Jackson", "Jensen", "Johnson",
    "Kaplan", "Kim", "Klein", "Kowalski", "Lee", "Lewis", "Lopez", "Martin", "Mendoza", "Meyer",
    "Mitchell", "Moore", "Morales", "Murphy", "Nakamura", "Nguyen", "Novak", "Okafor", "Olsen", "Ortiz",
    "Patel", "Perez", "Peterson", "Price", "Quinn", "Ramirez", "Reed", "Reyes", "Rivera", "Robinson",
    "Rossi", "Russell", "Sanchez", "Schmidt", "Shah", "Silva", "Singh", "Sullivan", "Tanaka", "Taylor",
    "Thompson", "Torres", "Turner", "Vargas", "Walker", "Wang", "Washington", "Weber", "Williams", "Wright",
    "Yamamoto", "Young", "Zhang",
)
PLACES = (
    "Riverside", "Oak Hill", "Maple Grove", "Cedar Park", "Lakeview", "Brookfield", "Fairview", "Hillcrest",
    "Westwood", "Eastgate", "Northfield", "Southport", "Willow Creek", "Pine Ridge", "Stonebridge", "Greenwood",
    "Elm Street", "Bayside", "Clearwater", "Summit", "Highland", "Meadowbrook", "Ashford", "Kingsley",
    "Harbor", "Valley View", "Sunnyside", "Mill Creek", "Forest Glen", "Spring Lake",
)
SAINTS = ("Mark", "Luke", "Anne", "Joseph", "Mary", "Paul", "Francis", "Thomas", "Andrew", "Catherine")

PASS_SCHEDULING, PASS_INSURANCE, PASS_SPECIALTY, PASS_OTHER = "scheduling", "insurance", "specialty", "other"
PASS_REASON_SHARE = ((PASS_SCHEDULING, 0.35), (PASS_INSURANCE, 0.30), (PASS_SPECIALTY, 0.25), (PASS_OTHER, 0.10))

# Fail at import, not with a bad file, if the shared vocabularies drift from what this module writes.
assert {PASS_SCHEDULING, PASS_INSURANCE, PASS_SPECIALTY, PASS_OTHER} <= set(PASS_REASONS)
assert {"intake_coordinator", "office_manager", "billing", "other"} <= set(STAFF_ROLES)
assert set(OPENING_CONTACTS) | {"follow_up", "case_consult"} <= set(CONTACT_KINDS)
assert not set(NICHES) & set(SPECIALTIES)


# The last day of the fixed practice (the default ``end``); tests, benchmarks and the docs' screenshots
# rely on its exact bytes.
FIXED_END = date(2026, 10, 31)


def generate(out_dir, *, seed=42, scale="demo", clinicians=None, referrers=None, referrals=None,
             years=5, end=FIXED_END, adoption="kind") -> dict[str, int]:
    """Write a synthetic practice's referral data as eleven CSV files.

    Parameters
    ----------
    out_dir : str or os.PathLike
        Folder to write into; created if missing. The eleven files are overwritten.
    seed : int, default 42
        Seed of the single ``random.Random`` behind every draw.
    scale : {"demo", "large"}, default "demo"
        Size preset: demo is 45 clinicians, 1,000 referrers and 20,000
        referrals; large is 500, 100,000 and 1,000,000.
    clinicians, referrers, referrals : int, optional
        Override the preset's number of clinicians, referrers and referrals.
        The referral count is hit exactly unless there are too few referrers.
    years : int, default 5
        Length of the period covered; every date lies in it. It has as many
        days as the ``years`` years ending on ``FIXED_END`` (1,826 for 5),
        whatever ``end``.
    end : datetime.date, default 2026-10-31 (``FIXED_END``)
        Last day of the period. Another day moves every date of the same
        practice by whole days: the output is the default's with each date
        ``(end - FIXED_END).days`` days later (earlier if negative).
    adoption : {"kind", "fit", "peers", "mixed"}, default "kind"
        How point persons choose whom to introduce and referrers which
        introduced colleague to try (see the module docstring). ``"kind"``
        is the demo practice, unchanged.

    Returns
    -------
    dict[str, int]
        Data rows (header excluded) written to each file, keyed by file name.

    Raises
    ------
    ValueError
        If the scale or adoption mode is unknown or a size is out of range.
    """
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; expected one of {sorted(SCALES)}")
    if adoption not in ADOPTIONS:
        raise ValueError(f"unknown adoption {adoption!r}; expected one of {list(ADOPTIONS)}")
    preset = SCALES[scale]
    n_clinicians = preset["clinicians"] if clinicians is None else clinicians
    n_referrers = preset["referrers"] if referrers is None else referrers
    n_referrals = preset["referrals"] if referrals is None else referrals
    if n_clinicians < 2:
        raise ValueError("need at least 2 clinicians (a referral can only be passed to a colleague)")
    if n_referrers < 1 or n_referrals < 0 or years < 1:
        raise ValueError("need at least 1 referrer, 0 referrals and 1 year")

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    # The period's length comes from FIXED_END, not from end: the draws depend on it, and the same
    # seed must give the same practice wherever end places it.
    span = (FIXED_END - _years_before(FIXED_END, years)).days
    start = end - timedelta(days=span - 1)
    day_iso = [(start + timedelta(days=d)).isoformat() for d in range(span)]

    practice = _Practice(rng, n_clinicians)
    counts = {"clinicians.csv": practice.write_clinicians(out), "staff.csv": practice.write_staff(out)}
    providers = _Providers(rng, n_referrers)
    counts["external_providers.csv"] = providers.write(out)

    by_kind = adoption == "kind"
    # Outside the kind mode introductions are only scheduled here; who is
    # introduced is decided on the day, from the history before it.
    referrers = _plan_referrers(rng, practice, n_referrers, span, decide_introductions=by_kind)
    counts["referrers.csv"] = _write_referrers(out, referrers, practice, day_iso)
    counts["handoffs.csv"] = _write_handoffs(out, referrers, practice, day_iso)

    # The clients referred out are extra events on top of the referral target.
    n_out = round(n_referrals * REFERRED_OUT_SHARE / (1 - REFERRED_OUT_SHARE))
    events = _plan_events(rng, referrers, n_referrals + n_out, span)
    n_out = min(n_out, len(events))
    if by_kind:
        contacts, introductions = _plan_contacts_and_introductions(rng, referrers, practice, span)
        counts.update(_stream_referrals(out, rng, events, n_out, referrers, practice, providers, contacts,
                                        span, day_iso))
    else:
        from .adoption import AdoptionWorld  # imports this module: loaded only when needed

        world = AdoptionWorld(rng, adoption, practice, referrers)
        streamed_contacts = []
        counts.update(world.stream_referrals(out, events, n_out, providers, streamed_contacts, span, day_iso))
        contacts, introductions = _plan_contacts_and_introductions(rng, referrers, practice, span)
        contacts += streamed_contacts
    counts["introductions.csv"] = _write_introductions(out, introductions, referrers, practice, day_iso)
    counts["contacts.csv"] = _write_contacts(out, contacts, referrers, practice, day_iso)
    counts["referral_statuses.csv"] = _close_loops(out, random.Random(seed + LOOP_SEED), end)
    return {name: counts[name] for name in HEADERS}


# --------------------------------------------------------------------------- helpers


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


# --------------------------------------------------------------------------- closing the loop

# Its own random stream (seed + LOOP_SEED), drawn after everything else: the rest of the practice is
# the same with or without it.
LOOP_SEED = 7919
# Whether a client agreed that the referrer be told how the referral went.
CONSENT_SHARE = (("yes", 0.6), ("no", 0.1), ("unknown", 0.3))


def _close_loops(out: Path, rng, end: date) -> int:
    """Where each referral went (``referral_statuses.csv``) and its client's consent (a column added to
    ``referrals.csv``); ``contacts.csv`` gains its (empty) ``covers`` column. Returns the statuses written.

    Most referrals are contacted within days, scheduled within two weeks and seen within three; some
    decline, do not show or are referred out; the most recent ones are still on their way (nothing is
    dated after ``end``).
    """
    consents = [c for c, _ in CONSENT_SHARE]
    consent_cum = _cum(share for _, share in CONSENT_SHARE)
    referrals = out / "referrals.csv"
    with open(referrals, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    statuses = []
    with open(referrals, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(HEADERS["referrals.csv"])
        for row in rows[1:]:
            writer.writerow((*row, consents[rng.choices(range(3), cum_weights=consent_cum)[0]]))
            statuses += _statuses(rng, row[0], date.fromisoformat(row[1]), end)
    with open(out / "referral_statuses.csv", "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(HEADERS["referral_statuses.csv"])
        writer.writerows(statuses)
    contacts = out / "contacts.csv"
    with open(contacts, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    with open(contacts, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(HEADERS["contacts.csv"])
        writer.writerows((*row, "") for row in rows[1:])
    return len(statuses)


def _statuses(rng, referral_id: str, day: date, end: date) -> list[tuple]:
    """One referral's way from received: ``(referral_id, status, date)`` rows, none after ``end``."""
    out = []

    def reach(status, after, low, high):
        when = after + timedelta(days=rng.randint(low, high))
        if when > end:
            return None
        out.append((referral_id, status, when.isoformat()))
        return when

    if rng.random() < 0.04:  # the client never answered, or went elsewhere at once
        reach("declined", day, 1, 10)
        return out
    contacted = reach("contacted", day, 0, 3)
    if contacted is None:
        return out
    roll = rng.random()
    if roll < 0.03:
        reach("referred_out", contacted, 0, 5)
        return out
    if roll < 0.08:
        reach("declined", contacted, 1, 7)
        return out
    scheduled = reach("scheduled", contacted, 1, 10)
    if scheduled is None:
        return out
    if rng.random() < 0.1:
        reach("no_show", scheduled, 2, 21)
    else:
        reach("first_visit", scheduled, 2, 21)
    return out


def _id_format(prefix: str, count: int, min_digits: int) -> str:
    """A format for ids whose string order equals their number order."""
    return prefix + f"{{:0{max(min_digits, len(str(count)))}d}}"


def _cum(weights):
    return list(accumulate(weights))


def _weighted(rng, items, weights, k=1):
    """Up to k distinct items drawn by weight (zero weights never drawn)."""
    pool = [(item, w) for item, w in zip(items, weights, strict=False) if w > 0]
    chosen = []
    while pool and len(chosen) < k:
        pick = rng.choices(range(len(pool)), weights=[w for _, w in pool])[0]
        chosen.append(pool.pop(pick)[0])
    return chosen


def _open(out: Path, name: str):
    handle = open(out / name, "w", encoding="utf-8", newline="")
    writer = csv.writer(handle, lineterminator="\n")  # the exporter writes "\n" too
    writer.writerow([c for c in HEADERS[name] if c != LOOP_COLUMNS.get(name)])
    return handle, writer


def _person_name(rng) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


# --------------------------------------------------------------------------- practice


class _Practice:
    """Clinicians and staff, with the look-up tables that matching needs."""

    def __init__(self, rng, n_clinicians):
        self.n_clinicians = n_clinicians
        self.clinician_ids = [_id_format("cn", n_clinicians, 3).format(i + 1) for i in range(n_clinicians)]
        self._make_clinicians(rng)
        self._make_staff(rng)
        self.member_ids = self.clinician_ids + self.staff_ids
        self._index()

    def _make_clinicians(self, rng):
        n = self.n_clinicians
        names = _unique_names(rng, n)
        self.names = names
        self.specialties, self.populations, self.insurances, self.schedules = [], [], [], []
        self.accepting, self.networking = [], []
        focus_weights = [f[0] for f in FOCUSES]
        for _ in range(n):
            _, core, extra, boost = FOCUSES[rng.choices(range(len(FOCUSES)), weights=focus_weights)[0]]
            pops = list(core) + [p for p, share in extra.items() if rng.random() < share]
            pops = [p for p in POPULATIONS if p in pops]
            # Specialties lean on the focus but stay plausible for the populations served.
            weights = [math.sqrt(SPECIALTY_DEMAND[s]) * boost.get(s, 1)
                       * max(NEED_FIT.get(s, {}).get(p, 1) for p in pops) for s in SPECIALTIES]
            specs = _weighted(rng, SPECIALTIES, weights, k=rng.choices((2, 3, 4, 5), weights=(2, 4, 3, 1))[0])
            specs = [s for s in SPECIALTIES if s in specs]
            ins = [i for i in INSURANCES if rng.random() < INSURANCE_PANEL[i]] or ["self_pay"]
            slots = [s for s in SCHEDULE_SLOTS if rng.random() < SCHEDULE_OFFERED.get(s, 0.3)] or [SCHEDULE_SLOTS[0]]
            self.specialties.append(specs)
            self.populations.append(pops)
            self.insurances.append(ins)
            self.schedules.append(slots)
            self.accepting.append(rng.random() < 0.85)
            # A few clinicians open most of the relationships.
            self.networking.append(rng.lognormvariate(0, 0.7))
        if not any(self.accepting):
            self.accepting[0] = True

    def _make_staff(self, rng):
        roles = ["intake_coordinator", "office_manager", "billing"]
        roles += ["other"] * (self.n_clinicians // 60)  # front desk grows with the practice
        fmt = _id_format("st", len(roles), 2)
        self.staff_ids = [fmt.format(i + 1) for i in range(len(roles))]
        self.staff_roles = roles
        self.staff_names = [_person_name(rng) for _ in roles]
        self.intake = self.n_clinicians  # member index of the intake coordinator

    def _index(self):
        n = self.n_clinicians
        accepting = [c for c in range(n) if self.accepting[c]]
        self.accepting_list = accepting
        self.spec_sets = [set(s) for s in self.specialties]
        self.ins_sets = [set(i) for i in self.insurances]
        self.slot_sets = [set(s) for s in self.schedules]
        self.pop_sets = [set(p) for p in self.populations]
        # Accepting clinicians offering each value: where a passed referral can go.
        self.by_slot = {s: [c for c in accepting if s in self.slot_sets[c]] for s in SCHEDULE_SLOTS}
        self.by_ins = {i: [c for c in accepting if i in self.ins_sets[c]] for i in INSURANCES}
        self.by_spec = {s: [c for c in accepting if s in self.spec_sets[c]] for s in SPECIALTIES}
        self.by_pop = {p: [c for c in accepting if p in self.pop_sets[c]] for p in POPULATIONS}
        self.covered_specs = [s for s in SPECIALTIES if any(s in x for x in self.spec_sets)]
        self.covered_pops = [p for p in POPULATIONS if any(p in x for x in self.pop_sets)]
        # Per referrer kind: who becomes point person, who intake assigns cases to.
        self.kind_affinity = {}
        self.point_person_cum = {}
        self.intake_cum = {}
        for kind in REFERRER_KINDS:
            prefs = KIND_POPULATIONS.get(kind, {})
            affinity = [0.1 + sum(prefs.get(p, 0.05 if prefs else 1) for p in pops) for pops in self.populations]
            self.kind_affinity[kind] = affinity
            self.point_person_cum[kind] = _cum(a * w for a, w in zip(affinity, self.networking, strict=False))
            self.intake_cum[kind] = _cum(affinity[c] for c in accepting)
        self._profiles = {}
        self._population_choice = {}
        self._pass_options = {}

    def population_choice(self, c, kind):
        """Populations clinician c sees, weighted for a referrer kind."""
        key = (c, kind)
        cached = self._population_choice.get(key)
        if cached is None:
            prefs = KIND_POPULATIONS.get(kind, {})
            pops = self.populations[c]
            cached = (pops, _cum(prefs.get(p, 0.05 if prefs else 1) for p in pops))
            self._population_choice[key] = cached
        return cached

    def profile(self, c, pop):
        """(needs, cum), (insurances, cum), (slots, cum) a client of population pop of clinician c draws from."""
        key = (c, pop)
        cached = self._profiles.get(key)
        if cached is None:
            specs = self.specialties[c]
            need_w = [SPECIALTY_DEMAND[s] * max(NEED_FIT.get(s, {}).get(pop, 1), 0.02) for s in specs]
            ins = self.insurances[c]
            ins_w = [INSURANCE_MIX.get(pop, _COMMERCIAL).get(i, 0.3) or 0.01 for i in ins]
            slots = self.schedules[c]
            slot_w = [SCHEDULE_WANTED.get(pop, {}).get(s, 0.5) for s in slots]
            cached = ((specs, _cum(need_w)), (ins, _cum(ins_w)), (slots, _cum(slot_w)))
            self._profiles[key] = cached
        return cached

    def pass_options(self, c):
        """What clinician c lacks that an accepting colleague offers, per pass reason."""
        cached = self._pass_options.get(c)
        if cached is None:
            other_pops = [p for p in POPULATIONS if p not in self.pop_sets[c] and self.by_pop[p]]
            cached = {
                PASS_SCHEDULING: [s for s in SCHEDULE_SLOTS if s not in self.slot_sets[c] and self.by_slot[s]],
                PASS_INSURANCE: [i for i in INSURANCES if i not in self.ins_sets[c] and self.by_ins[i]],
                PASS_SPECIALTY: [s for s in SPECIALTIES if s not in self.spec_sets[c] and self.by_spec[s]],
                # "Other": a population c does not see, or c is not taking new clients.
                PASS_OTHER: other_pops,
            }
            self._pass_options[c] = cached
        return cached

    def write_clinicians(self, out):
        handle, writer = _open(out, "clinicians.csv")
        with handle:
            for c in range(self.n_clinicians):
                writer.writerow((self.clinician_ids[c], self.names[c], ";".join(self.specialties[c]),
                                 ";".join(self.populations[c]), ";".join(self.insurances[c]),
                                 ";".join(self.schedules[c]), "true" if self.accepting[c] else "false"))
        return self.n_clinicians

    def write_staff(self, out):
        handle, writer = _open(out, "staff.csv")
        with handle:
            writer.writerows(zip(self.staff_ids, self.staff_names, self.staff_roles, strict=False))
        return len(self.staff_ids)


def _unique_names(rng, n):
    combos = len(FIRST_NAMES) * len(LAST_NAMES)
    picks = rng.sample(range(combos), min(n, combos))
    names = [f"{FIRST_NAMES[p // len(LAST_NAMES)]} {LAST_NAMES[p % len(LAST_NAMES)]}" for p in picks]
    names += [f"{_person_name(rng)} {i}" for i in range(combos, n)]
    return names


# --------------------------------------------------------------------------- external providers


class _Providers:
    def __init__(self, rng, n_referrers):
        count = min(60, max(len(NICHES), n_referrers // 100))
        self.ids = [_id_format("ep", count, 2).format(i + 1) for i in range(count)]
        self.names, self.niches = [], []
        used = set()
        for i in range(count):
            # The first providers cover one niche each, so every niche has someone.
            main = NICHES[i] if i < len(NICHES) else rng.choices(NICHES, weights=[NICHE_DEMAND[n] for n in NICHES])[0]
            niches = {main} | {n for n in NICHE_NEIGHBOURS[main] if rng.random() < 0.3}
            self.niches.append([n for n in NICHES if n in niches])
            name = f"{rng.choice(PLACES)} {PROVIDER_SUFFIX[main]}"
            while name in used:
                place = rng.choice(PLACES)  # drawn first, then the side: the generator's order
                side = rng.choice(("North", "South", "East", "West", "Regional"))
                name = f"{place} {side} {PROVIDER_SUFFIX[main]}"
                if name in used:
                    name = f"{name} {i + 1}"
            used.add(name)
            self.names.append(name)
        reputation = [rng.lognormvariate(0, 0.8) for _ in range(count)]
        self.by_niche = {}
        for niche in NICHES:
            offering = [p for p in range(count) if niche in self.niches[p]]
            self.by_niche[niche] = (offering, _cum(reputation[p] for p in offering))
        self.niche_cum = {}
        for kind in REFERRER_KINDS:
            demand = {**NICHE_DEMAND, **NICHE_DEMAND_BY_KIND.get(kind, {})}
            self.niche_cum[kind] = _cum(demand[n] for n in NICHES)

    def write(self, out):
        handle, writer = _open(out, "external_providers.csv")
        with handle:
            for pid, name, niches in zip(self.ids, self.names, self.niches, strict=False):
                writer.writerow((pid, name, ";".join(niches)))
        return len(self.ids)


# --------------------------------------------------------------------------- referrers


class _Referrer:
    """One referrer's persona and the dates (day numbers) that drive its behaviour."""

    __slots__ = ("id", "kind", "name", "organization", "persona", "since", "first", "last", "count",
                 "point_person", "handoffs", "introduced", "intake_intro", "try_max", "try_ramp",
                 "stage3", "stage3_ramp", "practice_max", "intake_share")

    def point_person_on(self, day):
        holder = self.point_person
        for handoff_day, successor in self.handoffs:
            if day >= handoff_day:
                holder = successor
        return holder


def _persona_quota(rng, n):
    """Personas in their target shares, exactly, so even a small run shows every one."""
    personas = []
    for persona, share in PERSONA_SHARE:
        personas += [persona] * round(n * share)
    personas = personas[:n]
    personas += [LAPSE] * (n - len(personas))
    rng.shuffle(personas)
    return personas


def _plan_referrers(rng, practice, n, span, decide_introductions=True):
    last_day = span - 1
    planned = []
    for persona in _persona_quota(rng, n):
        u = rng.random()
        if persona == NEW:  # met recently, nothing sent yet
            since = last_day - int(u * min(span, 270))
        elif persona in (STAGE2, STAGE3):  # maturing takes time: mostly older relationships
            since = int(u ** 1.6 * last_day * 0.85)
        elif persona == LAPSE:
            since = int(u * last_day * 0.6)
        else:
            since = int(u * last_day * 0.95)
        planned.append((since, persona))
    planned.sort(key=lambda p: p[0])  # ids follow the order relationships began

    id_fmt = _id_format("rf", n, 5)
    kinds = [k for k in REFERRER_KINDS]
    kind_weights = [KIND_SHARE.get(k, 0.05) for k in kinds]
    referrers = []
    for i, (since, persona) in enumerate(planned):
        r = _Referrer()
        r.id = id_fmt.format(i + 1)
        r.kind = rng.choices(kinds, weights=kind_weights)[0]
        r.name, r.organization = _referrer_identity(rng, r.kind)
        r.persona = persona
        r.since = since
        r.first = min(last_day, since + int(rng.expovariate(1 / 45)))
        r.last = last_day
        if persona == LAPSE:
            r.last = r.first + int(rng.uniform(0.25, 0.65) * (last_day - r.first))
        r.count = 0
        r.point_person = rng.choices(range(practice.n_clinicians), cum_weights=practice.point_person_cum[r.kind])[0]
        r.handoffs = []
        r.introduced = []
        r.intake_intro = None
        r.try_max = rng.uniform(0.2, 0.55)
        r.try_ramp = rng.uniform(14, 300)
        r.stage3 = None
        r.stage3_ramp = rng.uniform(30, 540)
        r.practice_max = rng.uniform(0.7, 0.95)
        r.intake_share = rng.uniform(0.1, 0.5)
        _plan_handoffs(rng, r, practice, last_day)
        _plan_stages(rng, r, practice, last_day, decide_introductions)
        referrers.append(r)
    return referrers


def _referrer_identity(rng, kind):
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    place = rng.choice(PLACES)
    if kind == "physician":
        return f"Dr. {first} {last}", rng.choice((f"{place} Family Medicine", f"{place} Medical Group",
                                                   f"{rng.choice(LAST_NAMES)} Internal Medicine"))
    if kind == "pediatrician":
        return f"Dr. {first} {last}", rng.choice((f"{place} Pediatrics", f"{place} Children's Clinic"))
    if kind == "school_counselor":
        school = rng.choice(("Elementary School", "Middle School", "High School", "Academy"))
        return f"{first} {last}", f"{place} {school}"
    if kind == "clergy":
        title = rng.choice(("Rev.", "Pastor", "Father", "Rabbi", "Imam"))
        org = {"Rabbi": f"Congregation Beth Shalom of {place}", "Imam": f"{place} Islamic Center",
               "Father": f"St. {rng.choice(SAINTS)} Parish"}.get(
            title, rng.choice((f"First Baptist Church of {place}", f"{place} Community Church",
                               f"{place} United Methodist Church")))
        return f"{title} {first} {last}", org
    if kind == "attorney":
        partner = rng.choice(LAST_NAMES)
        return f"{first} {last}", rng.choice((f"{last} & {partner} LLP", f"{last} Family Law"))
    return f"{first} {last}", rng.choice((f"{place} Community Center", f"{place} Senior Center",
                                          f"{place} YMCA", f"{place} Employee Assistance Program"))


def _other_clinician(rng, practice, kind, exclude):
    """A clinician outside `exclude`, drawn by fit with the referrer kind."""
    cum = practice.point_person_cum[kind]
    for _ in range(20):
        c = rng.choices(range(practice.n_clinicians), cum_weights=cum)[0]
        if c not in exclude:
            return c
    rest = [c for c in range(practice.n_clinicians) if c not in exclude]
    return rng.choice(rest) if rest else None


def _plan_handoffs(rng, r, practice, last_day):
    # Only a few relationships change hands, and only after they have begun.
    if r.persona == NEW or last_day - r.since < 30 or rng.random() >= HANDOFF_SHARE:
        return
    holder, day = r.point_person, r.since
    for _ in range(1 if rng.random() < 0.88 else 2):
        if last_day - day < 2:
            break
        day = day + 1 + int(rng.uniform(0.15, 0.85) * (last_day - day - 1))
        successor = _other_clinician(rng, practice, r.kind, {holder})
        r.handoffs.append((day, successor))
        holder = successor


def _plan_stages(rng, r, practice, last_day, decide_introductions=True):
    """Fix when the point person introduces colleagues and when the practice takes over.

    With ``decide_introductions`` False only the days are kept: the
    colleagues are None, for ``seed.adoption`` to choose on those days.
    """
    persona, first, last = r.persona, r.first, r.last
    holders = {r.point_person} | {c for _, c in r.handoffs}
    intro_day = None
    if persona == STAGE2:
        intro_day = first + 1 + int(rng.uniform(0.1, 0.55) * (last - first))
    elif persona == STAGE3:
        intro_day = first + 1 + int(rng.uniform(0.05, 0.35) * (last - first))
        r.stage3 = intro_day + int(rng.uniform(0.1, 0.45) * (last - intro_day))
    elif persona == LAPSE and rng.random() < 0.35:
        intro_day = first + 1 + int(rng.uniform(0.2, 0.7) * (last - first))
    if intro_day is not None and intro_day <= last_day:
        how_many = rng.choices((1, 2, 3), weights=(50, 35, 15))[0]
        day = intro_day
        for _ in range(how_many):
            colleague = _other_clinician(rng, practice, r.kind, holders | {c for _, c in r.introduced})
            if colleague is None or day > last_day:
                break
            r.introduced.append((day, colleague))
            day += int(rng.expovariate(1 / 60))
        if not decide_introductions:  # the same draws, so every mode has the same referrers and dates
            r.introduced = [(day, None) for day, _ in r.introduced]
    if persona == STAGE3 and r.stage3 <= last_day and rng.random() < 0.7:
        r.intake_intro = r.stage3  # the point person tells them to just call intake
    elif persona == JUMP and rng.random() < 0.5:
        r.intake_intro = r.since


def _plan_events(rng, referrers, total, span):
    """Referral volumes per referrer (skewed, summing to total) and their dates.

    Returns the events as ints ``day * n_referrers + referrer_index``, sorted,
    which is date order and compact enough for a million of them.
    """
    weights = []
    for r in referrers:
        active = (r.last - r.first + 1) / span
        weights.append(rng.lognormvariate(0, 1.0) * PERSONA_VOLUME[r.persona] * active)
    volumes = _apportion(weights, total)
    n = len(referrers)
    events = []
    append = events.append
    random_ = rng.random
    for i, (r, k) in enumerate(zip(referrers, volumes, strict=False)):
        r.count = k
        first, width = r.first, r.last - r.first + 1
        for _ in range(k):
            append((first + int(random_() * width)) * n + i)
    events.sort()
    return events


def _apportion(weights, total):
    """Integers proportional to weights summing to total; each positive weight gets at least 1 if possible."""
    active = [i for i, w in enumerate(weights) if w > 0]
    counts = [0] * len(weights)
    if not active or total <= 0:
        return counts
    floor = 1 if total >= len(active) else 0
    wsum = sum(weights[i] for i in active)
    raw = {i: weights[i] * total / wsum for i in active}
    for i in active:
        counts[i] = max(floor, int(raw[i]))
    diff = total - sum(counts)
    if diff > 0:  # largest remainders first
        order = sorted(active, key=lambda i: raw[i] - int(raw[i]), reverse=True)
        for step in range(diff):
            counts[order[step % len(order)]] += 1
    elif diff < 0:  # the minimum of 1 overshot: take from the biggest
        order = sorted(active, key=lambda i: counts[i], reverse=True)
        step = 0
        while diff < 0:
            i = order[step % len(order)]
            if counts[i] > floor:
                counts[i] -= 1
                diff += 1
            step += 1
    return counts


# --------------------------------------------------------------------------- contacts & introductions


def _plan_contacts_and_introductions(rng, referrers, practice, span):
    """Contacts and introductions as packed ints, sorted later into date order.

    A contact is ``((day * R + referrer) * M + member) * K + kind``; an
    introduction is ``((day * R + referrer) * M + introduced) * M + by``.
    """
    last_day = span - 1
    n_ref, n_members = len(referrers), len(practice.member_ids)
    kinds = list(CONTACT_KINDS)
    n_kinds = len(kinds)
    opening = [kinds.index(k) for k in OPENING_CONTACTS if k in kinds]
    contacts, introductions = [], []
    for i, r in enumerate(referrers):
        mix = CONTACT_MIX.get(r.kind, DEFAULT_CONTACT_MIX)
        cum = _cum(mix.get(k, 0) for k in kinds)
        opening_cum = _cum(mix.get(kinds[k], 0) for k in opening)

        def contact(day, member, kind, i=i):  # i bound now: the closure is made per referrer
            contacts.append(((day * n_ref + i) * n_members + member) * n_kinds + kind)

        if rng.random() < 0.85:  # how the relationship began
            contact(r.since, r.point_person, opening[rng.choices(range(len(opening)), cum_weights=opening_cum)[0]])
        # The point person keeps in touch, more with busy referrers, less after they lapse.
        until = min(last_day, r.last + 60)
        if r.persona == NEW:
            n = rng.randint(0, 2)
        else:
            n = 1 + int(0.35 * r.count ** 0.8 * rng.uniform(0.5, 1.5))
        for _ in range(min(n, 60)):
            day = r.since + int(rng.random() * (until - r.since + 1))
            contact(day, r.point_person_on(day), rng.choices(range(n_kinds), cum_weights=cum)[0])
        for day, colleague in r.introduced:
            introductions.append(((day * n_ref + i) * n_members + colleague) * n_members + r.point_person_on(day))
            if rng.random() < 0.4:  # introduced over lunch or at a talk
                contact(day, colleague, opening[rng.choices(range(len(opening)), cum_weights=opening_cum)[0]])
            for _ in range(rng.randint(0, 2)):
                later = day + int(rng.random() * (until - day + 1))
                contact(later, colleague, rng.choices(range(n_kinds), cum_weights=cum)[0])
        if r.intake_intro is not None:
            day = r.intake_intro
            introductions.append(((day * n_ref + i) * n_members + practice.intake) * n_members + r.point_person_on(day))
            for _ in range(rng.randint(1, 3)):
                later = day + int(rng.random() * (until - day + 1))
                contact(later, practice.intake, rng.choices(range(n_kinds), cum_weights=cum)[0])
    return contacts, introductions


def _write_introductions(out, introductions, referrers, practice, day_iso):
    # The same introduction (referrer, colleague, introducer, day) drawn twice is one introduction:
    # graphsvc refuses the second as a duplicate.
    introductions[:] = sorted(set(introductions))
    n_ref, n_members = len(referrers), len(practice.member_ids)
    fmt = _id_format("int", len(introductions), 6)
    members = practice.member_ids
    handle, writer = _open(out, "introductions.csv")
    with handle:
        for number, packed in enumerate(introductions, 1):
            rest, by = divmod(packed, n_members)
            rest, introduced = divmod(rest, n_members)
            day, i = divmod(rest, n_ref)
            writer.writerow((fmt.format(number), day_iso[day], referrers[i].id, members[introduced], members[by]))
    return len(introductions)


def _write_contacts(out, contacts, referrers, practice, day_iso):
    contacts[:] = sorted(set(contacts))  # the same contact (referrer, member, kind, day) drawn twice is one
    n_ref, n_members, n_kinds = len(referrers), len(practice.member_ids), len(CONTACT_KINDS)
    fmt = _id_format("con", len(contacts), 6)
    members = practice.member_ids
    handle, writer = _open(out, "contacts.csv")
    with handle:
        for number, packed in enumerate(contacts, 1):
            rest, kind = divmod(packed, n_kinds)
            rest, member = divmod(rest, n_members)
            day, i = divmod(rest, n_ref)
            writer.writerow((fmt.format(number), day_iso[day], referrers[i].id, members[member], CONTACT_KINDS[kind]))
    return len(contacts)


def _write_referrers(out, referrers, practice, day_iso):
    handle, writer = _open(out, "referrers.csv")
    with handle:
        for r in referrers:
            writer.writerow((r.id, r.name, r.kind, r.organization, practice.clinician_ids[r.point_person],
                             day_iso[r.since]))
    return len(referrers)


def _write_handoffs(out, referrers, practice, day_iso):
    handle, writer = _open(out, "handoffs.csv")
    rows = 0
    with handle:
        for r in referrers:  # already in id order, each referrer's handoffs in date order
            for day, successor in r.handoffs:
                writer.writerow((day_iso[day], r.id, practice.clinician_ids[successor]))
                rows += 1
    return rows


# --------------------------------------------------------------------------- referrals


def _stream_referrals(out, rng, events, n_out, referrers, practice, providers, contacts, span, day_iso):
    """Turn the dated events into clients, referrals and referrals out, writing as it goes."""
    last_day = span - 1
    n_ref = len(referrers)
    n_members = len(practice.member_ids)
    kinds = list(CONTACT_KINDS)
    n_kinds = len(kinds)
    follow_up, case_consult = kinds.index("follow_up"), kinds.index("case_consult")
    referred_out = set(rng.sample(range(len(events)), n_out))
    client_fmt = _id_format("cl", len(events), 7)
    referral_fmt = _id_format("ref", len(events), 7)
    out_fmt = _id_format("out", n_out, 5)
    clinician_ids = practice.clinician_ids
    # Each clinician passes at its own rate, ~8% on average.
    pass_rate = [rng.uniform(0.03, 0.13) for _ in range(practice.n_clinicians)]
    reasons = [reason for reason, _ in PASS_REASON_SHARE]
    reasons_cum = _cum(share for _, share in PASS_REASON_SHARE)
    random_, choices = rng.random, rng.choices

    clients_handle, clients = _open(out, "clients.csv")
    referrals_handle, referrals_writer = _open(out, "referrals.csv")
    out_handle, out_writer = _open(out, "referrals_out.csv")
    n_referrals = n_referred_out = 0
    with clients_handle, referrals_handle, out_handle:
        for position, packed in enumerate(events):
            day, i = divmod(packed, n_ref)
            r = referrers[i]
            client_id = client_fmt.format(position + 1)
            date_iso = day_iso[day]

            if position in referred_out:
                n_referred_out += 1
                clients.writerow(_out_client(rng, client_id, r.kind, practice, providers, out_writer,
                                             out_fmt.format(n_referred_out), date_iso, r.id))
                continue

            addressee = _addressee(r, day, random_, rng, practice)
            pass_reason = ""
            if addressee is None or isinstance(addressee, str):  # the practice or a staff member: intake assigns
                assigned = practice.accepting_list[
                    choices(range(len(practice.accepting_list)), cum_weights=practice.intake_cum[r.kind])[0]]
                client = _fitting_client(rng, practice, assigned, r.kind)
                addressed_to = PRACTICE if addressee is None else addressee
            else:
                assigned = addressee
                addressed_to = clinician_ids[addressee]
                client = None
                if random_() < pass_rate[addressee]:
                    reason = reasons[choices(range(len(reasons)), cum_weights=reasons_cum)[0]]
                    passed = _pass(rng, practice, addressee, reason, r.kind)
                    if passed is not None:
                        pass_reason, assigned, client = passed
                        if random_() < 0.3:  # the colleague who took the case follows up
                            _add_contact(contacts, day, last_day, rng, i, n_ref, assigned, n_members, n_kinds,
                                         follow_up)
                if client is None:
                    client = _fitting_client(rng, practice, addressee, r.kind)
                if addressee != r.point_person_on(day) and random_() < 0.5:
                    _add_contact(contacts, day, last_day, rng, i, n_ref, addressee, n_members, n_kinds,
                                 follow_up if random_() < 0.7 else case_consult)
            clients.writerow((client_id, *client))
            n_referrals += 1
            referrals_writer.writerow((referral_fmt.format(n_referrals), date_iso, r.id, client_id,
                                       addressed_to, clinician_ids[assigned], pass_reason))
    return {"clients.csv": len(events), "referrals.csv": n_referrals, "referrals_out.csv": n_referred_out}


def _add_contact(contacts, day, last_day, rng, i, n_ref, member, n_members, n_kinds, kind):
    day = min(last_day, day + rng.randint(3, 30))
    contacts.append(((day * n_ref + i) * n_members + member) * n_kinds + kind)


def _addressee(r, day, random_, rng, practice):
    """Whom referrer r addresses a referral to on `day`.

    Returns a clinician index, a staff id, or None for the practice as a whole.
    """
    persona = r.persona
    if persona == JUMP or (persona == STAGE3 and day >= r.stage3):
        share = r.practice_max
        if persona == STAGE3:  # the shift to the practice ramps up at the referrer's own pace
            share *= min(1.0, (day - r.stage3 + 1) / r.stage3_ramp)
        if random_() < share:
            if random_() >= r.intake_share:
                return None
            if random_() < 0.9 or len(practice.staff_ids) == 1:
                return practice.staff_ids[0]
            return rng.choice(practice.staff_ids[1:])
    if r.introduced:
        first_intro = r.introduced[0][0]
        if day >= first_intro:
            if random_() < r.try_max * min(1.0, (day - first_intro + 1) / r.try_ramp):
                return rng.choice([c for d, c in r.introduced if d <= day])
        elif random_() < 0.02:  # met a colleague before the formal introduction
            return rng.choice(r.introduced)[1]
    return r.point_person_on(day)


def _fitting_client(rng, practice, c, kind):
    """(needs, population, insurance, schedule) of a client clinician c suits, as a referrer of `kind` sends."""
    pops, pop_cum = practice.population_choice(c, kind)
    pop = rng.choices(pops, cum_weights=pop_cum)[0]
    (specs, spec_cum), (ins, ins_cum), (slots, slot_cum) = practice.profile(c, pop)
    needs = _draw_needs(rng, specs, spec_cum, None)
    schedule = "" if rng.random() < NO_SCHEDULE_PREFERENCE else rng.choices(slots, cum_weights=slot_cum)[0]
    return ";".join(needs), pop, rng.choices(ins, cum_weights=ins_cum)[0], schedule


def _draw_needs(rng, specs, spec_cum, required):
    wanted = rng.choices((1, 2, 3), weights=(55, 33, 12))[0]
    needs = [required] if required else []
    for _ in range(6):
        if len(needs) >= wanted:
            break
        need = rng.choices(specs, cum_weights=spec_cum)[0]
        if need not in needs:
            needs.append(need)
    return needs


def _pass(rng, practice, c, reason, kind):
    """Build a referral that c passes for `reason`: the client, and a colleague who suits them fully.

    Returns (reason, colleague, client), or None if c lacks nothing a colleague offers.
    """
    options = practice.pass_options(c)
    # Fall back to another reason when c lacks nothing of the drawn kind.
    for reason in [reason] + [r for r, _ in PASS_REASON_SHARE if r != reason]:  # noqa: B020  (the drawn one first)
        lacking = options[reason]
        if reason == PASS_OTHER and not practice.accepting[c]:
            colleague = rng.choice([x for x in practice.accepting_list if x != c] or [None])
            if colleague is None:
                continue
            return reason, colleague, _fitting_client(rng, practice, colleague, kind)
        if not lacking:
            continue
        value = rng.choice(lacking)
        if reason == PASS_SCHEDULING:
            colleague = rng.choice(practice.by_slot[value])
        elif reason == PASS_INSURANCE:
            colleague = rng.choice(practice.by_ins[value])
        elif reason == PASS_SPECIALTY:
            colleague = rng.choice(practice.by_spec[value])
        else:
            colleague = rng.choice(practice.by_pop[value])
        if reason == PASS_OTHER:
            pop = value
        elif reason == PASS_SPECIALTY:
            # A population the needed specialty makes sense for.
            pops = practice.populations[colleague]
            fitting = [p for p in pops if NEED_FIT.get(value, {}).get(p, 1) > 0] or pops
            pop = rng.choice(fitting)
        else:
            pops, pop_cum = practice.population_choice(colleague, kind)
            pop = rng.choices(pops, cum_weights=pop_cum)[0]
        (specs, spec_cum), (ins, ins_cum), (slots, slot_cum) = practice.profile(colleague, pop)
        needs = _draw_needs(rng, specs, spec_cum, value if reason == PASS_SPECIALTY else None)
        insurance = value if reason == PASS_INSURANCE else rng.choices(ins, cum_weights=ins_cum)[0]
        if reason == PASS_SCHEDULING:
            schedule = value
        else:
            schedule = "" if rng.random() < NO_SCHEDULE_PREFERENCE else rng.choices(slots, cum_weights=slot_cum)[0]
        return reason, colleague, (";".join(needs), pop, insurance, schedule)
    return None


def _out_client(rng, client_id, kind, practice, providers, out_writer, out_id, date_iso, referrer_id):
    """Refer a client whose main need nobody covers to an outside provider; return the client row."""
    niche = NICHES[rng.choices(range(len(NICHES)), cum_weights=providers.niche_cum[kind])[0]]
    offering, cum = providers.by_niche[niche]
    provider = offering[rng.choices(range(len(offering)), cum_weights=cum)[0]]
    out_writer.writerow((out_id, date_iso, referrer_id, client_id, providers.ids[provider], niche))
    prefs = KIND_POPULATIONS.get(kind, {})
    pops = practice.covered_pops
    pop = rng.choices(pops, weights=[prefs.get(p, 0.05 if prefs else 1) for p in pops])[0]
    needs = [niche]
    if rng.random() < 0.4 and practice.covered_specs:  # e.g. inpatient eating-disorder care plus depression
        specs = practice.covered_specs
        extra = rng.choices(specs, weights=[SPECIALTY_DEMAND[s] * NEED_FIT.get(s, {}).get(pop, 1) + 0.01
                                            for s in specs])[0]
        needs.append(extra)
    mix = INSURANCE_MIX.get(pop, _COMMERCIAL)
    insurance = rng.choices(INSURANCES, weights=[mix.get(i, 0.3) for i in INSURANCES])[0]
    schedule = "" if rng.random() < 0.5 else rng.choice(SCHEDULE_SLOTS)
    return client_id, ";".join(needs), pop, insurance, schedule
