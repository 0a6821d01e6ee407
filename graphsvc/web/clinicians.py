"""A practice member's page (``/clinicians/<id>``) and a clinician's own start page (``/my-referrers``).

``/clinicians/<id>`` (a clinician or a staff member): the referrers it is
point person for, with their stage and what to do next; its introduction
queue; passes made and received; introductions; outreach (contacts by kind);
and its key-person risk. ``/my-referrers`` is the same for the signed-in
clinician, and what ``/`` shows a clinician account.

Query parameters: ``page`` (its referrers, ``PAGE_SIZE`` a page), nothing else.

The introduction queue is the top suggestion (``Insights.suggestions``) for
the member's referrers in stage 1 or 2 that referred in the last 12 months,
the stalled and the ones with the most referrals first, at most
``QUEUE_SIZE`` of them: suggestions score the whole practice per referrer,
so a queue of thousands would cost seconds.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from flask import Blueprint, abort, current_app, redirect, render_template, url_for
from flask_login import current_user

from ..errors import NotFound
from ..limits import shown
from . import extensions
from .pages import only_parameters, page_number

bp = Blueprint("clinicians", __name__)

QUEUE_SIZE = 10
RECENT = 10  # events of each kind listed (the rest counted)


@bp.get("/clinicians/<clinician_id>")
def detail(clinician_id):
    """A clinician's (or staff member's) referrers, introduction queue, passes, outreach and risk."""
    args = only_parameters(("page",))
    return _member_page(clinician_id, page_number(args.get("page")), mine=False)


@bp.get("/my-referrers")
def mine():
    """The signed-in clinician's own page: its referrers and its introduction queue."""
    args = only_parameters(("page",))
    clinician_id = getattr(current_user, "clinician_id", None)
    if not clinician_id:
        # Not a 403: nothing is forbidden, this account simply has no referrers of its own.
        return redirect(url_for("home.index"))
    return _member_page(clinician_id, page_number(args.get("page")), mine=True)



def _member_page(member_id: str, page: int, *, mine: bool):
    insights = extensions.insights()
    try:
        node = insights.member(member_id)
    except NotFound:
        if mine:
            abort(404, f"Your account is linked to clinician {shown(member_id)}, which is not in the graph; "
                       "ask a manager to link it to the right clinician (graphsvc user role).")
        abort(404, f"No clinician or staff member {shown(member_id)}")
    activity = insights.member_activity[member_id]
    rows, entries = insights.referrer_row, insights.worklist_entries
    referrers = [_referrer_row(rows[r], entries.get(r, [])) for r in activity["point_person_for"]]
    # Most in need of something first: on a worklist, then the most referrals.
    referrers.sort(key=lambda row: (not row["todo"], -row["referrals"], row["name"].lower(), row["id"]))
    size = current_app.config["PAGE_SIZE"]
    pages = max(1, -(-len(referrers) // size))
    if page > pages:
        abort(404, f"Page {page} is past the end: {pages} page{'s' if pages != 1 else ''} of referrers")
    stages = Counter(row["stage"] for row in referrers)
    risk = insights.key_person_risk.get(member_id, {"count": 0, "referrers": [], "referrals_last_12_months": 0})
    names = insights.member_names()

    return render_template(
        "clinicians/detail.html", member_id=member_id, member=node, mine=mine,
        referrers=referrers[(page - 1) * size:page * size], referrer_count=len(referrers), stages=stages,
        page=page, pages=pages, queue=_introduction_queue(insights, referrers), activity=activity,
        contact_kinds=Counter(c["kind"] for c in activity["contacts"]), recent=RECENT, risk=risk, names=names,
        referrer_name=insights.name_of,
        page_url=lambda n: url_for("clinicians.mine" if mine else "clinicians.detail",
                                   **({} if mine else {"clinician_id": member_id}), **({"page": n} if n > 1 else {})))


def _referrer_row(row: dict, todo: list) -> dict:
    """The page's row of one of the member's referrers (``Insights.referrer_row``), with its worklist entries."""
    return {"id": row["id"], "name": row["name"], "kind": row["kind"], "organization": row["organization"],
            "stage": row["stage"], "referrals": row["referrals"], "last_referral": row["last_referral"],
            "stalled": row["stalled"], "lapsed": row["lapsed"], "trend": row["trend"], "todo": todo}


def _introduction_queue(insights, referrers: list[dict]) -> list[dict]:
    """Whom to introduce to which of these referrers next: the top suggestion for the likeliest ones."""
    since = insights.options.day() - timedelta(days=365)
    active = [row for row in referrers
              if row["stage"] in (1, 2) and row["last_referral"] is not None and row["last_referral"] >= since]
    active.sort(key=lambda row: (not row["stalled"], -row["referrals"], row["id"]))
    queue = []
    for row in active:
        if len(queue) == QUEUE_SIZE:
            break
        try:
            suggestions = insights.suggestions(row["id"], limit=1, accepting=True)
        except NotFound:
            continue
        if suggestions:
            queue.append({"referrer": row, "suggestion": suggestions[0]})
    return queue
