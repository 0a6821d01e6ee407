"""The practice's vocabularies (``graphsvc.vocabularies``): ``/settings/vocabularies`` and its API.

Every signed-in role reads them (the forms offer their words); a manager
adds a word (``manage_vocabularies``), from the page or with
``POST /api/vocabularies/<name> {"value": ...}``, through the service, which
audits it as ``vocabulary add``. A word is never removed here: records use
it, and the built-in ones are graphsvc's own.
"""

from __future__ import annotations

import re

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from ..errors import InvalidInput, NotFound
from ..limits import SLUG_MAX, shown
from ..permissions import can
from ..vocabularies import BUILT_IN, NAMES, TITLES
from . import auth, extensions
from .api import QUERY, json_body
from .api import bp as api

bp = Blueprint("vocabularies", __name__)

# Its API endpoints take no query parameter (the API refuses one it does not know).
QUERY["api_values"] = ()
QUERY["api_add"] = ()


def as_word(typed: str) -> str:
    """What a person typed as a stored word: trimmed, lowercase, spaces and dashes as ``_``.

    >>> as_word("  Eating disorders "), as_word("Self-pay"), as_word("TMS")
    ('eating_disorders', 'self_pay', 'tms')
    """
    return re.sub(r"[\s\-]+", "_", typed.strip()).lower()


def _known(name: str) -> str:
    if name not in NAMES:
        abort(404, f"No vocabulary {shown(name)}; the vocabularies are {', '.join(NAMES)}")
    return name


def _lists() -> list[dict]:
    words = extensions.service().words()
    return [{"name": n, "title": TITLES[n][0], "about": TITLES[n][1], "values": words.values(n),
             "built_in": set(BUILT_IN[n])} for n in NAMES]


@bp.get("/settings/vocabularies")
def index():
    """Every vocabulary and its words; a manager's form to add one to each."""
    return render_template("vocabularies.html", lists=_lists(), may_add=can(current_user, "manage_vocabularies"),
                           errors={}, typed={})


@bp.post("/settings/vocabularies/<name>")
def add(name):
    """Add the typed word to vocabulary ``name`` (a manager); back to the page, the word confirmed."""
    auth.require("manage_vocabularies")
    _known(name)
    typed = request.form.get("value", "")
    try:
        done = extensions.service().add_word(name, {"value": as_word(typed)[:SLUG_MAX + 1]},
                                             by=extensions.actor())
    except InvalidInput:
        message = ("Type a word of letters and digits (spaces become _), for example eating disorders."
                   if typed.strip() else "Type the word to add.")
        return render_template("vocabularies.html", lists=_lists(), may_add=True, errors={name: message},
                               typed={name: typed}), 422
    title = TITLES[name][0].lower()
    flash(f"Added {done['value']} to {title}." if done["added"] else f"{done['value']} was already on {title}.")
    return redirect(url_for("vocabularies.index", _anchor=f"v-{name}"), code=303)


@api.get("/vocabularies/<vocabulary>")
def api_values(vocabulary):
    """The words of one vocabulary: ``{"values": [...]}``."""
    if vocabulary not in NAMES:
        raise NotFound(f"unknown vocabulary {shown(vocabulary)}; the vocabularies are {', '.join(NAMES)}")
    return jsonify(values=extensions.service().words().values(vocabulary))


@api.post("/vocabularies/<vocabulary>")
@auth.token_required
def api_add(vocabulary):
    """Add a word to one vocabulary (a manager): 201 with ``vocabulary``, ``value``, ``added`` and ``values``
    (200 when it was there already)."""
    auth.require("manage_vocabularies")
    body = json_body()
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object with the field value")
    done = extensions.service().add_word(vocabulary, body, by=extensions.actor())
    return jsonify(done), 201 if done["added"] else 200
