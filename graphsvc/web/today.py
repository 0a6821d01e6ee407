"""Today: ``/today`` and ``GET /api/today``, the few things most worth doing now for the signed-in person.

``Insights.today`` picks them: every open worklist row, the most at stake
first (``priority``: the referrer's referrals a year times how pressing the
reason), one item per referrer (a call covers its other rows, named in
``also``), ``web.today_items`` of them (15 by default). A clinician sees its
own (rows of referrers it is the point person of, and rows assigned to it);
everyone else the practice's. ``?member=<id>`` shows a member's own list to
anyone (every role reads everything).

Each item comes with its one-click actions (``actions``), each one a write
the signed-in user may make (``permissions``), as a form the page posts
(``form`` and ``fields``, then back to ``/today``) and as the JSON API call
that does the same (``api``):

* ``record_follow_up``: a ``follow_up`` contact today (a follow-up or a new
  referrer's row), by the clinician of the referral (a manager's view) or by
  the signed-in clinician;
* ``record_introduction``: the suggested colleague (or the coordinator, on
  ready rows) introduced today by the point person (``form`` is also the
  introduction form, prefilled, for changing a detail first);
* ``record_contact``: the contact form, prefilled, for a lapsed referrer
  (a lunch or a visit: the kind is the user's choice);
* ``record_status``: where a referral stands (follow-up and unseen rows), its form;
* ``snooze`` and ``done``: the row's own actions (``graphsvc.web.worklists``).
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, render_template, request, url_for
from flask_login import current_user

from ..errors import NotFound
from ..limits import ID_RE, shown
from ..permissions import can
from . import extensions
from .api import QUERY
from .api import bp as api_bp
from .pages import only_parameters
from .worklists import first_snooze_day, member_choices

bp = Blueprint("today", __name__)

QUERY["api_today"] = ("member", "refresh")


def whose(member: str | None, insights) -> str | None:
    """The member whose list to show: ``member`` if given (a 404-worthy ``LookupError`` if it names no
    clinician or staff member), else the signed-in clinician's, else None (the practice's)."""
    if member:
        if not ID_RE.fullmatch(member) or member not in insights.member_names():
            raise LookupError(f"no clinician or staff member {shown(member)}")
        return member
    if getattr(current_user, "role", None) == "clinician":
        return current_user.clinician_id
    return None


def items_for(insights, member: str | None) -> list[dict]:
    """Today's items for ``member`` (None: the practice), each with the actions the signed-in user may take."""
    items = insights.today(member, limit=current_app.config["TODAY_ITEMS"])
    day = insights.options.day().isoformat()
    for item in items:
        item["actions"] = actions(item, day)
    return items


def actions(item: dict, day: str) -> list[dict]:
    """The one-click actions of a today item the signed-in user may take (see the module docstring)."""
    out = []
    r = item["referrer"]
    mine = current_user.clinician_id if getattr(current_user, "role", None) == "clinician" else None
    if item["worklist"] in ("follow-up", "new"):
        member = mine or item.get("clinician") or item["point_person"]
        if member and can(current_user, "record_contact", member_id=member):
            fields = {"date": day, "member_id": member, "kind": "follow_up"}
            out.append({"action": "record_follow_up", "label": "Record the follow-up",
                        "form": url_for("record.contact", referrer_id=r), "fields": fields,
                        "api": {"method": "POST", "path": "/api/contacts", "body": {**fields, "referrer_id": r}}})
    intro = item.get("introduce")
    if intro is not None:
        by = mine or intro["by"]
        if by and by != intro["id"] and can(current_user, "record_introduction", by_id=by):
            fields = {"date": day, "introduced_id": intro["id"], "by_id": by}
            out.append({"action": "record_introduction", "label": f"Record the introduction of {intro['name']}",
                        "form": url_for("record.introduction", referrer_id=r), "fields": fields,
                        "api": {"method": "POST", "path": "/api/introductions",
                                "body": {**fields, "referrer_id": r}}})
    if item["worklist"] == "lapsed":
        member = mine or item["point_person"]
        if member and can(current_user, "record_contact", member_id=member):
            out.append({"action": "record_contact", "label": "Record the contact",
                        "form": url_for("record.contact", referrer_id=r, member_id=member), "fields": None,
                        "api": {"method": "POST", "path": "/api/contacts",
                                "body": {"date": day, "member_id": member, "referrer_id": r, "kind": None}}})
    if item.get("referral") and can(current_user, "record_status", assigned_to=item.get("clinician")):
        out.append({"action": "record_status", "label": "Record where it stands",
                    "form": url_for("updates.status", referral_id=item["referral"]), "fields": None,
                    "api": {"method": "POST", "path": f"/api/referrals/{item['referral']}/status",
                            "body": {"status": None, "date": day}}})
    if can(current_user, "work_on_rows", point_person_id=item["point_person"]):
        row = url_for("worklists.row", name=item["worklist"], row_id=item["id"])
        api = f"/api/worklists/{item['worklist']}/{item['id']}"
        out.append({"action": "snooze", "label": "Snooze", "form": row, "fields": {"action": "snooze"},
                    "api": {"method": "POST", "path": api, "body": {"action": "snooze", "until": None}}})
        out.append({"action": "done", "label": "Done", "form": row, "fields": {"action": "done"},
                    "api": {"method": "POST", "path": api, "body": {"action": "done", "note": None}}})
    return out


@bp.get("/today")
def today():
    """The signed-in person's few things to do now (a manager: the practice's)."""
    args = only_parameters(("member",))
    insights = extensions.insights()
    try:
        member = whose(args.get("member"), insights)
    except LookupError as e:
        abort(404, str(e).capitalize())
    items = items_for(insights, member)
    return render_template("today.html", items=items, member=member, names=insights.member_names(),
                           members=member_choices(insights), tomorrow=first_snooze_day(),
                           limit=current_app.config["TODAY_ITEMS"], here=request.full_path.rstrip("?"))


@api_bp.get("/today")
def api_today():
    """The signed-in person's few things to do now, each with its actions (``?member=`` for another's)."""
    insights = extensions.insights(refresh=request.args.get("refresh") in ("1", "true", "yes"))
    try:
        member = whose(request.args.get("member"), insights)
    except LookupError as e:
        raise NotFound(f"query parameter 'member': {e}") from None
    return jsonify(member=member, limit=current_app.config["TODAY_ITEMS"], items=items_for(insights, member))
