"""The referrers: the list (``/referrers``), filterable and paged, and one referrer's page.

Query parameters of ``/referrers`` (each optional; an empty value means "any"):

``q``
    part of the referrer's name, its organization or its current point
    person's name (any case), or its exact id;
``kind``
    a referrer kind (``physician``, ``pediatrician``, ...);
``stage``
    0, 1, 2 or 3, the stage the analysis puts it in now;
``stalled``, ``lapsed``
    ``1`` (also ``true``, ``yes``): only stalled (lapsed) referrers;
    ``0`` (``false``, ``no``): only the others;
``point_person``
    a clinician id: referrers whose current point person it is;
``order``
    ``referrals`` (most first, the default), ``last_referral`` (latest
    first) or ``name``;
``page``
    1, 2, ... up to ``PAGE_MAX``;
``format``
    ``csv``: every matching referrer (not just the page), in the list's
    order, as a CSV download (``CSV_COLUMNS``), recorded in the audit log

Any other parameter, a parameter given twice or a value outside these is a
400 page naming the parameter and what it accepts. A page past the last one
(page 1 when nothing matches) is a 404 page saying so once, with a link to
the last page. ``/referrers/<id>`` takes no parameters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for

from ..errors import NotFound
from ..limits import shown
from ..presentation import STAGE_NAMES, trend_words, words  # trend_words lives in presentation now
from ..vocabulary import REFERRER_KINDS
from . import extensions
from .downloads import csv_download
from .pages import only_parameters

bp = Blueprint("referrers", __name__)

PARAMETERS = ("q", "kind", "stage", "stalled", "lapsed", "point_person", "order", "page", "format")
# The columns of ``format=csv``: a row of ``Insights.referrer_rows`` each.
CSV_COLUMNS = ("id", "name", "kind", "organization", "point_person_id", "point_person", "stage", "referrals",
               "last_referral", "introductions", "contacts", "stalled", "lapsed")
ORDERS = ("referrals", "last_referral", "name")
YES = ("1", "true", "yes")
NO = ("0", "false", "no")
# The largest page number taken (a 400 past it): far past any practice's last
# page, and small enough that skip stays a 64-bit integer for Neo4j.
PAGE_MAX = 10**9


@dataclass(frozen=True)
class Filters:
    """The overview's filters, as given in the query string (``None``: any)."""

    search: str | None = None
    kind: str | None = None
    stage: int | None = None
    stalled: bool | None = None
    lapsed: bool | None = None
    point_person: str | None = None
    order: str = "referrals"

    @property
    def narrowed(self) -> bool:
        """Whether any filter (not just the order) is set."""
        return any(v is not None for v in (self.search, self.kind, self.stage, self.stalled,
                                           self.lapsed, self.point_person))

    def args(self) -> dict:
        """The query-string parameters that give these filters (for links)."""
        out = {"q": self.search, "kind": self.kind, "stage": self.stage,
               "stalled": None if self.stalled is None else int(self.stalled),
               "lapsed": None if self.lapsed is None else int(self.lapsed),
               "point_person": self.point_person,
               "order": None if self.order == "referrals" else self.order}
        return {k: v for k, v in out.items() if v is not None}

    def keeps(self, row: dict) -> bool:
        """Whether a row of ``Insights.referrer_rows`` passes these filters.

        ``q`` is part of the name, the organization or the current point person's name (any
        case), or the exact id.
        """
        if self.kind is not None and row["kind"] != self.kind:
            return False
        if self.stage is not None and row["stage"] != self.stage:
            return False
        if self.stalled is not None and bool(row["stalled"]) != self.stalled:
            return False
        if self.lapsed is not None and bool(row["lapsed"]) != self.lapsed:
            return False
        if self.point_person is not None and row["point_person_id"] != self.point_person:
            return False
        if self.search is not None:
            wanted = self.search.lower()
            if not (wanted in row["name"].lower() or wanted in row["organization"].lower()
                    or wanted in (row["point_person"] or "").lower() or row["id"] == self.search):
                return False
        return True


def parse_filters(args: dict[str, str], clinicians: dict[str, str],
                  kinds: tuple[str, ...] | list[str] = REFERRER_KINDS) -> tuple[Filters, int]:
    """``Filters`` and the page from checked query parameters; a 400 naming a bad one.

    ``clinicians`` maps the clinician ids ``point_person`` accepts to their names; ``kinds`` are the
    referrer kinds ``kind`` accepts (the practice's vocabulary).
    """
    def bad(name: str, accepted: str):
        abort(400, f"{name} must be {accepted}; got {shown(args[name])}")

    kind = args.get("kind") or None
    if kind is not None and kind not in kinds:
        bad("kind", "one of " + ", ".join(k if words(k) == k else f"{k} ({words(k)})" for k in kinds))
    stage = args.get("stage") or None
    if stage is not None:
        if stage not in {str(s) for s in STAGE_NAMES}:
            bad("stage", "one of " + ", ".join(f"{s} ({n})" for s, n in STAGE_NAMES.items()))
        stage = int(stage)
    flags = {}
    for name in ("stalled", "lapsed"):
        raw = (args.get(name) or "").lower() or None
        if raw is not None and raw not in YES + NO:
            bad(name, f"1 (only {name} referrers) or 0 (only the others); also true/false, yes/no")
        flags[name] = None if raw is None else raw in YES
    point_person = args.get("point_person") or None
    if point_person is not None and point_person not in clinicians:
        listed = ", ".join(f"{c} ({n})" for c, n in clinicians.items()) or "none: there are no clinicians yet"
        bad("point_person", f"a clinician id: {listed}")
    order = args.get("order") or "referrals"
    if order not in ORDERS:
        bad("order", f"one of {', '.join(ORDERS)}")
    page = args.get("page") or "1"
    # ASCII digits only ('²' passes str.isdigit), and few enough for int() and Neo4j's skip.
    if not (page.isascii() and page.isdigit()) or len(page.lstrip("0")) > len(str(PAGE_MAX)) \
            or not 1 <= int(page) <= PAGE_MAX:
        bad("page", f"a whole number from 1 to {PAGE_MAX}")
    return Filters(search=args.get("q") or None, kind=kind, stage=stage, point_person=point_person,
                   order=order, **flags), int(page)


@bp.get("/referrers")
def index():
    """Referrers with their current point person, stage and counts; filterable and paged.

    Answered from the live analysis (``Insights.referrer_rows``): one row per
    referrer, filtered, sorted and paged in memory. Reading them from Neo4j
    with their counts took 2 s a page at 100,000 referrers.
    """
    args = only_parameters(PARAMETERS)
    insights = extensions.insights()
    clinicians = sorted(({"id": c["id"], "name": c["name"]} for c in insights.members("clinician")),
                        key=lambda c: (c["name"], c["id"]))
    kinds = extensions.service().words().values("referrer_kinds")  # a kind a manager added is filtered on too
    filters, page = parse_filters(args, {c["id"]: c["name"] for c in clinicians}, kinds)
    matching = [row for row in insights.referrer_rows if filters.keeps(row)]
    if args.get("format"):
        if args["format"] != "csv":
            abort(400, f"format must be csv (or left out for the page); got {shown(args['format'])}")
        return csv_download("referrers.csv", CSV_COLUMNS, sorted(matching, key=ORDER_KEYS[filters.order]),
                            filters=filters.args())
    size = current_app.config["PAGE_SIZE"]
    pages = max(1, -(-len(matching) // size))
    past_end = page > pages  # the last page is 1 when nothing matches
    rows = [] if past_end else sorted(matching, key=ORDER_KEYS[filters.order])[(page - 1) * size:page * size]
    totals = {**insights.totals, "matching": len(matching)}
    html = render_template("referrers/index.html", rows=rows, totals=totals, filters=filters, page=page,
                           pages=pages, past_end=past_end, kinds=kinds, orders=ORDERS,
                           clinicians=clinicians, csv_url=url_for("referrers.index", **filters.args(), format="csv"),
                           page_url=lambda n: url_for("referrers.index", **filters.args(),
                                                      **({"page": n} if n > 1 else {})))
    return html, 404 if past_end else 200


def _latest_first(row):
    # Neo4j's ORDER BY ... DESC, the list's order before: no referral (null) first, then the latest.
    last = row["last_referral"]
    return (last is not None, -last.toordinal() if last else 0, row["id"])


ORDER_KEYS = {
    "referrals": lambda row: (-row["referrals"], row["id"]),
    "last_referral": _latest_first,
    "name": lambda row: (row["name"].lower(), row["id"]),
}


@bp.get("/referrers/<referrer_id>")
def detail(referrer_id):
    """One referrer: stage, how it grew, metrics, and whom to introduce next (no query parameters)."""
    only_parameters()
    insights = extensions.insights()
    try:
        info = insights.referrer(referrer_id)
    except NotFound:
        went = extensions.service().merged_into(referrer_id)
        if went is not None:  # a record merged into another: its page is that one's now
            flash(f"Referrer {shown(referrer_id)} was merged into this record.")
            return redirect(url_for("referrers.detail", referrer_id=went))
        abort(404, f"No referrer {shown(referrer_id)}")
    names = insights.member_names()
    # Two groups, each in score order: whom to introduce now, and strong
    # colleagues to keep in mind once they take new clients again.
    accepting = insights.suggestions(referrer_id, limit=5, accepting=True)
    not_accepting = insights.suggestions(referrer_id, limit=3, accepting=False)
    events = insights.timeline(referrer_id)
    voided = extensions.service().voided_of(referrer_id)
    return render_template("referrers/detail.html", voided=voided, r=info, m=info["metrics"], names=names,
                           accepting=accepting, not_accepting=not_accepting,
                           trend=trend_words(info["metrics"]["trend"]),
                           events=events[:TIMELINE_SHOWN], event_count=len(events),
                           stage_chart=stage_chart(info, insights.options.day()),
                           ego=ego_network(info, insights.connections(referrer_id)),
                           weights=insights.weights_note(), day=insights.options.day())


# The referrer page's time line lists this many events, newest first (the rest are counted).
TIMELINE_SHOWN = 50


def stage_chart(info: dict, as_of) -> dict | None:
    """The referrer's stage over time as a stepped line: each change, held until ``as_of``."""
    history = info["history"]
    if not history:
        return None
    labels = [str(c["date"]) for c in history] + [str(as_of)]
    values = [c["stage"] for c in history] + [history[-1]["stage"]]
    return {"labels": labels, "series": [{"label": "stage", "values": values}], "max": 3}


def ego_network(info: dict, connections: list[dict]) -> dict:
    """The referrer and the members it is connected to (``Insights.connections``), in a circle around it.

    Nodes carry ``role``: ``referrer``, ``point_person`` (now), ``past_point_person``,
    ``tried`` (assigned a referral), ``introduced`` or ``contacted``; edges carry the
    referral, introduction and contact counts.
    """
    referrer_id = info["id"]
    nodes = [{"id": referrer_id, "label": info["name"], "role": "referrer", "x": 0.0, "y": 0.0}]
    edges = []
    for i, c in enumerate(connections):
        angle = 2 * math.pi * i / max(1, len(connections)) - math.pi / 2
        counts = {k: c[k] for k in ("referrals", "introductions", "contacts")}
        nodes.append({"id": c["member"], "label": c["name"], "role": c["role"],
                      "x": round(200 * math.cos(angle), 1), "y": round(200 * math.sin(angle), 1)})
        edges.append({"id": f"{referrer_id}->{c['member']}", "source": referrer_id, "target": c["member"], **counts,
                      "weight": c["referrals"] + c["introductions"]})
    return {"nodes": nodes, "edges": edges}
