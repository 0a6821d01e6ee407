"""The practice's outreach (``/outreach``) and coverage (``/coverage``).

``/outreach``: contacts by kind, by member and by month (a chart), and for
each kind of contact how many referrers moved up a stage within 90 days
after one, beside the baseline (any day of a referrer at the same stage),
worded as "followed by", never as cause (``analysis.activity.outreach``).

``/network``: one point person's group, readable: the point person in the
middle, its referrers on a ring around it (by stage, each named and in its
stage's colour), and on an inner ring the colleagues those referrers were
introduced to or sent clients to, linked (``point_person_group``). A picker
chooses the point person (``?point_person=``; by default the signed-in
clinician's own, else the point person of the most referrers); under the
picture the same group as a table. ``?whole=1``: the whole network as an
interactive picture (Cytoscape.js), its positions computed on the server
(``Insights.layout``, kept across writes so only what changed moves) and
fetched from ``/api/network``; filters by stage, referrer kind, point person
and date range, and a search, applied in the browser.

``/coverage``: referrals out by niche and by provider over time (a chart),
and the niches the practice sends away most lately: candidates for a hire
(``analysis.activity.coverage``).

``/outreach`` and ``/coverage`` take no query parameters.
"""

from __future__ import annotations

import math
from collections import Counter

from flask import Blueprint, abort, render_template
from flask_login import current_user

from ..limits import shown
from ..vocabulary import CONTACT_KINDS
from . import extensions
from .downloads import csv_download
from .pages import only_parameters

bp = Blueprint("views", __name__)

MONTHS_SHOWN = 36


@bp.get("/outreach")
def outreach():
    """Contacts by kind, member and month, and the stage rises that followed them; ``format=csv``: the
    contacts by member and kind."""
    wants_csv = _csv(only_parameters(("format",)))
    insights = extensions.insights()
    data = insights.outreach
    months = data["by_month"][-MONTHS_SHOWN:]
    kinds = [k for k in data["by_kind"] if data["by_kind"][k]] or list(CONTACT_KINDS)
    chart = {"labels": [row["month"] for row in months],
             "series": [{"label": k.replace("_", " "), "key": f"contact:{k}",
                         "values": [row.get(k, 0) for row in months]} for k in kinds]}
    names = insights.member_names()
    members = sorted(((m, counts) for m, counts in data["by_member"].items()),
                     key=lambda mc: (-sum(mc[1].values()), names.get(mc[0], mc[0]).lower()))
    if wants_csv:
        return csv_download("outreach.csv", ("member_id", "member", *kinds, "total"), (
            {"member_id": m, "member": names.get(m, m), **{k: counts.get(k, 0) for k in kinds},
             "total": sum(counts.values())} for m, counts in members))
    return render_template("views/outreach.html", o=data, kinds=kinds, months=months, chart=chart,
                           members=members, names=names)


def _csv(args: dict) -> bool:
    """Whether ``format=csv`` was asked for (a 400 for another format)."""
    if "format" not in args:
        return False
    if args["format"] != "csv":
        abort(400, f"format must be csv (or left out for the page); got {shown(args['format'])}")
    return True


@bp.get("/network")
def network():
    """One point person's group as a labelled picture and a table; ``?whole=1``: the whole network."""
    args = only_parameters(("point_person", "whole"))
    insights = extensions.insights()
    members = insights.members()
    clinicians = [(m["id"], m["name"]) for m in members if m["kind"] == "clinician"]
    if "whole" in args:
        if args["whole"] != "1" or "point_person" in args:
            abort(400, "whole takes the value 1 (the whole network), without point_person")
        return render_template("views/network.html", whole=True, referrers=insights.referrer_count,
                               members=len(members), aggregate=insights.referrer_count > insights.NETWORK_MAX_NODES,
                               kinds=extensions.service().words().values("referrer_kinds"), clinicians=clinicians)
    rows = insights.referrer_rows
    counts = Counter(row["point_person_id"] for row in rows if row["point_person_id"])
    names = insights.member_names()
    choices = sorted(((m, names.get(m, m), n) for m, n in counts.items()), key=lambda c: (c[1].lower(), c[0]))
    chosen = args.get("point_person")
    if chosen is None:
        mine = getattr(current_user, "clinician_id", None)
        chosen = mine if mine in counts else min(counts, key=lambda m: (-counts[m], names.get(m, m).lower(), m),
                                                  default=None)
    elif chosen not in counts:
        abort(404, f"{shown(chosen)} is point person of no referrer; choose one of the list")
    group = None
    if chosen:
        group = point_person_group(insights, chosen, [r for r in rows if r["point_person_id"] == chosen])
    return render_template("views/network.html", whole=False, referrers=insights.referrer_count,
                           members=len(members), choices=choices, chosen=chosen, group=group, names=names)


# The group picture's rings, in pixels: names at least this far apart along a ring, and the room
# between the two rings for the inner ring's names.
RING_SPACING = 28
RING_GAP = 190


def point_person_group(insights, member_id: str, rows: list[dict]) -> dict:
    """A point person's referrers and the colleagues they know, laid out in two rings for ``/network``.

    ``rows`` are the point person's referrers (``Insights.referrer_rows``). The point person sits at
    (0, 0); its referrers on the outer ring (their names outward, into free room), by stage then
    name, each stage an arc, clockwise from the top; on the inner ring the other members they were
    introduced to or sent clients to (``Insights.connections``), each on the side of the referrers
    it is linked to (in the order of their mean angle, evenly spread, the first on its referrers' side).
    Returns ``nodes`` (``id``, ``label``, ``kind``, ``stage``, ``referrals``, ``x``, ``y``,
    ``size``), ``edges`` (``id``, ``source``, ``target``, ``referrals``, ``introductions``,
    ``weight``, ``spoke``: to the point person), ``referrers`` (the rows in ring order),
    ``colleagues`` (``id``, ``name``, ``kind``, ``referrers``: how many of the group know it; most
    first) and ``stages`` (referrers per stage).
    """
    referrers = sorted(rows, key=lambda r: (r["stage"], r["name"].lower(), r["id"]))
    kinds = {m["id"]: m["kind"] for m in insights.members()}
    top = max([r["referrals"] for r in referrers] + [1])
    edges, angles, links = [], {}, {}
    for i, r in enumerate(referrers):
        angles[r["id"]] = 2 * math.pi * i / max(1, len(referrers)) - math.pi / 2
        for c in insights.connections(r["id"]):
            if c["member"] != member_id:
                if not (c["referrals"] or c["introductions"]):
                    continue  # a contact only: not a colleague the referrer knows
                links.setdefault(c["member"], {"name": c["name"], "referrers": []})["referrers"].append(r["id"])
            edges.append({"id": f"{r['id']}->{c['member']}", "source": r["id"], "target": c["member"],
                          "referrals": c["referrals"], "introductions": c["introductions"],
                          "weight": c["referrals"] + c["introductions"], "spoke": c["member"] == member_id})

    def mean_angle(m):
        ids = links[m]["referrers"]
        return math.atan2(sum(math.sin(angles[r]) for r in ids), sum(math.cos(angles[r]) for r in ids))

    order = sorted(links, key=lambda m: ((mean_angle(m) + math.pi / 2) % (2 * math.pi), m))
    inner = max(120.0, len(order) * RING_SPACING / (2 * math.pi)) if order else 0.0
    outer = max(inner + RING_GAP, len(referrers) * RING_SPACING / (2 * math.pi))

    def at(radius, angle):
        return round(radius * math.cos(angle), 1), round(radius * math.sin(angle), 1)

    nodes = [{"id": member_id, "label": insights.name_of(member_id), "kind": kinds.get(member_id, "clinician"),
              "stage": None, "referrals": None, "x": 0.0, "y": 0.0, "size": 8}]
    for r in referrers:
        x, y = at(outer, angles[r["id"]])
        nodes.append({"id": r["id"], "label": r["name"], "kind": "referrer", "stage": r["stage"],
                      "referrals": r["referrals"], "x": x, "y": y,
                      "size": round(2 + 6 * math.sqrt(r["referrals"] / top), 2)})
    # Evenly spread in that order, clockwise, the ring turned to put the first on its referrers' side.
    turn = mean_angle(order[0]) if order else 0.0
    for i, m in enumerate(order):
        x, y = at(inner, turn + 2 * math.pi * i / len(order))
        nodes.append({"id": m, "label": links[m]["name"], "kind": kinds.get(m, "clinician"), "stage": None,
                      "referrals": None, "x": x, "y": y, "size": 2})
    colleagues = sorted(({"id": m, "name": links[m]["name"], "kind": kinds.get(m, "clinician"),
                          "referrers": len(links[m]["referrers"])} for m in links),
                        key=lambda c: (-c["referrers"], c["name"].lower(), c["id"]))
    return {"nodes": nodes, "edges": edges, "referrers": referrers, "colleagues": colleagues,
            "stages": Counter(r["stage"] for r in referrers)}


@bp.get("/coverage")
def coverage():
    """Referrals out by niche and provider over time; the niches sent away most; ``format=csv``: the
    outside providers with what they were sent for."""
    wants_csv = _csv(only_parameters(("format",)))
    data = extensions.insights().coverage
    months = data["by_month"][-MONTHS_SHOWN:]
    niches = list(data["top_niches"]) + (["other"] if any(row.get("other") for row in months) else [])
    chart = {"labels": [row["month"] for row in months],
             "series": [{"label": n.replace("_", " "), "values": [row.get(n, 0) for row in months],
                         **({"key": "other"} if n == "other" else {})} for n in niches]}
    providers = sorted(data["by_provider"].items(), key=lambda pv: (-pv[1]["referrals_out"], pv[1]["name"].lower()))
    if wants_csv:
        return csv_download("outside_providers.csv", ("id", "name", "niches", "referrals_out", "sent_for"), (
            {"id": p, "name": v["name"], "niches": sorted(v["niches"]), "referrals_out": v["referrals_out"],
             "sent_for": [f"{niche} {n}" for niche, n in v["by_niche"].items()]} for p, v in providers))
    return render_template("views/coverage.html", c=data, months=months, niches=niches, chart=chart,
                           providers=providers)
