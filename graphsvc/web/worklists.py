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
``format``
    ``csv``: every matching row (not just the page) as a CSV download, recorded
    in the audit log.

Anything else, or a bad value, is a 400 page naming it.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, url_for

from ..analysis.worklists import WORKLISTS, filter_sort_page
from ..limits import shown
from ..presentation import STAGE_NAMES
from . import extensions
from .downloads import csv_download
from .pages import only_parameters, page_number

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
    "why": "Why", "next_step": "Next step",
}
# Shown on the page (ids go into links and the CSV instead of their own columns).
HIDDEN_ON_PAGE = {"referrer", "point_person", "coordinator", "clinician", "depends_on", "organization",
                  "first_referral"}
NUMERIC = {"referrals", "days_since_first", "days_in_stage", "colleagues_tried", "days_since_last",
           "last_12_months", "previous_12_months", "change", "days_overdue", "referrals_last_12_months"}


def counts() -> dict[str, int]:
    """How many rows each worklist has now (for the dashboard and the index)."""
    lists = extensions.insights().worklists
    return {name: len(lists[name]) for name in WORKLISTS}


@bp.get("/worklists")
def index():
    """The six worklists, with how many rows each has now."""
    only_parameters()
    return render_template("worklists/index.html", worklists=WORKLISTS, counts=counts())


@bp.get("/worklists/<name>")
def worklist(name):
    """One worklist: filtered, sorted, paged; ``format=csv`` downloads every matching row."""
    spec = WORKLISTS.get(name)
    if spec is None:
        abort(404, f"No worklist {shown(name)}; the worklists are {', '.join(WORKLISTS)}")
    filter_names = ("q",) + spec["filters"]
    args = only_parameters(filter_names + ("sort", "desc", "page", "format"))
    filters = {k: args[k] for k in filter_names if args.get(k)}
    if "stage" in filters and filters["stage"] not in {str(s) for s in STAGE_NAMES}:
        abort(400, f"stage must be one of {', '.join(str(s) for s in STAGE_NAMES)}; got {shown(filters['stage'])}")
    sort = args.get("sort") or None
    if sort is not None and sort not in spec["sorts"]:
        abort(400, f"sort must be one of {', '.join(spec['sorts'])}; got {shown(sort)}")
    desc = args.get("desc", "")
    if desc not in ("", "0", "1"):
        abort(400, f"desc must be 1 (reverse order) or 0; got {shown(desc)}")
    page = page_number(args.get("page"))
    rows = extensions.insights().worklists[name]
    if args.get("format"):
        if args["format"] != "csv":
            abort(400, f"format must be csv (or left out for the page); got {shown(args['format'])}")
        everything, _ = filter_sort_page(rows, name, filters=filters, sort=sort, descending=desc == "1",
                                         page=1, page_size=max(1, len(rows)))
        return csv_download(f"worklist-{name}.csv", spec["columns"], everything,
                            filters={**filters, "sort": sort, "desc": desc or None, "worklist": name})
    size = current_app.config["PAGE_SIZE"]
    shown_rows, total = filter_sort_page(rows, name, filters=filters, sort=sort, descending=desc == "1",
                                         page=page, page_size=size)
    pages = max(1, -(-total // size))
    kept = {**filters, **({"sort": sort} if sort else {}), **({"desc": "1"} if desc == "1" else {})}

    def page_url(n: int) -> str:
        return url_for("worklists.worklist", name=name, **kept, **({"page": n} if n > 1 else {}))

    def sort_url(column: str) -> str:
        flip = sort == column and desc != "1"
        return url_for("worklists.worklist", name=name, **filters, sort=column, **({"desc": "1"} if flip else {}))

    columns = [c for c in spec["columns"] if c not in HIDDEN_ON_PAGE]
    insights = extensions.insights()
    clinicians = [(c["id"], c["name"]) for c in insights.members("clinician")]
    html = render_template("worklists/list.html", name=name, spec=spec, rows=shown_rows, total=total,
                           all_rows=len(rows), page=page, pages=pages, columns=columns, labels=LABELS,
                           numeric=NUMERIC, filters=filters, sort=sort, desc=desc == "1", page_url=page_url,
                           sort_url=sort_url, clinicians=clinicians, worklists=WORKLISTS,
                           names=insights.member_names(), choices=_choices(rows, spec),
                           follow_up=insights.follow_up_figures if name == "follow-up" else None,
                           csv_url=url_for("worklists.worklist", name=name, **kept, format="csv"))
    return html, 404 if page > pages else 200


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

