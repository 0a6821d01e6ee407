"""The worklists as JSON: ``GET /api/worklists/<name>`` and ``POST /api/worklists/<name>/<row id>``.

``GET`` takes the list page's parameters (``graphsvc.web.worklists``: ``q``,
the list's filters, ``sort``, ``desc``, ``show``) and ``page`` /
``page_size`` (default every matching row, at most ``PAGE_SIZE_MAX`` a
page); it answers ``{"worklist", "rows", "total", "page", "page_size"}``,
``total`` counting every row that passes the filters. Each row has the
list's columns (``WORKLISTS[name]["columns"]``), ``id`` first.

``POST`` acts on one row (``inputs.RowAction``): ``{"action": "assign", "to":
MEMBER_ID}``, ``{"action": "snooze", "until": DATE}``, ``{"action": "done",
"note": TEXT}`` or ``{"action": "reopen"}``. It takes the API token only,
like every API write; a manager may act on any row, a clinician on the rows
of referrers it is the point person of (``work_on_rows``, a 403 otherwise).
It answers 200 with the row as it now stands (``"status": "done"`` once
done), a 404 for a row that is not on the list (never was, or its reason
went), and a 400 naming each bad field.
"""

from __future__ import annotations

from flask import jsonify, request

from ..analysis.worklists import WORKLISTS, filter_sort_page, row_with_task
from ..errors import InvalidInput, NotFound
from ..inputs import RowAction
from ..limits import ID_RE, shown
from . import auth, extensions
from .api import QUERY, bp, insights
from .api_writes import _body, _may
from .worklists import list_request

PAGE_SIZE_MAX = 10_000
PAGE_MAX = 10**6

# Every list's filters: the view checks which belong to the list asked for.
FILTERS = tuple(dict.fromkeys(f for spec in WORKLISTS.values() for f in ("q",) + spec["filters"]))
QUERY["worklist_rows"] = FILTERS + ("sort", "desc", "show", "page", "page_size", "refresh")
QUERY["act_on_row"] = ()


def _list(name: str) -> dict:
    spec = WORKLISTS.get(name)
    if spec is None:
        raise NotFound(f"unknown worklist {shown(name)}; the worklists are {', '.join(WORKLISTS)}")
    return spec


def _whole(name: str, text: str | None, default: int | None, high: int) -> int | None:
    if text is None:
        return default
    digits = text.lstrip("0") or "0"  # leading zeros, as the document's pattern allows
    if not (text.isascii() and text.isdigit()) or len(digits) > len(str(high)) or not 1 <= int(digits) <= high:
        raise InvalidInput(f"query parameter {name!r}: must be a whole number from 1 to {high:,} "
                           f"(got {shown(text)})")
    return int(digits)


@bp.get("/worklists/<name>")
def worklist_rows(name):
    """One worklist's rows, filtered, sorted and paged as on its page."""
    spec = _list(name)
    args = request.args.to_dict()
    args.pop("refresh", None)
    foreign = [k for k in args if k in FILTERS and k not in ("q",) + spec["filters"]]
    if foreign:
        raise InvalidInput([f"query parameter {shown(k)}: is not a filter of the {name} worklist (it takes "
                            f"{', '.join(('q',) + spec['filters'])})" for k in foreign])
    asked = list_request(name, args)
    page = _whole("page", args.get("page"), 1, PAGE_MAX)
    rows = insights().worklist(name, asked["show"])
    size = _whole("page_size", args.get("page_size"), None, PAGE_SIZE_MAX)
    size = size or max(1, min(len(rows), PAGE_SIZE_MAX))
    shown_rows, total = filter_sort_page(rows, name, filters=asked["filters"], sort=asked["sort"],
                                         descending=asked["desc"], page=page, page_size=size)
    return jsonify(worklist=name, rows=shown_rows, total=total, page=page, page_size=size)


@bp.post("/worklists/<name>/<row_id>")
@auth.token_required
def act_on_row(name, row_id):
    """Assign, snooze, mark done or reopen one row of a worklist."""
    _list(name)
    _may("work_on_rows")
    if not ID_RE.fullmatch(row_id):
        raise NotFound(f"no row {shown(row_id)} on the {name} worklist")
    ask = _body(RowAction)
    with extensions.reading() as analysis:
        row = analysis.worklist_row(name, row_id)
        names = analysis.member_names()
    task = extensions.service().act_on_row(name, row, ask, by=extensions.actor())
    # The row as it now stands: the analysis' row with the task just written (the same as the list will
    # show once this process's analysis has the write, which the service has already asked for).
    return jsonify(row_with_task(row, task, names=names, today=extensions.service().options.day())), 200
