"""The write forms: record a referral, a pass, an introduction, a contact, a referral out, a handoff;
add or change a referrer, a clinician, a staff member, an outside provider.

Every route answers GET with the form and POST by handing what was typed,
as the write's request model (``graphsvc.inputs``, the JSON API's too;
``forms.Form.data``), to the service (``graphsvc.service``), which checks
it with the same rules and messages as the JSON API and the import, writes,
audits and updates the live analysis. Who may do what is asked before a
form is shown (``auth.require``, with the write's own context: ``member_id``
of a contact, ``by_id`` of an introduction, ``addressed_to`` of the
referral passed, the current point person of the referrer handed over);
the service asks again, inside the write's transaction. A refused write
changes nothing and shows the form again with what the user typed and each
message beside its field; a forbidden one is a 403 page saying why.

After a write: a confirmation in the session (``flash``) and a 303 to the
referrer's page (a clinician, staff member or provider: to its edit page).
Ids left blank are made by the service.

A POST never holds the request's analysis (``extensions.insights``) before
its write: the update after it takes the analysis' write lock, which would
wait for this very request. Its look-ups hold the analysis just for
themselves (``_lookup``).

Forms need no JavaScript: the referral form's "Check fit" button posts the
form back to show the match from the analysis beside it (nothing is
written), and "Assign to ..." fills in the suggested colleague and reason.
"""

from __future__ import annotations

from contextlib import contextmanager

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from pydantic import ValidationError

from ..errors import InvalidInput, Neo4jUnavailable, NotFound
from ..inputs import ADD, CHANGE, MatchRequest, parse
from ..limits import shown
from ..permissions import can
from ..presentation import words
from ..records import today
from ..store import reads
from ..vocabulary import PASS_REASONS, PRACTICE, STAFF_ROLES
from . import auth, extensions
from .forms import CHECK, CHECKS, DATE, PICK, SELECT, Field, Form, choices, words_choices
from .pages import local_target

bp = Blueprint("record", __name__)

ID_HELP = "Leave blank: the service makes one (give one only to match another system's)."
ID_LABEL = "Id (optional)"


# -- reading the analysis ----------------------------------------------------------------


@contextmanager
def _lookup():
    """The analysis, for this request's look-ups: the request's own on GET (held to its end, as
    every page does); on POST held only inside the ``with`` (see the module's docstring)."""
    if request.method == "GET":
        yield extensions.insights()
    else:
        with extensions.reading() as insights:
            yield insights


def _found(look, what: str, some_id: str):
    """``look()``, or a 404 page naming what was not found."""
    try:
        return look()
    except NotFound:
        abort(404, f"No {what} {shown(some_id)}")


def _referrer(insights, referrer_id: str) -> dict:
    return _found(lambda: insights.referrer_fields(referrer_id), "referrer", referrer_id)


def referral_of(insights, referral_id: str) -> dict:
    """The referral as the analysis holds it (a 404 page if there is none)."""
    # Its referrer from Neo4j (one index seek), then that referrer's events: scanning every event of
    # the analysed graph would cost a second at 100,000 referrers.
    referrer = reads.referrer_of_referral(extensions.graph(), referral_id)
    found = insights.referral(referrer, referral_id) if referrer is not None else None
    if found is None:
        abort(404, f"No referral {shown(referral_id)}")
    return found


def _member_label(m: dict) -> str:
    return f"{m['name']} ({m['id']})" + ("" if m["kind"] == "clinician" else f", {words(m.get('role') or 'staff')}")


def _clinician_choices(insights) -> tuple:
    return choices(insights.members("clinician"), label=lambda m: f"{m['name']} ({m['id']})"
                   + ("" if m["accepting_new"] else ", not accepting new clients"))


def _member_choices(insights) -> tuple:
    return choices(insights.members(), label=_member_label)


def _match(insights, *, needs, population, insurance, schedule, addressed_to) -> dict | None:
    """The match from the analysis for a client, or None when there is nothing to match on."""
    members = insights.member_names()
    addressed = addressed_to if addressed_to == PRACTICE or addressed_to in members else None
    try:
        wanted = MatchRequest(needs=needs or [], population=population or None, insurance=insurance or None,
                              schedule=schedule or None, addressed_to=addressed)
    except ValidationError:
        return None
    try:
        return insights.match(wanted)
    except InvalidInput as e:
        return {"problem": str(e)}


# -- shared steps --------------------------------------------------------------------------


def _words():
    """The practice's vocabularies now: the words its forms offer (``graphsvc.vocabularies``)."""
    return extensions.service().words()


def _clinician_id() -> str | None:
    """The signed-in clinician's id (None for the other roles)."""
    return current_user.clinician_id if getattr(current_user, "role", None) == "clinician" else None


def _write(form: Form, model, data: dict, write):
    """``write(ask, by)`` with ``data`` as the request ``model``; its result, or None with the messages
    placed on ``form`` (the model's and the service's alike)."""
    try:
        return write(parse(model, data), extensions.actor())
    except InvalidInput as e:
        form.refused(e.problems, names=_names())
        return None


def _names() -> dict[str, str]:
    """Members' and referrers' names by id: a refusal beside a field names people, not ids."""
    insights = extensions.insights()
    return {**{r: row["name"] for r, row in insights.referrer_row.items()}, **insights.member_names()}


def _done(message: str, target: str):
    """Confirm and go to ``target`` (303), or to the form's ``next`` when it is a page of this site
    (``/today`` records a follow-up in one click and comes back): the service has audited the write
    and updated the analysis."""
    flash(message)
    return redirect(local_target(request.form.get("next"), target), code=303)


def _prefilled(form: Form, defaults: dict) -> None:
    """A GET form's values: ``defaults``, then the query's values for the form's fields (a link from
    ``/today`` names the colleague and who introduces them); nothing is trusted until it is posted."""
    form.values.update(defaults)
    form.values.update({f.name: request.args[f.name].strip() for f in form.fields
                        if f.name in request.args and not f.readonly})


def _referrer_page(referrer_id: str) -> str:
    return url_for("referrers.detail", referrer_id=referrer_id)


def _page(template: str, form: Form, **context):
    """The form page: 200, or 422 showing why a write was refused."""
    return render_template(template, form=form, **context), 422 if form.invalid else 200


# -- a referral --------------------------------------------------------------------------------

CLIENT_FIELDS = ("needs", "population", "insurance", "schedule")


def _client_choices(referrer_id: str) -> tuple:
    """The referrer's clients for a pick list, the most recently referred first: a client has no name, so
    it is told by its id and what it needs ("cl3 · adult; anxiety, adhd; BCBS; last referred 2024-05-01")."""
    try:
        rows = reads.clients_of_referrer(extensions.graph(), referrer_id)
    except Neo4jUnavailable:
        return ()
    return tuple((c["id"], "; ".join(part for part in (
        words(c["population"]) if c["population"] else "",
        ", ".join(words(n) for n in c["needs"]), words(c["insurance"]) if c["insurance"] else "",
        f"last referred {c['last']}") if part)) for c in rows)


def _referral_form(insights, clients: tuple = ()) -> Form:
    members = _member_choices(insights)
    vocab = _words()
    return Form([
        Field("date", "Date", DATE),
        Field("client_id", "Existing client", PICK, clients,
              help="Type or pick one of this referrer's clients (by id, with what it needs); or leave blank "
                   "and describe a new client below."),
        Field("needs", "New client: needs", CHECKS, words_choices(vocab.values("needs")), aliases=("client.needs",)),
        Field("population", "New client: population", SELECT, words_choices(vocab.values("populations")),
              blank="—", aliases=("client.population",)),
        Field("insurance", "New client: insurance", PICK, words_choices(vocab.values("insurances")),
              help="Type or pick one of the practice's insurances.", aliases=("client.insurance",)),
        Field("schedule", "New client: schedule", SELECT, words_choices(vocab.values("schedules")),
              blank="no preference", aliases=("client.schedule",)),
        Field("addressed_to", "Addressed to", SELECT, ((PRACTICE, "the practice"),) + members,
              help="Whom the referrer asked for. It starts as this referrer's habit: its point person, "
                   "or the practice once it refers to the practice as a whole."),
        Field("assigned_to", "Assigned clinician", SELECT, _clinician_choices(insights),
              blank="— the clinician addressed —"),
        Field("pass_reason", "Pass reason", SELECT, words_choices(PASS_REASONS), blank="— not passed —",
              help="When assigned to a colleague of the clinician addressed."),
        Field("consent_to_update", "May the referrer be told how it went?", SELECT,
              (("yes", "yes, the client agreed"), ("no", "no, the client declined"), ("unknown", "not asked yet")),
              blank="— not asked yet —",
              help="Whether the client agreed that the referrer hear where the referral stands (its update)."),
        Field("id", ID_LABEL, help=ID_HELP),
    ])


@bp.route("/referrers/<referrer_id>/referrals/new", methods=["GET", "POST"])
def referral(referrer_id):
    """Record a referral from this referrer: an existing client or a new one, with the match beside it."""
    auth.require("record_referral")
    with _lookup() as insights:
        referrer = _referrer(insights, referrer_id)
        form = _referral_form(insights, _client_choices(referrer_id))
        usual = _usual_address(insights, referrer)
    if request.method == "GET":
        form.values.update(date=today().isoformat(), addressed_to=usual)
        return _referral_page(form, referrer)
    form.read(request.form)
    use = request.form.get("use", "")
    if use:  # "Assign to <colleague>": fill in the match's suggestion; nothing is written
        member, _, reason = use.partition(":")
        form.values.update(assigned_to=member, pass_reason=reason if reason in PASS_REASONS else "")
        return _referral_page(form, referrer)
    if request.form.get("do") == "check":
        return _referral_page(form, referrer)
    data = {**form.data(("id", "date", "client_id", "addressed_to", "assigned_to", "pass_reason", "consent_to_update")),
            "referrer_id": referrer_id}
    client = form.data(CLIENT_FIELDS)
    if client.get("needs") or len(client) > 1:  # a new client; with client_id too, the model says choose one
        data["client"] = client
    row = _write(form, ADD["referral"], data, lambda ask, by: extensions.service().record_referral(ask, by=by))
    if row is None:
        return _referral_page(form, referrer)
    new_client = (f"; its new client's id is {row['client_id']} (for this client's later referrals)"
                  if "client" in data else "")
    return _done(f"Recorded the referral of {row['date']} from {referrer['name']}{new_client}.",
                 _referrer_page(referrer_id))


def _usual_address(insights, referrer: dict) -> str:
    """Whom a new referral from this referrer is most likely addressed to, for the form's default:
    the practice once the referrer is in stage 3 (or has no point person), else its point person."""
    stage = insights.referrer(referrer["id"])["stage"]
    if stage == 3 or not referrer["point_person_id"]:
        return PRACTICE
    return referrer["point_person_id"]


def _given(value) -> bool:
    """Whether a form value says something: a non-empty list (checks) or non-blank text."""
    return bool(value) if isinstance(value, list) else bool(str(value or "").strip())


def _referral_page(form: Form, referrer: dict):
    insights = extensions.insights()
    v = form.values
    client, described = None, any(_given(v.get(k)) for k in CLIENT_FIELDS)
    existing = form.text("client_id") if not described else None
    if existing:
        # The match for an existing client uses what the graph holds about it (a store read: the
        # analysed graph keeps clients' attributes on their referrals, not by client id).
        try:
            client = reads.client_attributes(extensions.graph(), existing)
        except Neo4jUnavailable:
            client = {"problem": "The database is not reachable, so client "
                                 f"{shown(existing)} cannot be looked up for the match."}
        else:
            if client is None:
                client = {"problem": f"No client {shown(existing)} in the graph: check the id, or leave "
                                     "it blank and describe a new client."}
    if client is not None and "problem" in client:
        match = {"problem": client["problem"]}
    else:
        source = client or v
        match = _match(insights, needs=source.get("needs"), population=source.get("population"),
                       insurance=source.get("insurance"), schedule=source.get("schedule"),
                       addressed_to=v.get("addressed_to"))
    return _page("record/referral.html", form, referrer=referrer, match=match, names=insights.member_names(),
                 client=client, title=f"Record a referral from {referrer['name']}")


# -- a pass --------------------------------------------------------------------------------------


def _pass_form(insights) -> Form:
    return Form([
        Field("to_clinician_id", "Pass to", SELECT, _clinician_choices(insights), blank="— choose —",
              missing="Choose the clinician to pass this referral to."),
        Field("reason", "Reason", SELECT, words_choices(PASS_REASONS), blank="— choose —",
              missing="Choose why it is passed."),
    ])


@bp.route("/referrals/<referral_id>/pass", methods=["GET", "POST"])
def pass_referral(referral_id):
    """Pass a referral to a better-matched colleague, with a reason."""
    with _lookup() as insights:
        found = referral_of(insights, referral_id)
        auth.require("record_pass", addressed_to=found["addressed_to"])
        referrer = _referrer(insights, found["referrer_id"])
        form = _pass_form(insights)
    if request.method == "GET":
        match = _pass_match(found)
        if match and match.get("pass"):
            form.values.update(to_clinician_id=match["pass"]["member"], reason=match["pass"]["reason"])
        return _pass_page(form, found, referrer)
    form.read(request.form)
    row = _write(form, ADD["pass"], {**form.data(), "referral_id": referral_id},
                 lambda ask, by: extensions.service().pass_referral(ask, by=by))
    if row is None:
        return _pass_page(form, found, referrer)
    names = extensions.insights().member_names()
    to = names.get(row["assigned_to"], row["assigned_to"])
    return _done(f"Passed {referrer['name']}'s referral of {found['date']} to {to}"
                 + (f" ({words(row['pass_reason'])})." if row.get("pass_reason") else ", the clinician it was "
                    "addressed to."), _referrer_page(referrer["id"]))


def _pass_match(found: dict) -> dict | None:
    return _match(extensions.insights(), needs=list(found.get("needs") or ()), population=found.get("population"),
                  insurance=found.get("insurance"), schedule=found.get("schedule"),
                  addressed_to=found.get("addressed_to"))


def _pass_page(form: Form, found: dict, referrer: dict):
    insights = extensions.insights()
    return _page("record/pass.html", form, referral=found, referrer=referrer, match=_pass_match(found),
                 names=insights.member_names(), title=f"Pass {referrer['name']}'s referral of {found['date']}",
                 submit="Pass referral")


# -- an introduction, a contact ----------------------------------------------------------------


@bp.route("/referrers/<referrer_id>/introductions/new", methods=["GET", "POST"])
def introduction(referrer_id):
    """Record that a member introduced a colleague to this referrer."""
    mine = _clinician_id()
    context = request.form.get("by_id") if request.method == "POST" else mine
    auth.require("record_introduction", by_id=context)
    with _lookup() as insights:
        referrer = _referrer(insights, referrer_id)
        members = _member_choices(insights)
        names = insights.member_names()
    # A clinician records the introductions it makes: it is the one offered.
    by = tuple(m for m in members if m[0] == mine) if mine else members
    form = Form([
        Field("date", "Date", DATE),
        Field("introduced_id", "Colleague introduced", SELECT, members, blank="— choose —",
              missing="Choose the colleague who was introduced."),
        Field("by_id", "Introduced by", SELECT, by, blank=None if mine else "— choose —",
              missing="Choose who made the introduction."),
        Field("id", ID_LABEL, help=ID_HELP),
    ])
    if request.method == "GET":
        _prefilled(form, {"date": today().isoformat(), "by_id": mine or ""})
    else:
        form.read(request.form)
        row = _write(form, ADD["introduction"], {**form.data(), "referrer_id": referrer_id},
                     lambda ask, by: extensions.service().record_introduction(ask, by=by))
        if row is not None:
            return _done(f"Recorded the introduction of {names.get(row['introduced_id'], row['introduced_id'])} "
                         f"to {referrer['name']} by {names.get(row['by_id'], row['by_id'])} ({row['date']}).",
                         _referrer_page(referrer_id))
    return _page("record/form.html", form, referrer=referrer, title=f"Record an introduction to {referrer['name']}",
                 submit="Record introduction")


@bp.route("/referrers/<referrer_id>/contacts/new", methods=["GET", "POST"])
def contact(referrer_id):
    """Record a contact (lunch, talk, ...) between a member and this referrer."""
    mine = _clinician_id()
    context = request.form.get("member_id") if request.method == "POST" else mine
    auth.require("record_contact", member_id=context)
    with _lookup() as insights:
        referrer = _referrer(insights, referrer_id)
        members = _member_choices(insights)
        names = insights.member_names()
    own = tuple(m for m in members if m[0] == mine) if mine else members  # a clinician records its own
    form = Form([
        Field("date", "Date", DATE),
        Field("member_id", "Who met them", SELECT, own, blank=None if mine else "— choose —",
              missing="Choose who met them."),
        Field("kind", "Kind", SELECT, words_choices(k for k in _words().values("contact_kinds") if k != "update_sent"),
              blank="— choose —"),
        Field("id", ID_LABEL, help=ID_HELP),
    ])
    if request.method == "GET":
        _prefilled(form, {"date": today().isoformat(), "member_id": mine or ""})
    else:
        form.read(request.form)
        row = _write(form, ADD["contact"], {**form.data(), "referrer_id": referrer_id},
                     lambda ask, by: extensions.service().record_contact(ask, by=by))
        if row is not None:
            return _done(f"Recorded the {words(row['kind'])} with {referrer['name']} "
                         f"({names.get(row['member_id'], row['member_id'])}, {row['date']}).",
                         _referrer_page(referrer_id))
    return _page("record/form.html", form, referrer=referrer, title=f"Record a contact with {referrer['name']}",
                 submit="Record contact")


# -- a referral out ------------------------------------------------------------------------------


@bp.route("/referrers/<referrer_id>/referrals-out/new", methods=["GET", "POST"])
def referral_out(referrer_id):
    """Record a client of this referrer's referred out to an outside provider for a niche."""
    auth.require("record_referral_out")
    with _lookup() as insights:
        referrer = _referrer(insights, referrer_id)
        providers = insights.providers()
    niches = sorted({n for p in providers for n in p["niches"]})
    covering = [(n, [p for p in providers if n in p["niches"]]) for n in niches]
    form = Form([
        Field("date", "Date", DATE),
        Field("client_id", "Client", PICK, _client_choices(referrer_id), missing="Pick the client referred out.",
              help="Type or pick one of this referrer's clients (by id, with what it needs)."),
        Field("provider_id", "Outside provider", SELECT, choices(providers, label=lambda p: f"{p['name']} ({p['id']})"),
              blank="— choose —"),
        Field("niche", "Niche", SELECT, words_choices(niches), blank="— choose —",
              missing="Choose what the client was referred out for."),
        Field("id", ID_LABEL, help=ID_HELP),
    ])
    if request.method == "GET":
        form.values.update(date=today().isoformat())
    else:
        form.read(request.form)
        row = _write(form, ADD["referral_out"], {**form.data(), "referrer_id": referrer_id},
                     lambda ask, by: extensions.service().record_referral_out(ask, by=by))
        if row is not None:
            provider = {p["id"]: p["name"] for p in providers}.get(row["provider_id"], row["provider_id"])
            return _done(f"Recorded the referral out to {provider} for {words(row['niche'])} ({row['date']}).",
                         _referrer_page(referrer_id))
    return _page("record/referral_out.html", form, referrer=referrer, covering=covering,
                 title=f"Record a referral out ({referrer['name']})", submit="Record referral out")


# -- a handoff -------------------------------------------------------------------------------------


@bp.route("/referrers/<referrer_id>/handoff", methods=["GET", "POST"])
def handoff(referrer_id):
    """Hand the point-person role for this referrer to another clinician."""
    with _lookup() as insights:
        referrer = _referrer(insights, referrer_id)
        auth.require("hand_over", point_person_id=referrer["point_person_id"])
        clinicians = _clinician_choices(insights)
        names = insights.member_names()
    form = Form([
        Field("to_clinician_id", "New point person", SELECT, clinicians, blank="— choose —",
              aliases=("point_person_id",)),
        Field("date", "From", DATE),
    ])
    if request.method == "GET":
        form.values.update(date=today().isoformat())
    else:
        form.read(request.form)
        row = _write(form, ADD["handoff"], {**form.data(), "referrer_id": referrer_id},
                     lambda ask, by: extensions.service().hand_over(ask, by=by))
        if row is not None:
            to = row["point_person_id"]
            return _done(f"{referrer['name']} handed over to {names.get(to, to)}"
                         f" from {row['since']}.", _referrer_page(referrer_id))
    current = referrer["point_person_id"]
    return _page("record/form.html", form, referrer=referrer, title=f"Hand {referrer['name']} over",
                 submit="Hand over",
                 intro=f"The point person now is {names.get(current, current) or 'nobody'}"
                       f"{f' ({current})' if current else ''}; the history is kept.")


# -- add or change: referrers, clinicians, staff, outside providers ----------------------------------


def _save(kind: str, what: str, form: Form, record_id: str | None, target):
    """Save a record from ``form`` (``record_id``: change that one, else add): the redirect, or None
    with the messages placed on ``form``."""
    data = form.data()
    if record_id is None:
        row = _write(form, ADD[kind], data, lambda ask, by: extensions.service().save(kind, ask, by=by))
    else:
        data.pop("id", None)
        row = _write(form, CHANGE[kind], data,
                     lambda ask, by: extensions.service().save(kind, ask, by=by, record_id=record_id))
    if row is None:
        return None
    return _done(f"Saved {what} {row.get('name') or row['id']}.", target(row))


# The optional NPI field of the referrer, clinician and staff forms (blank: none).
NPI_HELP = "The National Provider Identifier, 10 digits (optional; one person's only)."


def _npi_field() -> Field:
    return Field("npi", "NPI", help=NPI_HELP)


def _referrer_form(insights, new: bool) -> Form:
    return Form([
        Field("name", "Name"),
        Field("kind", "Kind", SELECT, words_choices(_words().values("referrer_kinds")), blank="— choose —"),
        Field("organization", "Organization"),
        Field("point_person_id", "First point person", SELECT, _clinician_choices(insights), blank="— choose —",
              help="" if new else "Who held the role first; to change who holds it now, hand the referrer over."),
        Field("since", "Relationship since", DATE),
        _npi_field(),
    ] + ([Field("id", ID_LABEL, help=ID_HELP)] if new else []))


@bp.route("/referrers/new", methods=["GET", "POST"], defaults={"referrer_id": None})
@bp.route("/referrers/<referrer_id>/edit", methods=["GET", "POST"])
def save_referrer(referrer_id):
    """Add a referrer, or change one."""
    auth.require("save_referrer")
    with _lookup() as insights:
        old = _referrer(insights, referrer_id) if referrer_id else None
        form = _referrer_form(insights, new=old is None)
    if request.method == "GET":
        if old is None:
            form.values.update(since=today().isoformat())
        else:
            form.values.update(name=old["name"], kind=old["kind"], organization=old["organization"],
                               npi=old.get("npi") or "", point_person_id=old["first_point_person_id"] or "",
                               since=str(old["first_since"] or ""))
    else:
        form.read(request.form)
        done = _save("referrer", "referrer", form, referrer_id, lambda row: _referrer_page(row["id"]))
        if done is not None:
            return done
    return _page("record/form.html", form, referrer=old, title=f"Change {old['name']}" if old else "Add a referrer",
                 submit="Save referrer")


def _clinician_form(new: bool) -> Form:
    vocab = _words()
    return Form([
        Field("name", "Name"),
        Field("specialties", "Specialties", CHECKS, words_choices(vocab.values("needs"))),
        Field("populations", "Populations", CHECKS, words_choices(vocab.values("populations"))),
        Field("insurances", "Insurances", CHECKS, words_choices(vocab.values("insurances"))),
        Field("schedule", "Schedule", CHECKS, words_choices(vocab.values("schedules"))),
        Field("accepting_new", "Accepting new clients", CHECK),
        _npi_field(),
    ] + ([Field("id", ID_LABEL, help=ID_HELP)] if new else []))


@bp.route("/clinicians/new", methods=["GET", "POST"], defaults={"clinician_id": None})
@bp.route("/clinicians/<clinician_id>/edit", methods=["GET", "POST"])
def save_clinician(clinician_id):
    """Add a clinician, or change one (accepting new clients, specialties, ...)."""
    auth.require("save_clinician")
    form = _clinician_form(new=clinician_id is None)
    with _lookup() as insights:
        old = _member(insights, clinician_id, "clinician") if clinician_id else None
    if request.method == "GET":
        if old is None:
            form.values.update(accepting_new=True)
        else:
            form.values.update(name=old["name"], specialties=sorted(old["specialties"]),
                               populations=sorted(old["populations"]), insurances=sorted(old["insurances"]),
                               schedule=sorted(old["schedule"]),
                               accepting_new=old["accepting_new"], npi=old.get("npi") or "")
    else:
        form.read(request.form)
        done = _save("clinician", "clinician", form, clinician_id,
                     lambda row: url_for("record.save_clinician", clinician_id=row["id"]))
        if done is not None:
            return done
    return _page("record/form.html", form, title=f"Change {old['name']}" if old else "Add a clinician",
                 submit="Save clinician")


def _member(insights, member_id: str, kind: str) -> dict:
    """A clinician or staff member (``kind``) for its edit form; a 404 page if there is none."""
    what = "clinician" if kind == "clinician" else "staff member"
    member = _found(lambda: insights.member(member_id), what, member_id)
    if member["kind"] != kind:
        abort(404, f"No {what} {shown(member_id)}")
    return member


@bp.route("/staff/new", methods=["GET", "POST"], defaults={"staff_id": None})
@bp.route("/staff/<staff_id>/edit", methods=["GET", "POST"])
def save_staff(staff_id):
    """Add a staff member, or change one."""
    auth.require("save_staff")
    form = Form([
        Field("name", "Name"),
        Field("role", "Role", SELECT, words_choices(STAFF_ROLES), blank="— choose —"),
        _npi_field(),
    ] + ([Field("id", ID_LABEL, help=ID_HELP)] if staff_id is None else []))
    with _lookup() as insights:
        old = _member(insights, staff_id, "staff") if staff_id else None
    if request.method == "GET":
        if old is not None:
            form.values.update(name=old["name"], role=old.get("role") or "", npi=old.get("npi") or "")
    else:
        form.read(request.form)
        done = _save("staff", "staff member", form, staff_id,
                     lambda row: url_for("record.save_staff", staff_id=row["id"]))
        if done is not None:
            return done
    return _page("record/form.html", form, title=f"Change {old['name']}" if old else "Add a staff member",
                 submit="Save staff member")


@bp.route("/providers/new", methods=["GET", "POST"], defaults={"provider_id": None})
@bp.route("/providers/<provider_id>/edit", methods=["GET", "POST"])
def save_provider(provider_id):
    """Add a trusted outside provider, or change one."""
    auth.require("save_provider")
    form = Form([
        Field("name", "Name"),
        Field("niches", "Niches", CHECKS, words_choices(_words().values("niches")),
              help="What the practice refers out to it for. A manager adds a new niche under Settings, "
                   "Vocabularies."),
    ] + ([Field("id", ID_LABEL, help=ID_HELP)] if provider_id is None else []))
    with _lookup() as insights:
        old = _found(lambda: insights.provider(provider_id), "outside provider", provider_id) if provider_id else None
    if request.method == "GET":
        if old is not None:
            form.values.update(name=old["name"], niches=sorted(old["niches"]))
    else:
        form.read(request.form)
        done = _save("external_provider", "outside provider", form, provider_id,
                     lambda row: url_for("record.save_provider", provider_id=row["id"]))
        if done is not None:
            return done
    return _page("record/form.html", form, title=f"Change {old['name']}" if old else "Add an outside provider",
                 submit="Save provider")


# -- for the referrer page -------------------------------------------------------------------------


@bp.app_context_processor
def record_helpers():
    """``may(action, **context)`` (links only for those who may) and ``recent_referrals(referrer_id)``."""
    return {"may": lambda action, **context: can(current_user, action, **context),
            "recent_referrals": lambda referrer_id, limit=10: extensions.insights().recent_referrals(referrer_id,
                                                                                                   limit)}
