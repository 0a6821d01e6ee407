"""The practice page: stages now and by month, and what each member shares."""

from __future__ import annotations

from flask import Blueprint, render_template

from . import extensions
from .pages import html_errors

bp = html_errors(Blueprint("practice", __name__))


@bp.get("/practice")
def index():
    """Stage distribution now and by month, and per member sharing and key-person risk."""
    insights = extensions.insights()
    summary = insights.summary()
    return render_template("practice/index.html", s=summary, monthly=summary["monthly"][-24:][::-1],
                           clinicians=clinician_rows(insights))


def clinician_rows(insights) -> list[tuple[str, dict]]:
    """``(member id, row)`` for the clinicians table, the members who open doors most first."""
    if hasattr(insights, "clinicians"):
        found = insights.clinicians()
    else:  # before Insights.clinicians(): sharing and first colleagues, no key-person risk
        members = insights.index.members
        found = {m: {"name": members[m]["name"], "kind": members[m]["kind"], **s,
                     **insights.bridges.get(m, {})}
                 for m, s in insights.sharing.items()}
    return sorted(found.items(), key=lambda mc: (-mc[1]["introductions_made"], -mc[1]["passes_made"], mc[0]))
