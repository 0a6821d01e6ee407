"""Pages for practice managers."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, render_template, request

from ..db import translate_errors
from ..vocabulary import REFERRER_KINDS
from . import graph_of

bp = Blueprint("views", __name__)

ORDERS = ("referrals", "last_referral", "name")


@bp.get("/")
def referrers():
    """Referrers with their current point person and counts, filterable and paged."""
    kind = request.args.get("kind") or None
    if kind is not None and kind not in REFERRER_KINDS:
        abort(400, f"kind must be one of {', '.join(REFERRER_KINDS)}")
    search = (request.args.get("q") or "").strip() or None
    order = request.args.get("order", "referrals")
    if order not in ORDERS:
        abort(400, f"order must be one of {', '.join(ORDERS)}")
    page = request.args.get("page", "1")
    if not page.isdigit() or int(page) < 1:
        abort(400, "page must be a whole number from 1")
    page = int(page)
    size = current_app.config["PAGE_SIZE"]
    graph = graph_of(current_app)
    totals = graph.read("practice_totals", kind=kind, search=search)[0]
    rows = graph.read("referrer_overview", kind=kind, search=search, order=order,
                      skip=(page - 1) * size, limit=size)
    pages = max(1, -(-totals["matching"] // size))
    return render_template("referrers.html", rows=rows, totals=totals, kind=kind, search=search or "",
                           order=order, page=page, pages=pages, kinds=REFERRER_KINDS, orders=ORDERS)


@bp.get("/healthz")
def healthz():
    graph = graph_of(current_app)
    with translate_errors(graph.settings):
        graph.driver.verify_connectivity()
    return jsonify(status="ok", neo4j=graph.settings.uri, database=graph.database)
