"""The practice's outreach (``/outreach``) and coverage (``/coverage``).

``/outreach``: contacts by kind, by member and by month (a chart), and for
each kind of contact how many referrers moved up a stage within 90 days
after one, beside the baseline (any day of a referrer at the same stage),
worded as "followed by", never as cause (``analysis.activity.outreach``).

``/network``: the whole network as an interactive picture (Cytoscape.js), its
positions computed on the server (``Insights.layout``, kept across writes so
only what changed moves) and fetched from ``/api/network``; filters by
stage, referrer kind, point person and date range, and a search, applied in
the browser.

``/coverage``: referrals out by niche and by provider over time (a chart),
and the niches the practice sends away most lately: candidates for a hire
(``analysis.activity.coverage``).

Neither takes query parameters.
"""

from __future__ import annotations

from flask import Blueprint, render_template

from ..vocabulary import CONTACT_KINDS, REFERRER_KINDS
from . import extensions
from .pages import only_parameters

bp = Blueprint("views", __name__)

MONTHS_SHOWN = 36


@bp.get("/outreach")
def outreach():
    """Contacts by kind, member and month, and the stage rises that followed them."""
    only_parameters()
    insights = extensions.insights()
    data = insights.outreach
    months = data["by_month"][-MONTHS_SHOWN:]
    kinds = [k for k in data["by_kind"] if data["by_kind"][k]] or list(CONTACT_KINDS)
    chart = {"labels": [row["month"] for row in months],
             "series": [{"label": k.replace("_", " "), "values": [row.get(k, 0) for row in months]} for k in kinds]}
    names = insights.member_names()
    members = sorted(((m, counts) for m, counts in data["by_member"].items()),
                     key=lambda mc: (-sum(mc[1].values()), names.get(mc[0], mc[0]).lower()))
    return render_template("views/outreach.html", o=data, kinds=kinds, months=months, chart=chart,
                           members=members, names=names)


@bp.get("/network")
def network():
    """The practice network as an interactive picture (drawn from ``/api/network``), with filters."""
    only_parameters()
    insights = extensions.insights()
    members = insights.members()
    clinicians = [(m["id"], m["name"]) for m in members if m["kind"] == "clinician"]
    return render_template("views/network.html", referrers=insights.referrer_count, members=len(members),
                           aggregate=insights.referrer_count > insights.NETWORK_MAX_NODES,
                           kinds=REFERRER_KINDS, clinicians=clinicians)


@bp.get("/coverage")
def coverage():
    """Referrals out by niche and provider over time; the niches sent away most."""
    only_parameters()
    data = extensions.insights().coverage
    months = data["by_month"][-MONTHS_SHOWN:]
    niches = list(data["top_niches"]) + (["other"] if any(row.get("other") for row in months) else [])
    chart = {"labels": [row["month"] for row in months],
             "series": [{"label": n.replace("_", " "), "values": [row.get(n, 0) for row in months]} for n in niches]}
    providers = sorted(data["by_provider"].items(), key=lambda pv: (-pv[1]["referrals_out"], pv[1]["name"].lower()))
    return render_template("views/coverage.html", c=data, months=months, niches=niches, chart=chart,
                           providers=providers)
