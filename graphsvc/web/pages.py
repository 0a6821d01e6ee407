"""What the HTML blueprints share: error pages and checking query parameters."""

from __future__ import annotations

from collections.abc import Iterable

from flask import Blueprint, abort, render_template, request
from werkzeug.exceptions import HTTPException


def error_page(error: HTTPException):
    """An HTTP error as a page (the JSON API and /healthz answer in JSON)."""
    return render_template("error.html", error=error), error.code


def html_errors(bp: Blueprint) -> Blueprint:
    """Render the errors of ``bp``'s views (e.g. a 400 for a bad parameter) as pages."""
    bp.register_error_handler(HTTPException, error_page)
    return bp


def only_parameters(known: Iterable[str]) -> dict[str, str]:
    """The query parameters, each given at most once, all in ``known``; else a 400 naming it."""
    known = tuple(known)
    for name in request.args:
        if name not in known:
            abort(400, f"{name} is not a parameter of this page; the parameters are {', '.join(known)}")
        if len(request.args.getlist(name)) > 1:
            abort(400, f"{name} must be given once, got {len(request.args.getlist(name))} values")
    return {name: request.args[name].strip() for name in request.args}
