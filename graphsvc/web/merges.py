"""Two records of one referrer: the likely duplicates (``/referrers/duplicates``) and merging them.

``/referrers/duplicates`` (a manager's) lists the pairs of referrers the
analysis finds alike (``analysis.duplicates``: names without titles and
degrees, and organizations), with why, each with two buttons: keep one,
merge the other into it. ``POST /referrers/<id>/merge`` (the form, with its
CSRF token) and ``POST /api/referrers/<id>/merge {"into": OTHER_ID}`` (the
API token) merge ``<id>`` into ``into`` through the service
(``Service.merge_referrers``: events, tasks and tenures move; audited).
A merged id's page (``/referrers/<id>``) and its API record lead to the one
kept (``referrers.detail``, ``api.referrer``).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for

from ..errors import InvalidInput, NotFound
from ..limits import shown
from . import auth, extensions
from .api import QUERY
from .api import bp as api
from .api_writes import _body, _may
from .downloads import csv_download
from .pages import only_parameters

bp = Blueprint("merges", __name__)

QUERY["merge_api"] = ()
CSV_COLUMNS = ("id_a", "name_a", "organization_a", "id_b", "name_b", "organization_b", "name_score",
               "organization_score", "why")
# The most pairs the page lists (the most alike first).
PAIRS_SHOWN = 200


@bp.get("/referrers/duplicates")
def duplicates():
    """The likely duplicate referrers, most alike first, each pair with its two merge buttons."""
    auth.require("merge_referrers")
    args = only_parameters(("format",))
    insights = extensions.insights()
    rows = insights.referrer_row
    pairs = [{**pair, "a": rows[pair["ids"][0]], "b": rows[pair["ids"][1]]}
             for pair in insights.duplicate_referrers if all(i in rows for i in pair["ids"])]
    if args.get("format") is not None:
        if args["format"] != "csv":
            abort(400, f"format must be csv (or left out for the page); got {shown(args['format'])}")
        return csv_download("likely_duplicates.csv", CSV_COLUMNS, (
            {"id_a": p["a"]["id"], "name_a": p["a"]["name"], "organization_a": p["a"]["organization"],
             "id_b": p["b"]["id"], "name_b": p["b"]["name"], "organization_b": p["b"]["organization"],
             "name_score": p["name"], "organization_score": p["organization"], "why": "; ".join(p["reasons"])}
            for p in pairs))
    return render_template("referrers/duplicates.html", pairs=pairs[:PAIRS_SHOWN], total=len(pairs),
                           shown=PAIRS_SHOWN)


@bp.post("/referrers/<referrer_id>/merge")
def merge(referrer_id):
    """Merge this referrer into the one the form names (``into``); then to the one kept, saying what moved."""
    auth.require("merge_referrers")
    into = request.form.get("into", "")
    try:
        done = extensions.service().merge_referrers(referrer_id, {"into": into}, by=extensions.actor())
    except (InvalidInput, NotFound) as e:
        flash(f"Not merged: {e}")
        return redirect(url_for("merges.duplicates"), code=303)
    names = extensions.insights().referrer_row
    kept = names.get(done["into"], {}).get("name", done["into"])
    dropped = len(done["dropped"])
    flash(f"Merged {shown(referrer_id)} into {kept}: its referrals, introductions, contacts and point-person "
          f"history are here now" + (f"; {dropped} event{'s' if dropped != 1 else ''} recorded on both was kept once."
                                     if dropped else "."))
    return redirect(url_for("referrers.detail", referrer_id=done["into"]), code=303)


@api.post("/referrers/<referrer_id>/merge")
@auth.token_required
def merge_api(referrer_id):
    """Merge referrer ``referrer_id`` into ``into`` (a manager): ``merged``, ``into``, ``point_person_id``,
    ``since`` and ``dropped``."""
    from ..inputs import MergeInput

    _may("merge_referrers")
    done = extensions.service().merge_referrers(referrer_id, _body(MergeInput), by=extensions.actor())
    return jsonify({**done, "since": done["since"].isoformat()})
