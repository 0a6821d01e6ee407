"""The clinicians (``/clinicians``), a practice member's page (``/clinicians/<id>``) and a clinician's own
start page (``/my-referrers``).

``/clinicians``: every clinician with its referrers as point person now (the
count, linking to the referrer list filtered to them), how many of them are
in stage 1, 2 and 3 (each linking to that list, by stage), and whether it
accepts new clients. Query parameters: ``sort`` (``SORTS``: ``name``, the
default, or a column), ``desc`` (``1``: the other way round; a column's link
sorts numbers most first, then flips) and ``format=csv`` (every clinician as
a CSV download, ``CSV_COLUMNS``).

``/clinicians/<id>`` (a clinician or a staff member): the referrers it is
point person for, with their stage and what to do next; its introduction
queue; passes made and received; introductions; outreach (contacts by kind);
and its key-person risk. ``/my-referrers`` is the same for the signed-in
clinician, and what ``/`` shows a clinician account.

Query parameters: ``page`` (its referrers, ``PAGE_SIZE`` a page) and
``format=csv`` (every one of its referrers as a CSV download,
``REFERRER_COLUMNS``), nothing else.

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
from .downloads import csv_download
from .pages import only_parameters, page_number

bp = Blueprint("clinicians", __name__)

QUEUE_SIZE = 10
RECENT = 10  # events of each kind listed (the rest counted)

# /clinicians: the columns it sorts by (numbers and yes/no sort most first on a column's first click).
SORTS = ("name", "accepting_new", "referrers", "stage_1", "stage_2", "stage_3")
CSV_COLUMNS = ("id", "name", "accepting_new", "referrers", "stage_1", "stage_2", "stage_3")
# A member's referrers as its page's download has them.
REFERRER_COLUMNS = ("id", "name", "kind", "organization", "stage", "referrals", "last_referral", "stalled",
                    "lapsed", "worklists")


def _format(args: dict) -> bool:
    """Whether ``format=csv`` was asked for; a 400 for any other format."""
    if not args.get("format"):
        return False
    if args["format"] != "csv":
        abort(400, f"format must be csv (or left out for the page); got {shown(args['format'])}")
    return True


def clinician_rows(insights) -> list[dict]:
    """One row per clinician, by name: ``id``, ``name``, ``accepting_new``, ``referrers`` (those it is the
    current point person of, as the referrer list's ``point_person`` filter counts them) and ``stage_1``
    to ``stage_3`` (how many of them are in each stage now)."""
    counts: Counter = Counter()
    for row in insights.referrer_rows:
        if row["point_person_id"] is not None:
            counts[row["point_person_id"]] += 1
            counts[row["point_person_id"], row["stage"]] += 1
    return [{"id": c["id"], "name": c["name"], "accepting_new": bool(c.get("accepting_new")),
             "referrers": counts[c["id"]], **{f"stage_{s}": counts[c["id"], s] for s in (1, 2, 3)}}
            for c in insights.members("clinician")]


@bp.get("/clinicians")
def index():
    """Every clinician: its referrers as point person, their stages, and whether it takes new clients."""
    args = only_parameters(("sort", "desc", "format"))
    sort = args.get("sort") or "name"
    if sort not in SORTS:
        abort(400, f"sort must be one of {', '.join(SORTS)}; got {shown(sort)}")
    desc = args.get("desc", "")
    if desc not in ("", "0", "1"):
        abort(400, f"desc must be 1 (the other way round) or 0; got {shown(desc)}")
    desc = desc == "1"
    rows = clinician_rows(extensions.insights())  # by name, then id
    # Stable, also reversed: ties stay by name.
    rows.sort(key=(lambda row: row[sort]) if sort != "name" else (lambda row: (row["name"].lower(), row["id"])),
              reverse=desc)
    if _format(args):
        return csv_download("clinicians.csv", CSV_COLUMNS, rows,
                            filters={"sort": None if sort == "name" else sort, "desc": "1" if desc else None})
    kept = {**({"sort": sort} if sort != "name" else {}), **({"desc": "1"} if desc else {})}

    def sort_url(column: str) -> str:
        if column == sort:
            flip = not desc
        else:
            flip = column != "name"  # numbers and yes/no: most first
        return url_for("clinicians.index", **({"sort": column} if column != "name" else {}),
                       **({"desc": "1"} if flip else {}))

    return render_template("clinicians/index.html", rows=rows, sort=sort, desc=desc, sort_url=sort_url,
                           csv_url=url_for("clinicians.index", **kept, format="csv"))


@bp.get("/clinicians/<clinician_id>")
def detail(clinician_id):
    """A clinician's (or staff member's) referrers, introduction queue, passes, outreach and risk."""
    args = only_parameters(("page", "format"))
    return _member_page(clinician_id, page_number(args.get("page")), mine=False, csv=_format(args))


@bp.get("/my-referrers")
def mine():
    """The signed-in clinician's own page: its referrers and its introduction queue."""
    args = only_parameters(("page", "format"))
    clinician_id = getattr(current_user, "clinician_id", None)
    if not clinician_id:
        # Not a 403: nothing is forbidden, this account simply has no referrers of its own.
        return redirect(url_for("home.index"))
    return _member_page(clinician_id, page_number(args.get("page")), mine=True, csv=_format(args))


def _member_page(member_id: str, page: int, *, mine: bool, csv: bool = False):
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
    if csv:
        return csv_download(f"referrers-of-{member_id}.csv", REFERRER_COLUMNS,
                            ({**row, "worklists": [name for name, _ in row["todo"]]} for row in referrers),
                            filters={"member": member_id})
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
        csv_url=url_for("clinicians.mine", format="csv") if mine else url_for("clinicians.detail",
                                                                               clinician_id=member_id, format="csv"),
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
