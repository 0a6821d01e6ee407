"""The practice page: stages now and by month, and what each member shares.

``/practice`` takes no query parameters (any is a 400 page naming it).
Per clinician, key-person risk names the referrers at risk (a ``<details>``
list linking to their pages) and links the count to the overview filtered to
exactly those referrers when one of its filters gives them.
"""

from __future__ import annotations

from flask import Blueprint, render_template, url_for

from ..analysis.referrals import current_point_person
from . import extensions
from .pages import only_parameters

bp = Blueprint("practice", __name__)

# At most this many at-risk referrers are named per clinician (the rest are counted).
AT_RISK_LISTED = 25


@bp.get("/practice")
def index():
    """Stage distribution now and by month, and per member sharing and key-person risk."""
    only_parameters()
    insights = extensions.insights()
    summary = insights.summary(clinicians=False)
    return render_template("practice/index.html", s=summary, monthly=summary["monthly"][-24:][::-1],
                           clinicians=clinician_rows(insights), listed=AT_RISK_LISTED)


def clinician_rows(insights) -> list[tuple[str, dict]]:
    """``(member id, row)`` for the clinicians table, the members who open doors most first.

    Each row is ``Insights.clinicians()``'s, plus ``at_risk``: the key-person
    risk's referrers as ``{"id", "name"}`` by name, and ``at_risk_url``: the
    overview listing exactly them (``/?point_person=<id>``, or that with
    ``stage=1``), or ``None`` when no filter gives exactly them.
    """
    G, histories = insights.G, insights.histories
    pointed: dict[str, set] = {}  # clinician -> referrers whose current point person it is
    for r in histories:
        pointed.setdefault(current_point_person(G, r), set()).add(r)
    rows = []
    for m, c in insights.clinicians().items():
        risky = set(c["key_person_risk"]["referrers"])
        mine = pointed.get(m, set())
        url = None
        if risky and risky == mine:
            url = url_for("referrers.index", point_person=m)
        elif risky and risky == {r for r in mine if histories[r]["stage"] == 1}:
            url = url_for("referrers.index", point_person=m, stage=1)
        named = sorted(({"id": r, "name": G.nodes[r]["name"]} for r in risky), key=lambda x: (x["name"], x["id"]))
        rows.append((m, {**c, "at_risk": named, "at_risk_url": url}))
    return sorted(rows, key=lambda mc: (-mc[1]["introductions_made"], -mc[1]["passes_made"], mc[0]))
