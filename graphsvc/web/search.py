"""Finding things: the search box in the header of every signed-in page.

``GET /api/search?q=`` answers ``{"results": [{"kind", "id", "label", "url"}, ...]}``
as one types (``static/js/search.js`` asks it); ``/search?q=`` is the same
search as a page, where the header's form goes without JavaScript.

It looks in the live analysis (``Insights.searchable``), with no query: the
referrers by name, organization or id; the clinicians, the staff and the
outside providers by name or id. ``kind`` is ``referrer``, ``clinician``,
``staff`` or ``provider``; ``label`` its name; ``url`` its page (a referrer's
or a member's own; an outside provider's row on ``/coverage``, which has no
page of its own).

The text matches in any case and inside words ("ale" finds "Dr. Hale").
Results are ranked: the exact id first, then names (or ids) that begin with
the text, then names or organizations with a word that does, then the rest
that hold it; within each, by name. At most ``RESULTS`` come back. A text
left out, empty or all blank finds nothing (an empty list); one longer than
``Q_MAX`` characters is a 400 naming ``q``. Every role may search: every role
reads every page it leads to.
"""

from __future__ import annotations

import heapq
import re

from flask import Blueprint, abort, jsonify, render_template, request, url_for

from ..errors import InvalidInput
from ..limits import TEXT_MAX, shown
from . import extensions
from .api import QUERY
from .api import bp as api_bp
from .pages import only_parameters

bp = Blueprint("search", __name__)

QUERY["api_search"] = ("q",)

KINDS = ("referrer", "clinician", "staff", "provider")
KIND_WORDS = {"referrer": "referrer", "clinician": "clinician", "staff": "staff", "provider": "outside provider"}
# At most this many results an answer holds.
RESULTS = 20
# The longest text searched for: no name or organization is longer (``limits.TEXT_MAX``).
Q_MAX = TEXT_MAX
_KIND_ORDER = {k: i for i, k in enumerate(KINDS)}


def too_long(q: str) -> str | None:
    """What is wrong with ``q`` (longer than ``Q_MAX``), or None."""
    if len(q) > Q_MAX:
        return f"must be at most {Q_MAX} characters (got {len(q)}: {shown(q)})"
    return None


def find(insights, q: str, limit: int = RESULTS) -> list[dict]:
    """The best ``limit`` matches of ``q`` (stripped; blank finds nothing), ranked (module docstring):
    ``{"kind", "id", "label", "organization", "rank"}`` each, rank 0 (exact id) to 3 (holds it)."""
    wanted = q.strip().casefold()
    if not wanted:
        return []
    word_start = re.compile(r"(?<!\w)" + re.escape(wanted))
    found = []
    for kind, id_, name, org, fid, fname, forg in insights.searchable:
        if wanted not in fid and wanted not in fname and wanted not in forg:
            continue
        if fid == wanted:
            rank = 0
        elif fname.startswith(wanted) or fid.startswith(wanted):
            rank = 1
        elif word_start.search(fname) or word_start.search(forg):
            rank = 2
        else:
            rank = 3
        found.append((rank, fname, _KIND_ORDER[kind], id_, kind, name, org))
    return [{"kind": kind, "id": id_, "label": name, "organization": org, "rank": rank}
            for rank, _, _, id_, kind, name, org in heapq.nsmallest(limit, found)]


def url_of(kind: str, id_: str) -> str:
    """The page of a result."""
    if kind == "referrer":
        return url_for("referrers.detail", referrer_id=id_)
    if kind == "provider":
        return url_for("views.coverage", _anchor=f"provider-{id_}")
    return url_for("clinicians.detail", clinician_id=id_)


@api_bp.get("/search")
def api_search():
    """Referrers, clinicians, staff and outside providers whose name (a referrer's organization too) or id
    holds ``q``, best first."""
    q = request.args.get("q", "")
    problem = too_long(q)
    if problem:
        raise InvalidInput([f"query parameter 'q': {problem}"])
    results = find(extensions.insights(), q)
    return jsonify(results=[{"kind": r["kind"], "id": r["id"], "label": r["label"],
                             "url": url_of(r["kind"], r["id"])} for r in results])


@bp.get("/search")
def page():
    """The search as a page (the header's form without JavaScript): the best ``RESULTS`` matches."""
    args = only_parameters(("q",))
    q = args.get("q", "")
    problem = too_long(q)
    if problem:
        abort(400, f"q {problem}")
    results = find(extensions.insights(), q, RESULTS + 1) if q else []
    more = len(results) > RESULTS
    results = [{**r, "url": url_of(r["kind"], r["id"])} for r in results[:RESULTS]]
    return render_template("search.html", q=q, results=results, more=more, limit=RESULTS, q_max=Q_MAX,
                           kind_words=KIND_WORDS)
