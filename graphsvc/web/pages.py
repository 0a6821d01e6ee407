"""What the HTML pages share: error pages, checking query parameters, wording counts."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from flask import abort, render_template, request
from werkzeug.exceptions import HTTPException

from ..limits import SHOWN, shown
from ..presentation import count_of


def error_page(error: HTTPException, detail: str | None = None):
    """An HTTP error as a page in the site's layout; ``detail``, if any, folded away under it.

    ``create_app``'s error handlers call it for every path but the JSON
    API's and ``/healthz``.
    """
    return render_template("error.html", error=error, detail=detail), error.code


def only_parameters(known: Iterable[str] = ()) -> dict[str, str]:
    """The query parameters, each given at most once, all in ``known``; else a 400 naming it."""
    known = tuple(known)
    for name in request.args:
        named = name if len(name) <= SHOWN else name[:SHOWN] + "…"  # never echo more of what was sent
        if name not in known:
            takes = f"the parameters are {', '.join(known)}" if known else "this page takes no parameters"
            abort(400, f"{named} is not a parameter of this page; {takes}")
        if len(request.args.getlist(name)) > 1:
            abort(400, f"{named} must be given once, got {len(request.args.getlist(name))} values")
    return {name: request.args[name].strip() for name in request.args}


# The largest page number the paged pages take (a 400 past it): far past any practice's last page.
PAGE_MAX = 10**6


def page_number(text: str | None) -> int:
    """The ``page`` parameter: 1 when absent, else a whole number from 1 to ``PAGE_MAX`` in ASCII
    digits ('²' passes ``str.isdigit``); a 400 page saying so otherwise."""
    text = text or "1"
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(PAGE_MAX)) or not 1 <= int(text) <= PAGE_MAX:
        abort(400, f"page must be a whole number from 1 to {PAGE_MAX}; got {shown(text)}")
    return int(text)


def noun_for(n: int, noun: str) -> str:
    """The noun as ``count_of(n, noun)`` words it, without the number: for "<b>1</b> member reached".

    >>> noun_for(1, "member"), noun_for(2, "member"), noun_for(16, "other"), noun_for(1, "staff")
    ('member', 'members', 'other referrers', 'staff')
    """
    return count_of(n, noun).split(" ", 1)[1]


def local_target(target: str | None, fallback: str) -> str:
    """``target`` if it is a path of this site (never another site's address), else ``fallback``: where
    a form sends the user back to (``next``).

    >>> local_target("/today?x=1", "/"), local_target("//evil.example/", "/"), local_target("/\\\\evil", "/")
    ('/today?x=1', '/', '/')
    """
    if not target:
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return fallback
    return target
