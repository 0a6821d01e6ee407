"""The JSON API's writes: each a request model (``graphsvc.inputs``) handed to the service.

=====================================  =====================================  ====================
endpoint                               body (``graphsvc.inputs``)             action (``permissions``)
=====================================  =====================================  ====================
``POST /api/referrals``                ``ReferralInput``: ``client_id`` or    ``record_referral``
                                       a new ``client``
``POST /api/passes``                   ``PassInput``                          ``record_pass``
``POST /api/introductions``            ``IntroductionInput``                  ``record_introduction``
``POST /api/contacts``                 ``ContactInput``                       ``record_contact``
``POST /api/referrals-out``            ``ReferralOutInput``                   ``record_referral_out``
``POST /api/handoffs``                 ``HandoffInput``                       ``hand_over``
``POST /api/referrers``, ``PUT         ``ReferrerInput`` (PUT:                ``save_referrer``
/api/referrers/<id>``                  ``ReferrerChange``, the path names
                                       the id)
``.../clinicians``, ``.../staff``,     likewise                               ``save_clinician``,
``.../providers``                                                             ``save_staff``,
                                                                              ``save_provider``
=====================================  =====================================  ====================

Each takes the API token only (``auth.token_required``: the session cookie is
a 401 saying so, so no page of another site can write through a signed-in
browser), a JSON object of at most ``MAX_CONTENT_LENGTH`` bytes held to its
model exactly (the model is the OpenAPI document's schema), and answers 201
(200 for a PUT) with the stored record, ``id`` included: a POST without
``id`` gets one made by the service. A POST whose ``id`` is taken is a 400
"already exists"; a PUT of an unknown id a 404; a body naming an id that
names nothing a 404; any other refusal a 400 naming each field.

Who may write what: a role that may never do the action is refused before
the body is read (a 403); the rest, a clinician's own rules included (its
contact, its introduction, a pass of a referral addressed to it, a handoff
of a referrer it holds), is the service's, checked in the transaction that
writes (a ``graphsvc.errors.Forbidden``, answered as a 403). The service
audits every write and brings this worker's analysis up to date; other
workers catch up through the change feed.
"""

from __future__ import annotations

from flask import current_app, jsonify, request
from flask_login import current_user
from werkzeug.exceptions import Forbidden as HTTPForbidden

from ..errors import Forbidden, InvalidInput, NotFound
from ..inputs import ADD, CHANGE, Input, parse
from ..limits import ID_RE, shown
from ..permissions import own_context
from ..presentation import listing
from . import auth, extensions
from .api import bp, json_body

# The record kind each add/change path saves, and its action.
SAVES = {"referrers": ("referrer", "save_referrer"), "clinicians": ("clinician", "save_clinician"),
         "staff": ("staff", "save_staff"), "providers": ("external_provider", "save_provider")}
# The record kind each event path records, and its action.
EVENTS = {"referrals": ("referral", "record_referral"), "introductions": ("introduction", "record_introduction"),
          "contacts": ("contact", "record_contact"), "referrals-out": ("referral_out", "record_referral_out")}


def _body(model: type[Input]):
    """The request's JSON object as ``model`` (a 400 naming each field that is not as it says)."""
    body = json_body()
    if not isinstance(body, dict):
        raise InvalidInput(f"the body must be a JSON object with the fields {listing(model.model_fields)}")
    return parse(model, body)


def _may(action: str) -> None:
    """A 403 for a role that may never do ``action`` (a clinician's own rule is the service's, later)."""
    auth.require(action, **own_context(current_user, action))


@bp.app_errorhandler(Forbidden)
def forbidden(error):
    """The service's refusal: a 403 saying why, as the path calls for (JSON under /api/, the site's error
    page elsewhere, e.g. a form)."""
    return current_app.handle_http_exception(HTTPForbidden(str(error)))


# -- events -----------------------------------------------------------------------------------------


def _record(collection: str):
    kind, action = EVENTS[collection]
    _may(action)
    ask = _body(ADD[kind])
    service, by = extensions.service(), extensions.actor()
    row = {"referral": service.record_referral, "introduction": service.record_introduction,
           "contact": service.record_contact, "referral_out": service.record_referral_out}[kind](ask, by=by)
    return jsonify(row), 201


@bp.post("/referrals")
@auth.token_required
def add_referral():
    """Record a referral (and, with ``client``, its new client)."""
    return _record("referrals")


@bp.post("/introductions")
@auth.token_required
def add_introduction():
    """Record an introduction (a clinician: one it makes, ``by_id``)."""
    return _record("introductions")


@bp.post("/contacts")
@auth.token_required
def add_contact():
    """Record a contact (a clinician: its own, ``member_id``)."""
    return _record("contacts")


@bp.post("/referrals-out")
@auth.token_required
def add_referral_out():
    """Record a client referred out to an outside provider."""
    return _record("referrals-out")


@bp.post("/passes")
@auth.token_required
def add_pass():
    """Pass a referral to another clinician (a clinician: one addressed to it)."""
    _may("record_pass")
    return jsonify(extensions.service().pass_referral(_body(ADD["pass"]), by=extensions.actor())), 201


@bp.post("/handoffs")
@auth.token_required
def add_handoff():
    """Hand a referrer to another point person (a clinician: a referrer it holds)."""
    _may("hand_over")
    return jsonify(extensions.service().hand_over(_body(ADD["handoff"]), by=extensions.actor())), 201


# -- voiding and restoring (corrections that keep history) --------------------------------------------

def _each_event_collection(action: str):
    """Register the view at ``/<collection>/<record_id>/<action>`` for each collection of events (``EVENTS``)."""
    def register(view):
        for collection in EVENTS:
            bp.add_url_rule(f"/{collection}/<record_id>/{action}", view_func=view, methods=["POST"],
                            defaults={"collection": collection})
        return view
    return register


@_each_event_collection("void")
@auth.token_required
def void_record(collection, record_id):
    """Void a mistaken record with a reason (a manager): it leaves the analysis and every list."""
    from ..inputs import VoidInput

    _may("void_records")
    kind = EVENTS[collection][0]
    done = extensions.service().void_record(kind, record_id, _body(VoidInput), by=extensions.actor())
    return jsonify({**done, "voided_on": done["voided_on"].isoformat()})


@_each_event_collection("restore")
@auth.token_required
def restore_record(collection, record_id):
    """Restore a voided record (a manager): it counts again."""
    _may("void_records")
    body = request.get_json(silent=True) if request.get_data() else {}
    if body not in ({}, None) or (request.get_data() and body is None):
        raise InvalidInput("the body must be empty or an empty JSON object")
    return jsonify(extensions.service().restore_record(EVENTS[collection][0], record_id, by=extensions.actor()))


@bp.post("/passes/<referral_id>/void")
@auth.token_required
def undo_pass(referral_id):
    """Undo a mistaken pass (a manager, with a reason): the referral goes back to the clinician addressed."""
    from ..inputs import VoidInput

    _may("void_records")
    return jsonify(extensions.service().undo_pass(referral_id, _body(VoidInput), by=extensions.actor()))


@bp.post("/handoffs/<referrer_id>/void")
@auth.token_required
def undo_handoff(referrer_id):
    """Undo a referrer's mistaken last handoff (a manager, with a reason): the point person before comes back."""
    from ..inputs import VoidInput

    _may("void_records")
    return jsonify(extensions.service().undo_handoff(referrer_id, _body(VoidInput), by=extensions.actor()))


# -- adding and changing referrers, members and outside providers -----------------------------------


def _add(collection: str):
    kind, action = SAVES[collection]
    _may(action)
    return jsonify(extensions.service().save(kind, _body(ADD[kind]), by=extensions.actor())), 201


def _change(collection: str, record_id: str):
    kind, action = SAVES[collection]
    _may(action)
    if not ID_RE.fullmatch(record_id):
        raise NotFound(f"unknown {kind.replace('_', ' ')} {shown(record_id)}")
    row = extensions.service().save(kind, _body(CHANGE[kind]), by=extensions.actor(), record_id=record_id)
    return jsonify(row), 200


@bp.post("/referrers")
@auth.token_required
def add_referrer():
    """Add a referrer."""
    return _add("referrers")


@bp.put("/referrers/<record_id>")
@auth.token_required
def change_referrer(record_id):
    """Change a referrer."""
    return _change("referrers", record_id)


@bp.post("/clinicians")
@auth.token_required
def add_clinician():
    """Add a clinician."""
    return _add("clinicians")


@bp.put("/clinicians/<record_id>")
@auth.token_required
def change_clinician(record_id):
    """Change a clinician."""
    return _change("clinicians", record_id)


@bp.post("/staff")
@auth.token_required
def add_staff():
    """Add a staff member."""
    return _add("staff")


@bp.put("/staff/<record_id>")
@auth.token_required
def change_staff(record_id):
    """Change a staff member."""
    return _change("staff", record_id)


@bp.post("/providers")
@auth.token_required
def add_provider():
    """Add an outside provider."""
    return _add("providers")


@bp.put("/providers/<record_id>")
@auth.token_required
def change_provider(record_id):
    """Change an outside provider."""
    return _change("providers", record_id)


# The views above, as ``graphsvc.web.api.QUERY`` lists them: none takes a query parameter.
VIEWS = ("add_referral", "add_introduction", "add_contact", "add_referral_out", "add_pass", "add_handoff",
         "add_referrer", "change_referrer", "add_clinician", "change_clinician", "add_staff", "change_staff",
         "add_provider", "change_provider")
