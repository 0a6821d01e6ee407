"""The practice page: stages now and by month, and what each member shares.

``/practice`` takes no query parameters (any is a 400 page naming it).
Per clinician, key-person risk names the referrers at risk (a ``<details>``
list linking to their pages) and links the count to the overview filtered to
exactly those referrers when one of its filters gives them.
"""

from __future__ import annotations

from flask import Blueprint, render_template, url_for

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
                           clinicians=clinician_rows(insights), listed=AT_RISK_LISTED,
                           # One prefix for the thousands of referrer links (url_for for each cost 0.3 s
                           # at 100,000 referrers); ids are URL-safe (records.ID_PATTERN).
                           referrer_url=url_for("referrers.detail", referrer_id="-").removesuffix("-"))


def clinician_rows(insights) -> list[tuple[str, dict]]:
    """``(member id, row)`` for the clinicians table, the members who open doors most first.

    Each row is ``Insights.clinicians()``'s, plus ``at_risk``: the key-person
    risk's referrers as ``{"id", "name"}`` by name, and ``at_risk_url``: the
    referrer list showing exactly them (``/referrers?point_person=<id>``, or
    that with ``stage=1``), or ``None`` when no filter gives exactly them.
    The rows come from ``Insights.clinician_table`` (built once per analysis:
    at 100,000 referrers it walks every referrer); only the links are made here.
    """
    rows = []
    for m, row in insights.clinician_table:
        wanted = row["at_risk_filter"]
        rows.append((m, {**row, "at_risk_url": url_for("referrers.index", **wanted) if wanted else None}))
    return rows
