"""Closing the loop with referrers: where each referral stands, and the update a referrer is sent.

Pages (forms that need no JavaScript):

``/referrals/<id>/status``
    GET: the referral's statuses so far and a form for the next one (``status``,
    ``date``); POST: record it (``Service.record_status``), then back to
    ``next`` (the referrer's page, a worklist) with a confirmation, or the form
    again with the reason (400). Who: ``record_status`` (a manager, intake, the
    clinician the referral is assigned to).
``/referrers/<id>/update``
    The referrer's update, printable (``?format=pdf`` for a PDF): its referrals
    of the last ``rules.UPDATE_DAYS`` days whose client agreed to it, each with
    its date, clinician and status, and nothing else about the client. Its
    "Send" button (POST, ``send_update``) records a contact of kind
    ``update_sent`` covering those referrals, which closes their follow-up rows.

The same as JSON (``api.bp``): ``POST /api/referrals/<id>/status`` (201),
``GET /api/referrers/<id>/update`` and ``POST /api/referrers/<id>/update``
(201, the contact recorded, ``covers`` included); the writes take the API
token only, like every API write.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from ..errors import InvalidInput, NotFound
from ..inputs import StatusInput, parse
from ..limits import ID_RE, shown
from ..permissions import can
from ..rules import UPDATE_DAYS
from ..vocabulary import RECORDED_STATUSES
from . import auth, extensions
from .api import QUERY
from .api import bp as api_bp
from .api_writes import _body, _may
from .pages import local_target, only_parameters
from .record import referral_of

bp = Blueprint("updates", __name__)

QUERY.update({"record_status_api": (), "update_api": ("refresh",), "send_update_api": ()})


def _known(some_id: str, what: str) -> str:
    if not ID_RE.fullmatch(some_id):
        abort(404, f"No {what} {shown(some_id)}")
    return some_id


@bp.route("/referrals/<referral_id>/status", methods=["GET", "POST"])
def status(referral_id):
    """Where a referral stands, and a form for its next status."""
    _known(referral_id, "referral")
    if request.method == "GET":
        only_parameters(("next",))
        insights = extensions.insights()
        found = referral_of(insights, referral_id)
        auth.require("record_status", assigned_to=found["assigned_to"])
        return _status_page(insights, found, {}, [], 200)
    with extensions.reading() as insights:
        found = referral_of(insights, referral_id)
    auth.require("record_status", assigned_to=found["assigned_to"])
    typed = {k: request.form.get(k, "").strip() for k in ("status", "date")}
    back = local_target(request.form.get("next"), url_for("referrers.detail", referrer_id=found["referrer_id"]))
    try:
        row = extensions.service().record_status(referral_id, parse(StatusInput, {k: v for k, v in typed.items()
                                                                                  if v}),
                                                 by=extensions.actor())
    except InvalidInput as e:
        with extensions.reading() as insights:
            return _status_page(insights, found, typed, e.problems, 400, back=back)
    flash(f"Recorded: the referral of {found['date']} is {row['status'].replace('_', ' ')} (since {row['date']}).")
    return redirect(back, code=303)


def _status_page(insights, found, typed, problems, code, back=None):
    referrer = insights.referrer_fields(found["referrer_id"])
    return render_template("updates/status.html", referral=found, referrer=referrer, typed=typed, problems=problems,
                           statuses=RECORDED_STATUSES, names=insights.member_names(),
                           day=insights.options.day(),
                           back=back or request.args.get("next") or url_for("referrers.detail",
                                                                            referrer_id=found["referrer_id"])), code


@bp.route("/referrers/<referrer_id>/update", methods=["GET", "POST"])
def update(referrer_id):
    """The referrer's update: printable, as a PDF, and sent with one button."""
    _known(referrer_id, "referrer")
    if request.method == "POST":
        with extensions.reading() as insights:
            try:
                fields = insights.referrer_fields(referrer_id)
            except NotFound:
                abort(404, f"No referrer {shown(referrer_id)}")
        auth.require("send_update", point_person_id=fields["point_person_id"])
        try:
            sent = extensions.service().send_update(referrer_id, by=extensions.actor(), day=_day())
        except InvalidInput as e:
            flash(f"Nothing was sent: {e}")
            return redirect(url_for("updates.update", referrer_id=referrer_id), code=303)
        flash(f"Update sent to {fields['name']}: {len(sent['covers'])} referral"
              f"{'' if len(sent['covers']) == 1 else 's'}; their follow-up rows are closed.")
        return redirect(url_for("referrers.detail", referrer_id=referrer_id), code=303)
    args = only_parameters(("format",))
    insights = extensions.insights()
    try:
        fields = insights.referrer_fields(referrer_id)
    except NotFound:
        abort(404, f"No referrer {shown(referrer_id)}")
    rows = insights.update_for(referrer_id)
    day = insights.options.day()
    if args.get("format"):
        if args["format"] != "pdf":
            abort(400, f"format must be pdf (or left out for the page); got {shown(args['format'])}")
        return Response(update_pdf(fields, rows, day), mimetype="application/pdf",
                        headers={"Content-Disposition": f'inline; filename="update-{referrer_id}.pdf"'})
    may_send = can(current_user, "send_update", point_person_id=fields["point_person_id"])
    return render_template("updates/update.html", referrer=fields, rows=rows, day=day, days=UPDATE_DAYS,
                           may_send=may_send, names=insights.member_names())


def _day():
    """The day an update is sent: the analysis day (today, unless the app judges another day)."""
    return extensions.service().options.day()


def update_pdf(referrer: dict, rows: list[dict], day) -> bytes:
    """The update as a one-page PDF (fpdf2): the same words as the printable page."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_title(f"Update for {referrer['name']}")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.cell(0, 10, _latin(f"Update for {referrer['name']}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    if referrer.get("organization"):
        pdf.cell(0, 6, _latin(referrer["organization"]), new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 6, f"As of {day}: your referrals of the last {UPDATE_DAYS} days whose clients agreed that you be "
                   "told.", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    if not rows:
        pdf.cell(0, 6, "No referral to report.", new_x="LMARGIN", new_y="NEXT")
    else:
        with pdf.table(col_widths=(30, 70, 60), text_align="LEFT") as table:
            header = table.row()
            for title in ("Referred on", "Seen by", "Where it stands"):
                header.cell(title)
            for row in rows:
                line = table.row()
                line.cell(str(row["date"]))
                line.cell(_latin(row["clinician_name"] or ""))
                line.cell(f"{row['status'].replace('_', ' ')} ({row['status_on']})")
    return bytes(pdf.output())


def _latin(text: str) -> str:
    """The core PDF fonts hold Latin-1 only: other characters become '?' rather than failing."""
    return text.encode("latin-1", "replace").decode("latin-1")


# -- the JSON API ----------------------------------------------------------------------------------


@api_bp.post("/referrals/<referral_id>/status")
@auth.token_required
def record_status_api(referral_id):
    """Record where a referral stands from a day on (``{"status", "date"}``)."""
    _may("record_status")
    if not ID_RE.fullmatch(referral_id):
        raise NotFound(f"unknown referral {shown(referral_id)}")
    row = extensions.service().record_status(referral_id, _body(StatusInput), by=extensions.actor())
    return jsonify(row), 201


@api_bp.get("/referrers/<referrer_id>/update")
def update_api(referrer_id):
    """What the referrer's update tells: its recent referrals whose clients agreed, with their statuses."""
    if not ID_RE.fullmatch(referrer_id):
        raise NotFound(f"unknown referrer {shown(referrer_id)}")
    insights = extensions.insights(refresh=request.args.get("refresh") in ("1", "true", "yes"))
    return jsonify(referrer=referrer_id, as_of=insights.options.day(), days=UPDATE_DAYS,
                   referrals=insights.update_for(referrer_id))


@api_bp.post("/referrers/<referrer_id>/update")
@auth.token_required
def send_update_api(referrer_id):
    """Record that the referrer's update was sent (a contact of kind update_sent covering its referrals)."""
    _may("send_update")
    if not ID_RE.fullmatch(referrer_id):
        raise NotFound(f"unknown referrer {shown(referrer_id)}")
    return jsonify(extensions.service().send_update(referrer_id, by=extensions.actor(), day=_day())), 201
