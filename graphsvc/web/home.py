"""The start page, ``/``: a manager's dashboard, or a clinician's own referrers.

* A clinician account linked to a clinician: ``/`` is **My referrers**
  (``graphsvc.web.clinicians``).
* Every other account: the **dashboard** (also at ``/dashboard`` for
  everyone): the stage funnel now and month by month, practice breadth over
  time (median effective breadth, share of referrals addressed to the
  practice), referrals per month, and the worklists with their counts;
  it opens with the first few things of ``/today`` (``graphsvc.web.today``).

The charts are drawn by Chart.js (``static/js/charts.js``) from the data in
each chart's ``data-chart`` attribute; under each, the same numbers as a
table (folded), for readers without JavaScript or a screen.

The referrer list that ``/`` used to be is ``/referrers``; an old link with
the list's query parameters (``/?stage=1``) is redirected there.
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user

from ..analysis.worklists import WORKLISTS
from ..presentation import STAGE_NAMES, stage_label
from . import clinicians, extensions
from .pages import only_parameters
from .referrers import PARAMETERS as LIST_PARAMETERS
from .today import items_for, whose
from .worklists import first_snooze_day, member_choices

bp = Blueprint("home", __name__)

MONTHS_SHOWN = 36  # the charts' span
TODAY_ON_DASHBOARD = 5  # the dashboard opens with the first few of /today


@bp.get("/")
def index():
    """The dashboard, or My referrers for a clinician."""
    if request.args and set(request.args) <= set(LIST_PARAMETERS):
        return redirect(url_for("referrers.index", **request.args), code=301)
    if getattr(current_user, "clinician_id", None):
        return clinicians.mine()
    return dashboard()


@bp.get("/dashboard")
def dashboard():
    """The stage funnel, breadth and referrals over time, and the worklists' counts."""
    only_parameters()
    insights = extensions.insights()
    summary = insights.summary(clinicians=False)
    monthly = summary["monthly"][-MONTHS_SHOWN:]
    activity = insights.monthly_activity[-MONTHS_SHOWN:]
    funnel = {"labels": [stage_label(s) for s in STAGE_NAMES],
              "values": [summary["stages"][s] for s in range(4)]}
    over_time = {"labels": [row["month"] for row in monthly],
                 "series": [{"label": f"stage {s}", "key": f"stage:{s}",
                             "values": [row["stages"][s] for row in monthly]} for s in range(4)]}
    breadth = {"labels": [row["month"] for row in activity],
               "series": [{"label": "median effective breadth", "values": [row["median_effective_breadth"]
                                                                           for row in activity], "axis": "y"},
                          {"label": "share addressed to the practice (%)",
                           "values": [None if row["practice_share"] is None else round(100 * row["practice_share"], 1)
                                      for row in activity], "axis": "y1"}]}
    referrals = {"labels": [row["month"] for row in activity],
                 "series": [{"label": "referrals", "values": [row["referrals"] for row in activity]}]}
    mine = items_for(insights, whose(None, insights))
    return render_template("home/dashboard.html", s=summary, monthly=monthly, activity=activity,
                           today_items=mine[:TODAY_ON_DASHBOARD], today_limit=len(mine),
                           members=member_choices(insights), tomorrow=first_snooze_day(), here=request.path,
                           worklists=WORKLISTS, counts=insights.open_counts(),
                           follow_up=insights.follow_up_figures, conversion=insights.conversion,
                           funnel=funnel, over_time=over_time, breadth=breadth, referrals=referrals)
