"""How broadly each referrer connects to the practice.

Definitions (all per referrer):

* ``reached``: distinct members connected to the referrer by a referral
  (addressed or assigned), an introduction (introduced or introducing) or a
  contact.
* ``breadth``: distinct clinicians assigned its clients. ``concentration``:
  the Herfindahl index of its referrals over assigned clinicians (1.0 = all
  to one); ``effective_breadth`` = 1 / concentration.
* ``point_person_share``: share of referrals addressed to the clinician who
  was point person on the referral's date. ``practice_share``: share
  addressed to the practice as a whole (a staff member counts as the
  practice). ``recent_practice_share``: the same over the last ``window``.
* ``passes`` by reason; ``introductions``; ``contacts``; ``last_referral``,
  ``last_contact``; ``trend``: referrals in the 12 months up to ``as_of``
  against the 12 months before.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

from ..config import DEFAULT_ANALYSIS
from ..rules import point_person_finder
from ..vocabulary import PASS_REASONS, PRACTICE
from .referrals import PracticeFlags, current_point_person


def referrer_metrics(G, referrers=None, *, window: int = DEFAULT_ANALYSIS.window, as_of: date | None = None) -> dict:
    """Breadth, concentration, shares, passes and trend of each referrer.

    Parameters
    ----------
    G : networkx.MultiDiGraph
        A referral graph (``graphsvc.analysis.graph``).
    referrers : iterable, optional
        Referrer ids; all referrers when omitted.
    window : int
        How many recent referrals ``recent_practice_share`` looks at.
    as_of : date, optional
        The end of the ``trend`` windows; today when omitted.

    Returns
    -------
    dict
        Keyed by referrer id; see the module docstring for the fields.

    Examples
    --------
    >>> from datetime import date
    >>> from graphsvc.analysis import graph as p
    >>> G = p.new_graph()
    >>> p.add_member(G, "ana"); p.add_member(G, "ben")
    >>> p.add_referrer(G, "drx", point_person="ana", since=date(2024, 1, 1))
    >>> p.add_referral(G, "drx", "r1", date(2024, 2, 1), "ana")
    >>> p.add_referral(G, "drx", "r2", date(2024, 3, 1), "ana", "ben", pass_reason="insurance")
    >>> m = referrer_metrics(G, as_of=date(2024, 6, 1))["drx"]
    >>> m["breadth"], m["concentration"], m["passes"]["insurance"]
    (2, 0.5, 1)
    """
    as_of = as_of or date.today()
    if referrers is None:
        referrers = [n for n, kind in G.nodes(data="kind") if kind == "referrer"]
    year_ago, two_years_ago = _years_before(as_of, 1), _years_before(as_of, 2)
    practice = PracticeFlags(G)
    out = {}
    for r in referrers:
        point_person = point_person_finder(G.nodes[r]["tenures"])
        referrals, reached, introductions, contacts, last_contact = _events(G, r)
        referrals.sort(key=lambda e: (e[3]["date"], e[2]))
        n = len(referrals)
        assigned = Counter(e[1] for e in referrals)
        passes = dict.fromkeys(PASS_REASONS, 0)
        to_pp = to_prac = last_year = year_before = 0
        for _, member, _, data in referrals:
            reached.add(member)
            addressed = data["addressed_to"]
            if addressed != PRACTICE:
                reached.add(addressed)
            if practice[addressed]:
                to_prac += 1
            elif addressed == point_person(data["date"]):
                to_pp += 1
            if data["pass_reason"]:
                passes[data["pass_reason"]] += 1
            if year_ago < data["date"] <= as_of:
                last_year += 1
            elif two_years_ago < data["date"] <= year_ago:
                year_before += 1
        recent = referrals[-window:]
        concentration = sum((c / n) ** 2 for c in assigned.values()) if n else None
        out[r] = {
            "point_person": current_point_person(G, r),
            "referrals": n,
            "reached": len(reached),
            "breadth": len(assigned),
            "concentration": _round(concentration),
            "effective_breadth": _round(1 / concentration) if concentration else None,
            "point_person_share": _round(to_pp / n) if n else None,
            "practice_share": _round(to_prac / n) if n else None,
            "recent_practice_share": _round(sum(practice[e[3]["addressed_to"]] for e in recent)
                                            / len(recent)) if recent else None,
            "passes": passes,
            "passes_total": sum(passes.values()),
            "introductions": introductions,
            "contacts": contacts,
            "last_referral": referrals[-1][3]["date"] if referrals else None,
            "last_contact": last_contact,
            "trend": {"last_12_months": last_year, "previous_12_months": year_before,
                      "change": last_year - year_before},
        }
    return out


def _events(G, r) -> tuple[list, set, int, int, date | None]:
    """One walk over a referrer's events (the adjacency dicts, as ``referrals.referral_edges``): its
    referrals as ``(r, member, key, data)``, the members reached by introductions and contacts, how many
    introductions and contacts, and the last contact's day."""
    referrals = []
    reached = set()
    introductions = contacts = 0
    last_contact = None
    for member, keyed in G._adj[r].items():
        for key, data in keyed.items():
            kind = data["type"]
            if kind == "referral":
                referrals.append((r, member, key, data))
            elif kind == "introduction":
                introductions += 1
                reached.update((member, data["by"]))
            elif kind == "contact":
                contacts += 1
                reached.add(member)
                if last_contact is None or data["date"] > last_contact:
                    last_contact = data["date"]
    return referrals, reached, introductions, contacts, last_contact


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _round(x):
    return None if x is None else round(x, 4)
