"""Pages for practice managers."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, render_template, request

from ..store.db import translate_errors
from ..errors import NotFound
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
    histories = current_app.extensions["insights"].get().histories
    for row in rows:
        row["stage"] = histories[row["id"]]["stage"] if row["id"] in histories else None
    return render_template("referrers.html", rows=rows, stage_names=STAGE_NAMES, totals=totals, kind=kind, search=search or "",
                           order=order, page=page, pages=pages, kinds=REFERRER_KINDS, orders=ORDERS)


STAGE_NAMES = {0: "new", 1: "point person", 2: "trying colleagues", 3: "whole practice"}


@bp.get("/referrers/<referrer_id>")
def referrer(referrer_id):
    """One referrer: stage, how it grew, metrics, and whom to introduce next."""
    insights = current_app.extensions["insights"].get()
    try:
        info = insights.referrer(referrer_id)
    except NotFound:
        abort(404, f"No referrer {referrer_id!r}")
    names = {m: a["name"] for m, a in insights.index.members.items()}
    return render_template("referrer.html", r=info, m=info["metrics"], names=names,
                           suggestions=insights.suggestions(referrer_id, limit=5),
                           stage_names=STAGE_NAMES, pct=_pct)


@bp.get("/practice")
def practice():
    """Stage distribution now and by month, and how much each member shares."""
    insights = current_app.extensions["insights"].get()
    summary = insights.summary()
    names = {m: a["name"] for m, a in insights.index.members.items()}
    clinicians = sorted(((m, {**c, **insights.bridges.get(m, {})}) for m, c in insights.sharing.items()),
                        key=lambda mc: (-mc[1]["introductions_made"], -mc[1]["passes_made"], mc[0]))
    return render_template("practice.html", s=summary, monthly=summary["monthly"][-24:][::-1],
                           clinicians=clinicians, names=names, stage_names=STAGE_NAMES, pct=_pct)


def _pct(x) -> str:
    return "—" if x is None else f"{x:.0%}"


@bp.get("/healthz")
def healthz():
    graph = graph_of(current_app)
    with translate_errors(graph.settings):
        graph.driver.verify_connectivity()
    return jsonify(status="ok", neo4j=graph.settings.uri, database=graph.database)
