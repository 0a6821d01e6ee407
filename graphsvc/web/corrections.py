"""Corrections that keep history, from the referrer's page: a manager voids a mistaken record with a reason,
and restores it (``Service.void_record``, ``restore_record``; the API's are ``web.api_writes``).

``POST /records/<kind>/<record_id>/void`` (``reason``) and ``.../restore``, with the form's CSRF token;
``kind`` is ``referral``, ``introduction``, ``contact`` or ``referral_out``. Either goes back to the
referrer's page (``referrer``, checked to be a page of this site), saying what was done or why not.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for

from ..errors import InvalidInput, NotFound
from ..presentation import words
from ..service import VOIDABLE
from . import auth, extensions

bp = Blueprint("corrections", __name__)


def _back(referrer_id: str):
    return redirect(url_for("referrers.detail", referrer_id=referrer_id), code=303)


@bp.post("/records/<kind>/<record_id>/void")
def void(kind, record_id):
    """Void the record with the reason typed; back to its referrer's page."""
    auth.require("void_records")
    if kind not in VOIDABLE:
        abort(404, f"A {words(kind)} is not voided here.")
    referrer_id = request.form.get("referrer", "")
    try:
        done = extensions.service().void_record(kind, record_id, {"reason": request.form.get("reason", "").strip()},
                                                by=extensions.actor())
    except InvalidInput:
        flash(f"Not voided: say why the {words(kind)} is voided.")
        return _back(referrer_id) if referrer_id else abort(400, "Say why the record is voided.")
    except NotFound as e:
        abort(404, str(e))
    flash(f"Voided the {words(kind)} ({done['void_reason']}). It is out of the analysis and the lists; "
          "restore it below if it was right after all.")
    return _back(done["referrer_id"])


@bp.post("/records/<kind>/<record_id>/restore")
def restore(kind, record_id):
    """Restore the voided record; back to its referrer's page."""
    auth.require("void_records")
    if kind not in VOIDABLE:
        abort(404, f"A {words(kind)} is not voided here.")
    try:
        done = extensions.service().restore_record(kind, record_id, by=extensions.actor())
    except InvalidInput as e:
        flash(f"Not restored: {e}")
        referrer_id = request.form.get("referrer", "")
        return _back(referrer_id) if referrer_id else abort(400, str(e))
    except NotFound as e:
        abort(404, str(e))
    flash(f"Restored the {words(kind)}: it counts again.")
    return _back(done["referrer_id"])
