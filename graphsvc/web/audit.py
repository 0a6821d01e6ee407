"""The audit log's page, for managers: ``/audit``.

Newest first, paged (``PAGE_SIZE`` entries), filtered by ``user`` (exactly
as recorded: a username, or ``cli:<login>`` for the command line),
``action`` (exactly, or a prefix ending in ``*``: ``write *``) and ``since``
(``YYYY-MM-DD``, UTC); ``format=csv`` downloads every matching entry (itself
recorded). The same log as ``graphsvc audit``.
"""

from __future__ import annotations

import json
from datetime import date

from flask import Blueprint, abort, current_app, render_template, url_for

from . import auth
from .downloads import csv_download
from .pages import only_parameters, page_number

bp = Blueprint("audit", __name__)

CSV_COLUMNS = ("id", "at", "user", "address", "action", "ids", "detail")


@bp.get("/audit")
def index():
    """The audit log (manager only)."""
    auth.require("view_audit")
    args = only_parameters(("user", "action", "since", "page", "format"))
    since = None
    if args.get("since"):
        try:
            since = date.fromisoformat(args["since"])
        except ValueError:
            abort(400, "since must be a date as YYYY-MM-DD, e.g. 2026-11-01")
    user = args.get("user") or None
    action = args.get("action") or None
    log = auth.accounts()
    filters = {"user": user, "action": action, "since": since.isoformat() if since else None}
    if args.get("format"):
        if args["format"] != "csv":
            abort(400, "format must be csv (or left out for the page)")
        entries = log.entries(since=since, user=user, action=action)
        rows = ({**e, "at": e["at"].isoformat(timespec="seconds"),
                 "detail": json.dumps(e["detail"], sort_keys=True) if e["detail"] is not None else None}
                for e in entries)
        return csv_download("audit.csv", CSV_COLUMNS, rows, filters=filters)
    page = page_number(args.get("page"))
    size = current_app.config["PAGE_SIZE"]
    total = log.count_entries(since=since, user=user, action=action)
    entries = log.entries(since=since, user=user, action=action, limit=size, offset=(page - 1) * size)
    pages = max(1, -(-total // size))

    def page_url(n: int) -> str:
        return url_for("audit.index", **{k: v for k, v in filters.items() if v}, page=n)

    return render_template("audit.html", entries=entries, total=total, page=page, pages=pages,
                           filters=filters, actions=log.audit_actions(), page_url=page_url,
                           csv_url=url_for("audit.index", **{k: v for k, v in filters.items() if v}, format="csv"),
                           detail_text=_detail_text)



def _detail_text(detail) -> str:
    if detail is None:
        return ""
    return json.dumps(detail, sort_keys=True, ensure_ascii=False)
