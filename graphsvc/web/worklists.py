"""The worklists: ``/worklists`` and ``/worklists/<name>``, each filterable, sortable, paged and downloadable.

The lists are the analysis' (``graphsvc.analysis.worklists``, cached on the
live ``Insights`` and kept current with every write). Query parameters of a
list (each optional; an empty value means "any"):

``q``
    part of the referrer's name or organization (any case);
``stage``, ``referrer_kind``, ``point_person``
    and the list's own filters (``WORKLISTS[name]["filters"]``: ``status``
    and ``clinician`` on follow-up, ``reason`` on lapsed, ...);
``sort``
    a column of ``WORKLISTS[name]["sorts"]``; absent, the list's own order
    (most urgent first);
``desc``
    ``1`` for the reverse order;
``page``
    1, 2, ...;
``show``
    whose rows: ``open`` (the default: the work now), ``snoozed``, ``done``
    or ``all``;
``format``
    ``csv``: every matching row (not just the page) as a CSV download, recorded
    in the audit log.

Anything else, or a bad value, is a 400 page naming it. ``GET
/api/worklists/<name>`` takes the same (``graphsvc.web.api_worklists``).

Every row has a stable ``id`` (``analysis.worklists.row_id``) and can be
worked on (``permissions``: ``work_on_rows``): assigned to a member, snoozed
until a day, marked done with an outcome note, reopened. On the list page
each row has these as buttons (plain forms: no JavaScript needed), posting
to ``/worklists/<name>/<row id>``, which is also the row's own page; the
service writes the row's task, audits it and brings the analysis up to date,
and the user is sent back to the list with a confirmation.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..analysis.worklists import ROW_STATES, WORKLISTS, filter_sort_page
from ..errors import InvalidInput, NotFound
from ..inputs import ROW_ACTION_FIELDS, RowAction, parse
from ..limits import ID_RE, shown
from ..permissions import can
from ..presentation import STAGE_NAMES, words
from ..records import today as records_today
from . import extensions
from .downloads import csv_download
from .pages import local_target, only_parameters, page_number

bp = Blueprint("worklists", __name__)

# Column headers on the page and in the CSV's first row (the CSV keeps the column names).
LABELS = {
    "referrer": "Id", "name": "Referrer", "referrer_kind": "Kind", "organization": "Organization",
    "point_person": "Point person id", "point_person_name": "Point person", "stage": "Stage",
    "referrals": "Referrals", "first_referral": "First referral", "last_referral": "Last referral",
    "days_since_first": "Days since first", "stage_since": "In stage 1 since", "days_in_stage": "Days in stage",
    "colleagues_tried": "Colleagues tried", "coordinator": "Coordinator id", "coordinator_name": "Introduce",
    "coordinator_role": "Role", "reason": "Reason", "days_since_last": "Days since last",
    "last_12_months": "Last 12 months", "previous_12_months": "12 months before", "change": "Change",
    "referral": "Referral", "date": "Date", "clinician": "Clinician id", "clinician_name": "Clinician",
    "due": "Due", "days_overdue": "Days overdue", "status": "Status", "depends_on": "Depends on (ids)",
    "depends_on_names": "Depends on", "referrals_last_12_months": "Referrals, last 12 months",
    "why": "Why", "next_step": "Next step", "id": "Row id", "task_status": "Work", "assigned_to": "Assigned to (id)",
    "assigned_to_name": "Assigned to", "snoozed_until": "Snoozed until", "note": "Outcome", "done_on": "Done on",
    "referral_status": "Where it stands", "status_on": "Since", "days_waiting": "Days waiting",
}
# The lists whose rows call for an introduction: their page names the colleague, with a one-click button.
INTRODUCING = ("stalled", "ready", "key-person-risk")
# Whose rows a list shows (``show``): the work now, snoozed, done, or every one.
SHOWS = ROW_STATES + ("all",)
# Shown on the page (ids go into links and the CSV instead of their own columns).
HIDDEN_ON_PAGE = {"referrer", "point_person", "coordinator", "clinician", "depends_on", "organization",
                  "first_referral", "id", "assigned_to", "task_status", "note", "done_on", "snoozed_until",
                  "priority", "referrer_id", "referral"}
NUMERIC = {"referrals", "days_since_first", "days_in_stage", "colleagues_tried", "days_since_last",
           "last_12_months", "previous_12_months", "change", "days_overdue", "referrals_last_12_months",
           "days_waiting"}


def counts() -> dict[str, int]:
    """How many open rows each worklist has now (for the dashboard and the index)."""
    return extensions.insights().open_counts()


@bp.get("/worklists")
def index():
    """The six worklists, with how many rows each has now."""
    only_parameters()
    return render_template("worklists/index.html", worklists=WORKLISTS, counts=counts())


def list_request(name: str, args: dict) -> dict:
    """A list's query (``filters``, ``sort``, ``desc``, ``show``) from request parameters, checked;
    ``InvalidInput`` naming each bad one. The page and ``GET /api/worklists/<name>`` share it."""
    spec = WORKLISTS[name]
    filters = {k: args[k] for k in ("q",) + spec["filters"] if args.get(k)}
    problems = []
    if "stage" in filters and filters["stage"] not in {str(s) for s in STAGE_NAMES}:
        problems.append(f"stage must be one of {', '.join(str(s) for s in STAGE_NAMES)}; "
                        f"got {shown(filters['stage'])}")
    sort = args.get("sort") or None
    if sort is not None and sort not in spec["sorts"]:
        problems.append(f"sort must be one of {', '.join(spec['sorts'])}; got {shown(sort)}")
    desc = args.get("desc", "")
    if desc not in ("", "0", "1"):
        problems.append(f"desc must be 1 (reverse order) or 0; got {shown(desc)}")
    show = args.get("show") or "open"
    if show not in SHOWS:
        problems.append(f"show must be one of {', '.join(SHOWS)}; got {shown(show)}")
    if problems:
        raise InvalidInput(problems)
    return {"filters": filters, "sort": sort, "desc": desc == "1", "show": show}


def known_list(name: str) -> dict:
    spec = WORKLISTS.get(name)
    if spec is None:
        abort(404, f"No worklist {shown(name)}; the worklists are {', '.join(WORKLISTS)}")
    return spec


@bp.get("/worklists/<name>")
def worklist(name):
    """One worklist: filtered, sorted, paged; ``format=csv`` downloads every matching row."""
    spec = known_list(name)
    args = only_parameters(("q",) + spec["filters"] + ("sort", "desc", "page", "format", "show"))
    try:
        asked = list_request(name, args)
    except InvalidInput as e:
        abort(400, "; ".join(e.problems))
    filters, sort, desc, show = asked["filters"], asked["sort"], asked["desc"], asked["show"]
    page = page_number(args.get("page"))
    insights = extensions.insights()
    rows = insights.worklist(name, show)
    if args.get("format"):
        if args["format"] != "csv":
            abort(400, f"format must be csv (or left out for the page); got {shown(args['format'])}")
        everything, _ = filter_sort_page(rows, name, filters=filters, sort=sort, descending=desc,
                                         page=1, page_size=max(1, len(rows)))
        return csv_download(f"worklist-{name}.csv", spec["columns"], everything,
                            filters={**filters, "sort": sort, "desc": "1" if desc else None,
                                     "show": None if show == "open" else show, "worklist": name})
    size = current_app.config["PAGE_SIZE"]
    shown_rows, total = filter_sort_page(rows, name, filters=filters, sort=sort, descending=desc,
                                         page=page, page_size=size)
    pages = max(1, -(-total // size))
    kept = {**filters, **({"sort": sort} if sort else {}), **({"desc": "1"} if desc else {}),
            **({"show": show} if show != "open" else {})}

    def page_url(n: int) -> str:
        return url_for("worklists.worklist", name=name, **kept, **({"page": n} if n > 1 else {}))

    def sort_url(column: str) -> str:
        flip = sort == column and not desc
        return url_for("worklists.worklist", name=name, **filters, sort=column, **({"desc": "1"} if flip else {}),
                       **({"show": show} if show != "open" else {}))

    def show_url(which: str) -> str:
        return url_for("worklists.worklist", name=name, **filters, **({"sort": sort} if sort else {}),
                       **({"desc": "1"} if desc else {}), **({"show": which} if which != "open" else {}))

    if name in INTRODUCING:
        # The colleague to introduce, for this page's rows only (the suggestions score the whole
        # practice for one referrer: too dear for every row of the list).
        shown_rows = [{**r, "introduce": insights.introduction_for(name, r)} for r in shown_rows]
    columns = [c for c in spec["columns"] if c not in HIDDEN_ON_PAGE]
    columns.remove("assigned_to_name")  # the work cell shows who has the row
    if name != "follow-up":
        columns.remove("status")  # the work cell shows it (follow-up's own status is due / overdue)
    clinicians = [(c["id"], c["name"]) for c in insights.members("clinician")]
    here = page_url(page)
    html = render_template("worklists/list.html", name=name, spec=spec, rows=shown_rows, total=total,
                           all_rows=len(rows), page=page, pages=pages, columns=columns, labels=LABELS,
                           numeric=NUMERIC, filters=filters, sort=sort, desc=desc, show=show, shows=SHOWS,
                           show_url=show_url, page_url=page_url, sort_url=sort_url, clinicians=clinicians,
                           members=member_choices(insights), worklists=WORKLISTS, names=insights.member_names(),
                           choices=_choices(rows, spec), may_act=_may_act, here=here, tomorrow=first_snooze_day(),
                           day=insights.options.day(), introducer=_introducer,
                           follow_up=insights.follow_up_figures if name == "follow-up" else None,
                           csv_url=url_for("worklists.worklist", name=name, **kept, format="csv"))
    return html, 404 if page > pages else 200


# -- working on a row ---------------------------------------------------------------------------------


def _introducer(row: dict) -> str | None:
    """Who would record a row's introduction: the signed-in clinician, else the row's point person;
    None if the signed-in user may not record it."""
    by = current_user.clinician_id if getattr(current_user, "role", None) == "clinician" else row.get("point_person")
    return by if by and can(current_user, "record_introduction", by_id=by) else None


def _may_act(row: dict) -> bool:
    """Whether the signed-in user may assign, snooze or close this row (``permissions``)."""
    return can(current_user, "work_on_rows", point_person_id=row.get("point_person"))


def member_choices(insights) -> list[tuple[str, str]]:
    return [(m["id"], m["name"] + ("" if m["kind"] == "clinician" else f" ({words(m.get('role') or 'staff')})"))
            for m in insights.members()]


def first_snooze_day():
    """The first day a row can be snoozed until (``inputs.RowAction``: after today, by the clock)."""
    return records_today() + timedelta(days=1)


def _row(insights, name: str, row_id: str) -> dict:
    if not ID_RE.fullmatch(row_id):
        abort(404, f"No row {shown(row_id)} on the {name} worklist")
    try:
        return insights.worklist_row(name, row_id)
    except NotFound:
        abort(404, f"No row {shown(row_id)} on the {name} worklist: its reason may have gone (the data "
                   f"changed), which closes it")


@bp.route("/worklists/<name>/<row_id>", methods=["GET", "POST"])
def row(name, row_id):
    """One row with its actions (GET); an action on it (POST: ``action``, ``to``, ``until``, ``note``,
    ``next``), then back to ``next`` (the list it was on) with a confirmation, or the row's page again
    with the reason it was refused (400) or a 403 page for someone who may not."""
    spec = known_list(name)
    if request.method == "GET":
        only_parameters(("next",))
        insights = extensions.insights()
        found = _row(insights, name, row_id)
        return _row_page(insights, name, spec, found, {}, [], 200)
    back = local_target(request.form.get("next"), url_for("worklists.worklist", name=name))
    typed = {k: request.form.get(k, "").strip() for k in ("action", "to", "until", "note")}
    with extensions.reading() as insights:
        found = _row(insights, name, row_id)
        names = insights.member_names()
    if not _may_act(found):
        abort(403, f"A clinician may work only on the rows of referrers it is the point person of; "
                   f"{found['name']}'s point person is {found['point_person_name'] or 'nobody'}.")
    action = typed["action"]
    wanted = ROW_ACTION_FIELDS.get(action, ())
    ask = {"action": action, **{k: typed[k] for k in wanted if typed[k]}}
    try:
        task = extensions.service().act_on_row(name, found, parse(RowAction, ask), by=extensions.actor())
    except InvalidInput as e:
        with extensions.reading() as insights:
            return _row_page(insights, name, spec, found, typed, e.problems, 400, back=back)
    flash(_confirmation(spec, found, task, action, names))
    return redirect(back, code=303)


def _confirmation(spec: dict, row: dict, task: dict, action: str, names: dict) -> str:
    who = row["name"]
    if action == "assign":
        return f"{spec['title']}: {who} assigned to {names.get(task['assigned_to'], task['assigned_to'])}."
    if action == "snooze":
        return f"{spec['title']}: {who} snoozed until {task['snoozed_until']}; it comes back on the list that day."
    if action == "done":
        return f"{spec['title']}: {who} marked done; it has left the list."
    return f"{spec['title']}: {who} reopened; it is back on the list."


def _row_page(insights, name, spec, found, typed, problems, status, back=None):
    return render_template("worklists/row.html", name=name, spec=spec, row=found, typed=typed, problems=problems,
                           members=member_choices(insights), may_act=_may_act(found), labels=LABELS,
                           tomorrow=first_snooze_day(), back=back or url_for("worklists.worklist", name=name)), status


def _choices(rows: list[dict], spec: dict) -> dict[str, list]:
    """The values a list's own select filters offer: the ones its rows hold."""
    out = {}
    for column in spec["filters"]:
        if column in ("stage", "point_person", "q"):
            continue
        values = set()
        for row in rows:
            value = row.get(column)
            values.update(value if isinstance(value, (list, tuple)) else (value,))
        out[column] = sorted(str(v) for v in values if v not in (None, ""))
    return out

