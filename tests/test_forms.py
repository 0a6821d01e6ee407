"""The write forms (graphsvc.web.record): every route for every role, CSRF, the store's messages beside
their fields, nothing written by a refused write, an audit entry per write, and the referrer page
showing the write at once (the live analysis)."""

from __future__ import annotations

import html
import re

import pytest

from graphsvc.web import auth
from tests.conftest import csrf_token_of
from tests.helpers import add_words, service_of, snapshot, someone

ROLES = ("manager", "intake", "clinician", "analyst")  # the clinician account is cn1 (Ana Ruiz)


def text_of(answer) -> str:
    return html.unescape(answer.get_data(as_text=True))


def post(client, url: str, data: dict, **kwargs):
    """POST ``data`` to ``url`` with the CSRF token of the form page (as a browser would)."""
    token = csrf_token_of(client.get(url).get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token}, **kwargs)


def field_html(page: str, name: str) -> str:
    """The HTML of one field of a form page: its input, help and messages."""
    found = re.search(rf'<div class="field[^"]*" data-field="{name}">(.*?)</div>', page, re.S)
    assert found, f"no field {name}"
    return found.group(1)


def messages_of(page: str, name: str) -> list[str]:
    return [html.unescape(m) for m in re.findall(r'<p class="error"[^>]*>(.*?)</p>', field_html(page, name), re.S)]


def value_of(page: str, name: str) -> str:
    """What a text field shows, or a select's selected option."""
    part = field_html(page, name)
    found = re.search(r'<input [^>]*value="([^"]*)"', part) or re.search(r'<option value="([^"]*)" selected', part)
    return html.unescape(found.group(1)) if found else ""


def checked_of(page: str, name: str) -> list[str]:
    """The ticked boxes of a checks field (a pick list of a vocabulary's words), in page order."""
    return [html.unescape(v) for v in re.findall(r'<input type="checkbox" name="[^"]*" value="([^"]*)" checked',
                                                 field_html(page, name))]


def cypher(graph, text: str, **params) -> list[dict]:
    return graph.read_tx(lambda tx: tx.run(text, **params).data())


def last_audit(web_accounts) -> dict:
    entry = web_accounts.entries(limit=1)[0]
    return {k: entry[k] for k in ("action", "user", "ids")}


def referrer_numbers(client, referrer_id: str) -> dict:
    """The referrer page's headline boxes, e.g. {"stage": "Stage 1", "referrals": "2", ...}."""
    page = text_of(client.get(f"/referrers/{referrer_id}"))
    boxes = re.findall(r"<div(?: class=\"wide\")?><b>([^<]*)</b>([^<]*)</div>", page)
    out = {}
    for number, label in boxes:
        if number.startswith("Stage"):
            out["stage"] = number
        elif label.startswith("referral"):
            out["referrals"] = number
        elif "seen (breadth)" in label:
            out["breadth"] = number
        elif "reached" in label:
            out["reached"] = number
    return out


# -- every route, every role ------------------------------------------------------------------------

# (GET url, the roles that may use it); the clinician is cn1: r1 and r3 are addressed to it, r4 to cn2;
# it is the point person of rf1, cn2 of rf3.
ROUTES = [
    ("/referrers/rf1/referrals/new", {"manager", "intake"}),
    ("/referrals/r1/pass", {"manager", "intake", "clinician"}),
    ("/referrals/r4/pass", {"manager", "intake"}),
    ("/referrers/rf1/introductions/new", {"manager", "clinician"}),
    ("/referrers/rf1/contacts/new", {"manager", "clinician"}),
    ("/referrers/rf1/referrals-out/new", {"manager"}),
    ("/referrers/rf1/handoff", {"manager", "clinician"}),
    ("/referrers/rf3/handoff", {"manager"}),
    ("/referrers/new", {"manager"}),
    ("/referrers/rf1/edit", {"manager"}),
    ("/clinicians/new", {"manager"}),
    ("/clinicians/cn1/edit", {"manager"}),
    ("/staff/new", {"manager"}),
    ("/staff/st1/edit", {"manager"}),
    ("/providers/new", {"manager"}),
    ("/providers/ep1/edit", {"manager"}),
]

# Why each role may not, as the 403 page says it.
REASONS = {
    ("/referrers/rf1/referrals/new", "clinician"):
        "Only a manager or intake may record referrals; you are signed in as clinician.",
    ("/referrers/rf1/referrals/new", "analyst"):
        "Only a manager or intake may record referrals; you are signed in as analyst.",
    ("/referrals/r1/pass", "analyst"):
        "Only a manager, intake or a clinician (its own) may record passes; you are signed in as analyst.",
    ("/referrals/r4/pass", "clinician"):
        "A clinician may record passes only of referrals addressed to it; you are clinician cn1.",
    ("/referrers/rf1/introductions/new", "intake"):
        "Only a manager or a clinician (its own) may record introductions; you are signed in as intake.",
    ("/referrers/rf1/contacts/new", "analyst"):
        "Only a manager or a clinician (its own) may record contacts; you are signed in as analyst.",
    ("/referrers/rf1/referrals-out/new", "clinician"):
        "Only a manager may record referrals out; you are signed in as clinician.",
    ("/referrers/rf3/handoff", "clinician"):
        "A clinician may hand over only referrers it is the point person of; you are clinician cn1.",
    ("/referrers/rf3/handoff", "intake"):
        "Only a manager or a clinician (its own) may hand a referrer over to another point person; you are signed "
        "in as intake.",
    ("/referrers/new", "intake"): "Only a manager may add or change referrers; you are signed in as intake.",
    ("/clinicians/cn1/edit", "clinician"):
        "Only a manager may add or change clinicians; you are signed in as clinician.",
    ("/staff/new", "analyst"): "Only a manager may add or change staff; you are signed in as analyst.",
    ("/providers/ep1/edit", "intake"):
        "Only a manager may add or change outside providers; you are signed in as intake.",
}


@pytest.mark.parametrize("url,allowed", ROUTES)
def test_every_form_for_every_role(small, client_as, anon, url, allowed):
    for role in ROLES:
        user = client_as(role)
        page = user.get(url)
        text = text_of(page)
        if role in allowed:
            assert page.status_code == 200, (role, text)
            assert 'method="post"' in text and 'name="csrf_token"' in text, role
        else:
            assert page.status_code == 403, (role, text)
            assert "403 · Forbidden" in text
            if (url, role) in REASONS:
                assert REASONS[url, role] in text
            # POST is just as forbidden, with the token, and writes nothing.
            token = csrf_token_of(user.get("/").get_data(as_text=True))
            assert user.post(url, data={"csrf_token": token, "date": "2024-06-10"}).status_code == 403, role
    # Anonymous: the login page, coming back here after.
    for answer in (anon.get(url), anon.post(url, data={})):
        assert answer.status_code == 302
        assert answer.headers["Location"] == "/login?next=" + url


def test_anonymous_redirect_names_the_form(small, anon):
    assert anon.get("/referrers/rf1/contacts/new").headers["Location"] == "/login?next=/referrers/rf1/contacts/new"


def test_unknown_records_are_404(small, client):
    for url, what in (("/referrers/nope/referrals/new", "No referrer 'nope'"),
                      ("/referrals/nope/pass", "No referral 'nope'"),
                      ("/referrers/nope/edit", "No referrer 'nope'"), ("/clinicians/st1/edit", "No clinician 'st1'"),
                      ("/staff/cn1/edit", "No staff member 'cn1'"),
                      ("/providers/cn1/edit", "No outside provider 'cn1'")):
        answer = client.get(url)
        assert answer.status_code == 404, url
        assert what in text_of(answer), url


def test_links_on_the_referrer_page_only_for_those_who_may(small, client_as):
    links = {
        "manager": {"/referrers/rf1/referrals/new", "/referrers/rf1/introductions/new", "/referrers/rf1/contacts/new",
                    "/referrers/rf1/referrals-out/new", "/referrers/rf1/handoff", "/referrers/rf1/edit",
                    "/referrers/new", "/clinicians/new", "/clinicians/cn1/edit", "/staff/new", "/providers/new",
                    "/referrals/r1/pass", "/referrals/r2/pass"},
        "intake": {"/referrers/rf1/referrals/new", "/referrals/r1/pass", "/referrals/r2/pass"},
        "clinician": {"/referrers/rf1/introductions/new", "/referrers/rf1/contacts/new", "/referrers/rf1/handoff",
                      "/referrals/r1/pass", "/referrals/r2/pass"},
        "analyst": set(),
    }
    form_paths = re.compile(r"^/(referrers/[^/]+/(referrals/new|introductions/new|contacts/new|referrals-out/new|"
                            r"handoff|edit)|referrers/new|(clinicians|staff|providers)/(new|[^/]+/edit)|referrals/[^/]+/pass)$")
    for role, expected in links.items():
        page = client_as(role).get("/referrers/rf1").get_data(as_text=True)
        shown = {h for h in re.findall(r'href="([^"]+)"', page) if form_paths.match(h)}
        assert shown == expected, role
    assert 'aria-label="Record"' not in client_as("analyst").get("/referrers/rf1").get_data(as_text=True)
    # On rf3 (point person cn2) the clinician may not hand over, and r5 (to the practice) has no pass.
    page = client_as("clinician").get("/referrers/rf3").get_data(as_text=True)
    assert "/referrers/rf3/handoff" not in page and "/referrals/r5/pass" not in page


# -- CSRF ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url,data", [
    ("/referrers/rf3/referrals/new", {"id": "r9", "date": "2024-06-10", "client_id": "cl1", "addressed_to": "cn1"}),
    ("/referrers/rf1/contacts/new", {"id": "k9", "date": "2024-06-10", "member_id": "cn1", "kind": "lunch"}),
    ("/clinicians/new", {"id": "cn9", "name": "Ida Wu"}),
    ("/referrals/r1/pass", {"to_clinician_id": "cn3", "reason": "specialty"}),
])
def test_a_post_without_the_csrf_token_is_400_and_writes_nothing(small, graph, client, web_accounts, url, data):
    before, audited = snapshot(graph), len(web_accounts.entries())
    for token in ({}, {"csrf_token": "not-a-token"}):
        answer = client.post(url, data={**data, **token})
        assert answer.status_code == 400
        assert "The CSRF token is missing." in text_of(answer) or "The CSRF token is invalid." in text_of(answer)
    assert snapshot(graph) == before
    assert len(web_accounts.entries()) == audited


# -- the writes -----------------------------------------------------------------------------------------


def test_a_referral_for_an_existing_client(small, graph, client, web_accounts):
    # rf1 sent both its referrals to its point person, cn1 (one passed on to cn3): stage 1.
    assert referrer_numbers(client, "rf1") == {"stage": "Stage 1", "referrals": "2", "breadth": "2", "reached": "2"}
    answer = post(client, "/referrers/rf1/referrals/new",
                  {"id": "r9", "date": "2024-06-10", "client_id": "cl3", "addressed_to": "cn2", "assigned_to": "",
                   "pass_reason": "", "needs": "", "population": "", "insurance": "", "schedule": "", "do": "save"})
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/referrers/rf1"
    assert cypher(graph, "MATCH (rf)-[:SENT]->(x:Referral {id: 'r9'})-[:FOR]->(c), (x)-[:ADDRESSED_TO]->(a), "
                         "(x)-[:ASSIGNED_TO]->(s) RETURN rf.id AS referrer, toString(x.date) AS date, c.id AS client, "
                         "a.id AS addressed, s.id AS assigned") == [
        {"referrer": "rf1", "date": "2024-06-10", "client": "cl3", "addressed": "cn2", "assigned": "cn2"}]
    assert last_audit(web_accounts) == {"action": "write referral", "user": "manager",
                                        "ids": ["r9", "rf1", "cl3", "cn2"]}
    # The page the user lands on shows it at once: a colleague tried (stage 2), one more clinician seen.
    text = text_of(client.get("/referrers/rf1"))
    assert "Recorded the referral of 2024-06-10 from Dr. Hale." in text
    assert "<td>2024-06-10</td><td>2 · trying colleagues</td><td>r9</td>" in text
    assert referrer_numbers(client, "rf1") == {"stage": "Stage 2", "referrals": "3", "breadth": "3", "reached": "3"}
    assert "Recorded the referral" not in text_of(client.get("/referrers/rf1"))  # said once


def test_the_referral_form_starts_addressed_as_the_referrer_usually_does(small, client):
    # rf1 is in stage 1 with cn1 as point person; rf3 referred to the practice as a whole (stage 3).
    assert value_of(client.get("/referrers/rf1/referrals/new").get_data(as_text=True), "addressed_to") == "cn1"
    assert value_of(client.get("/referrers/rf3/referrals/new").get_data(as_text=True), "addressed_to") == "practice"


def test_checking_the_fit_of_an_existing_client_uses_its_attributes(small, client):
    base = {"id": "", "date": "2024-06-10", "addressed_to": "cn1", "assigned_to": "", "pass_reason": "",
            "needs": "", "population": "", "insurance": "", "schedule": "", "do": "check"}
    page = text_of(post(client, "/referrers/rf1/referrals/new", {**base, "client_id": "cl3"}))
    # cl3: trauma, adult, aetna, weekend (the small fixture's clients.csv).
    assert "Client cl3: needs trauma · adult · aetna · weekend." in page
    described = text_of(post(client, "/referrers/rf1/referrals/new",
                             {**base, "needs": "trauma", "population": "adult", "insurance": "aetna",
                              "schedule": "weekend"}))
    def match_of(text):
        return text[text.index('<aside class="match"'):text.index("</aside>")]

    assert match_of(page) == match_of(described)  # the same match as the client described by hand
    unknown = text_of(post(client, "/referrers/rf1/referrals/new", {**base, "client_id": "cl99"}))
    assert ("No client 'cl99' in the graph: check the id, or leave it blank and describe a new client."
            in match_of(unknown))


def test_a_referral_with_a_new_client_inline_and_a_generated_id(small, graph, client, web_accounts):
    answer = post(client, "/referrers/rf3/referrals/new",
                  {"id": "", "date": "2024-06-10", "client_id": "", "needs": "trauma; depression",
                   "population": "adult", "insurance": "aetna", "schedule": "weekend", "addressed_to": "practice",
                   "assigned_to": "cn2", "pass_reason": "", "do": "save"})
    assert answer.status_code == 303, text_of(answer)
    entry = last_audit(web_accounts)
    referral_id, _, client_id, *rest = entry["ids"]
    assert re.fullmatch(r"ref-[a-z2-7]{10}", referral_id) and re.fullmatch(r"cl-[a-z2-7]{10}", client_id)
    assert entry["ids"] == [referral_id, "rf3", client_id, "practice", "cn2"]
    stored = cypher(graph, "MATCH (:Referral {id: $r})-[:FOR]->(c:Client {id: $id}) RETURN c.needs AS needs, "
                           "c.population AS population, c.insurance AS insurance, c.schedule AS schedule",
                    r=referral_id, id=client_id)
    assert stored == [{"needs": ["trauma", "depression"], "population": "adult", "insurance": "aetna",
                       "schedule": "weekend"}]
    text = text_of(client.get("/referrers/rf3"))
    assert (f"Recorded the referral of 2024-06-10 from Rev. Stone; its new client's id is {client_id} (for this "
            "client's later referrals).") in text
    assert referrer_numbers(client, "rf3")["referrals"] == "2"
    assert f"<td>{referral_id}</td>" in text


def test_check_fit_shows_the_match_and_writes_nothing(small, graph, client, web_accounts):
    before, audited = snapshot(graph), len(web_accounts.entries())
    data = {"id": "", "date": "2024-06-10", "client_id": "", "needs": "trauma", "population": "adult",
            "insurance": "aetna", "schedule": "", "addressed_to": "cn1", "assigned_to": "", "pass_reason": ""}
    answer = post(client, "/referrers/rf1/referrals/new", {**data, "do": "check"})
    assert answer.status_code == 200
    text = text_of(answer)
    assert "Ben Okafor fits better: pass for specialty?" in text
    assert checked_of(text, "needs") == ["trauma"] and value_of(text, "addressed_to") == "cn1"
    assert 'name="use" value="cn2:specialty">Assign to Ben Okafor (specialty)</button>' in text
    # "Assign to Ben Okafor" fills in the colleague and the reason; still nothing written.
    answer = post(client, "/referrers/rf1/referrals/new", {**data, "use": "cn2:specialty"})
    text = text_of(answer)
    assert (value_of(text, "assigned_to"), value_of(text, "pass_reason")) == ("cn2", "specialty")
    assert snapshot(graph) == before and len(web_accounts.entries()) == audited


def test_a_pass(small, graph, client_as, web_accounts):
    clinician = client_as("clinician")
    page = text_of(clinician.get("/referrals/r1/pass"))
    assert "r1 on 2023-02-01 from Dr. Hale" in page
    answer = post(clinician, "/referrals/r1/pass", {"to_clinician_id": "cn3", "reason": "specialty"})
    assert answer.status_code == 303 and answer.headers["Location"] == "/referrers/rf1"
    assert last_audit(web_accounts) == {"action": "write pass", "user": "clinician", "ids": ["r1", "rf1", "cn1", "cn3"]}
    text = text_of(clinician.get("/referrers/rf1"))
    assert "Passed Dr. Hale's referral of 2023-02-01 to Cleo Park (specialty)." in text
    assert "Passes</th><td>2 passes (2 for specialty)" in text


def test_an_introduction_and_a_contact_by_a_clinician(small, graph, client_as, web_accounts):
    clinician = client_as("clinician")
    form = contact_form = text_of(clinician.get("/referrers/rf3/contacts/new"))
    assert value_of(form, "member_id") == "cn1"  # itself, prefilled
    answer = post(clinician, "/referrers/rf3/contacts/new", {"id": "", "date": "2024-06-11", "member_id": "cn1",
                                                             "kind": "lunch"})
    assert answer.status_code == 303 and answer.headers["Location"] == "/referrers/rf3"
    contact = last_audit(web_accounts)
    assert contact["action"] == "write contact" and contact["ids"][1:] == ["rf3", "cn1"]
    assert re.fullmatch(r"con-[a-z2-7]{10}", contact["ids"][0])
    form = text_of(clinician.get("/referrers/rf3/introductions/new"))
    # A clinician records its own introductions and contacts: it is the only one offered, without a blank.
    assert re.findall(r'<option value="([^"]*)"', field_html(form, "by_id")) == ["cn1"]
    assert re.findall(r'<option value="([^"]*)"', field_html(contact_form, "member_id")) == ["cn1"]
    assert list(re.finditer(r'data-field="(\w+)"', form))[-1].group(1) == "id"  # the optional id comes last
    answer = post(clinician, "/referrers/rf3/introductions/new", {"id": "i9", "date": "2024-06-12",
                                                                  "introduced_id": "cn3", "by_id": "cn1"})
    assert answer.status_code == 303
    assert last_audit(web_accounts) == {"action": "write introduction", "user": "clinician",
                                        "ids": ["i9", "rf3", "cn3", "cn1"]}
    assert "Introductions · contacts</th><td>1 introduction · 2 contacts" in text_of(clinician.get("/referrers/rf3"))


def test_a_clinician_may_not_write_for_another(small, graph, client_as, web_accounts):
    clinician = client_as("clinician")
    before, audited = snapshot(graph), len(web_accounts.entries())
    for url, data, reason in (
        ("/referrers/rf3/contacts/new", {"date": "2024-06-11", "member_id": "cn2", "kind": "lunch"},
         "A clinician may record only its own contacts; you are clinician cn1."),
        ("/referrers/rf3/introductions/new", {"date": "2024-06-11", "introduced_id": "cn3", "by_id": "cn2"},
         "A clinician may record only the introductions it makes; you are clinician cn1."),
        ("/referrals/r4/pass", {"to_clinician_id": "cn1", "reason": "specialty"},
         "A clinician may record passes only of referrals addressed to it; you are clinician cn1."),
        ("/referrers/rf3/handoff", {"to_clinician_id": "cn1", "date": "2024-06-11"},
         "A clinician may hand over only referrers it is the point person of; you are clinician cn1."),
    ):
        token = csrf_token_of(clinician.get("/").get_data(as_text=True))
        answer = clinician.post(url, data={**data, "csrf_token": token})
        assert answer.status_code == 403, url
        assert reason in text_of(answer), url
    assert snapshot(graph) == before
    # Nothing written; only the refusals are audited, each with its reason.
    refusals = web_accounts.entries()[:len(web_accounts.entries()) - audited]
    assert [(e["action"], e["user"], e["detail"]["path"], e["detail"]["reason"]) for e in reversed(refusals)] == [
        ("refused", "clinician", url, reason) for url, reason in (
            ("/referrers/rf3/contacts/new", "A clinician may record only its own contacts; you are clinician cn1."),
            ("/referrers/rf3/introductions/new",
             "A clinician may record only the introductions it makes; you are clinician cn1."),
            ("/referrals/r4/pass",
             "A clinician may record passes only of referrals addressed to it; you are clinician cn1."),
            ("/referrers/rf3/handoff",
             "A clinician may hand over only referrers it is the point person of; you are clinician cn1."))]


def test_the_service_checks_a_clinicians_handoff_again(small, graph, app, client_as, web_accounts):
    """Between the page's check (on the analysis) and the write, another hand-over: the service's own
    check, inside the write's transaction, says no."""
    cache = app.extensions["insights"]
    cache.check_seconds = 3600  # the analysis is not told of the write below
    clinician = client_as("clinician")
    token = csrf_token_of(clinician.get("/referrers/rf1/handoff").get_data(as_text=True))
    service_of(graph).hand_over({"referrer_id": "rf1", "to_clinician_id": "cn2",
                                 "date": "2024-06-01"}, by=someone())  # behind the web's back
    before, audited = snapshot(graph), len(web_accounts.entries())
    answer = clinician.post("/referrers/rf1/handoff", data={"csrf_token": token, "to_clinician_id": "cn3",
                                                             "date": "2024-06-10"})
    assert answer.status_code == 403
    assert ("A clinician may hand over only referrers it is the point person of; you are clinician cn1."
            in text_of(answer))
    assert snapshot(graph) == before
    # Only the refusal is audited: the service's own, so no action of the page's check is named.
    refusals = web_accounts.entries()[:len(web_accounts.entries()) - audited]
    assert [(e["action"], e["user"], e["detail"]) for e in refusals] == [
        ("refused", "clinician", {"method": "POST", "path": "/referrers/rf1/handoff", "reason":
                                  "A clinician may hand over only referrers it is the point person of; "
                                  "you are clinician cn1."})]


def test_a_handoff(small, graph, client_as, web_accounts):
    clinician = client_as("clinician")
    page = text_of(clinician.get("/referrers/rf1/handoff"))
    assert "The point person now is Ana Ruiz (cn1); the history is kept." in page
    answer = post(clinician, "/referrers/rf1/handoff", {"to_clinician_id": "cn2", "date": "2024-06-10"})
    assert answer.status_code == 303 and answer.headers["Location"] == "/referrers/rf1"
    assert last_audit(web_accounts) == {"action": "write handoff", "user": "clinician", "ids": ["rf1", "cn2", "cn1"]}
    text = text_of(clinician.get("/referrers/rf1"))
    assert "Dr. Hale handed over to Ben Okafor from 2024-06-10." in text
    assert "point person <b>Ben Okafor</b>" in text
    # Now it is cn2's: cn1 may hand it over no more.
    assert clinician.get("/referrers/rf1/handoff").status_code == 403


def test_a_referral_out_lists_the_providers_by_niche(small, graph, client, web_accounts):
    page = text_of(client.get("/referrers/rf2/referrals-out/new"))
    assert re.search(r"<td>forensic evaluation</td><td>County Forensic Services "
                     r"<span class=\"muted\">\(ep2\)</span></td>", page)
    assert re.search(r"<td>inpatient eating disorders</td><td>Riverside Eating Disorders Center", page)
    answer = post(client, "/referrers/rf2/referrals-out/new", {"id": "o9", "date": "2024-06-10", "client_id": "cl2",
                                                               "provider_id": "ep2", "niche": "neuropsych_testing"})
    assert answer.status_code == 303 and answer.headers["Location"] == "/referrers/rf2"
    assert last_audit(web_accounts) == {"action": "write referral_out", "user": "manager",
                                        "ids": ["o9", "rf2", "cl2", "ep2"]}
    assert ("Recorded the referral out to County Forensic Services for neuropsych testing (2024-06-10)."
            in text_of(client.get("/referrers/rf2")))


def test_add_and_change_a_referrer(small, graph, client, web_accounts):
    answer = post(client, "/referrers/new", {"id": "", "name": "Dr. Ode", "kind": "physician",
                                             "organization": "Ode Family Medicine", "point_person_id": "cn2",
                                             "since": "2024-05-01"})
    assert answer.status_code == 303
    new_id = answer.headers["Location"].rsplit("/", 1)[1]
    assert re.fullmatch(r"rfr-[a-z2-7]{10}", new_id)
    assert last_audit(web_accounts) == {"action": "write referrer", "user": "manager", "ids": [new_id, "cn2"]}
    text = text_of(client.get(f"/referrers/{new_id}"))
    assert "Saved referrer Dr. Ode." in text and "point person <b>Ben Okafor</b>" in text
    assert referrer_numbers(client, new_id) == {"stage": "Stage 0", "referrals": "0", "breadth": "0", "reached": "0"}
    edit = text_of(client.get(f"/referrers/{new_id}/edit"))
    assert (value_of(edit, "name"), value_of(edit, "kind"), value_of(edit, "since")) == ("Dr. Ode", "physician",
                                                                                        "2024-05-01")
    answer = post(client, f"/referrers/{new_id}/edit", {"name": "Dr. Ada Ode", "kind": "physician",
                                                        "organization": "Ode Clinic", "point_person_id": "cn2",
                                                        "since": "2024-05-01"})
    assert answer.status_code == 303
    assert "<h1>Dr. Ada Ode" in text_of(client.get(f"/referrers/{new_id}"))


def test_add_and_change_a_clinician_accepting_new_clients(small, graph, client, web_accounts):
    add_words(graph, needs=["ocd"])
    answer = post(client, "/clinicians/new", {"id": "cn9", "name": "Ida Wu", "specialties": "ocd; autism",
                                              "populations": ["child", "adult"], "insurances": "aetna",
                                              "schedule": ["weekend"], "accepting_new": "on"})
    assert answer.status_code == 303 and answer.headers["Location"] == "/clinicians/cn9/edit"
    assert last_audit(web_accounts) == {"action": "write clinician", "user": "manager", "ids": ["cn9"]}
    page = text_of(client.get("/clinicians/cn9/edit"))
    assert "Saved clinician Ida Wu." in page
    assert checked_of(page, "specialties") == ["autism", "ocd"]
    assert 'value="child" checked' in page and 'value="adult" checked' in page and 'value="accepting_new"' not in page
    assert re.search(r'name="accepting_new" value="on" checked', page)
    # No longer accepting new clients: the box left unticked.
    answer = post(client, "/clinicians/cn9/edit", {"name": "Ida Wu", "specialties": "ocd; autism",
                                                   "populations": ["child", "adult"], "insurances": "aetna",
                                                   "schedule": ["weekend"]})
    assert answer.status_code == 303
    stored = cypher(graph, "MATCH (c:Clinician {id: 'cn9'}) RETURN c.accepting_new AS a")
    assert stored == [{"a": False}]
    assert not re.search(r'name="accepting_new" value="on" checked', text_of(client.get("/clinicians/cn9/edit")))
    # The analysis knows at once: the match now says Ida Wu is not accepting.
    check = post(client, "/referrers/rf1/referrals/new", {"needs": "ocd", "population": "adult", "addressed_to":
                                                          "practice", "do": "check"})
    assert "Ida Wu</b> <span class=\"muted\">cn9 · fit" in check.get_data(as_text=True)
    assert "cannot take the client" in text_of(check)


def test_add_staff_and_a_provider_with_generated_ids(small, graph, client, web_accounts):
    add_words(graph, niches=["sleep_study"])
    answer = post(client, "/staff/new", {"id": "", "name": "Fay Ng", "role": "billing"})
    assert answer.status_code == 303
    staff_id = answer.headers["Location"].split("/")[2]
    assert re.fullmatch(r"st-[a-z2-7]{10}", staff_id)
    assert last_audit(web_accounts) == {"action": "write staff", "user": "manager", "ids": [staff_id]}
    answer = post(client, "/providers/new", {"id": "", "name": "Hill Sleep Lab", "niches": "sleep_study"})
    assert answer.status_code == 303
    provider_id = answer.headers["Location"].split("/")[2]
    assert re.fullmatch(r"ep-[a-z2-7]{10}", provider_id)
    assert last_audit(web_accounts) == {"action": "write external_provider", "user": "manager",
                                        "ids": [provider_id]}
    assert "<td>sleep study</td><td>Hill Sleep Lab" in text_of(client.get("/referrers/rf1/referrals-out/new"))
    answer = post(client, "/staff/st1/edit", {"name": "Dee Lang", "role": "office_manager"})
    assert answer.status_code == 303 and answer.headers["Location"] == "/staff/st1/edit"
    assert value_of(text_of(client.get("/staff/st1/edit")), "role") == "office_manager"


# -- refused writes: the messages beside their fields, what was typed kept, nothing written ------------


def refused(graph, web_accounts, client, url, data):
    before, audited = snapshot(graph), len(web_accounts.entries())
    answer = post(client, url, data)
    assert answer.status_code == 422, text_of(answer)
    assert snapshot(graph) == before and len(web_accounts.entries()) == audited
    return answer.get_data(as_text=True)


def test_form_errors_keep_the_input_and_sit_beside_the_field(small, graph, client, web_accounts):
    page = refused(graph, web_accounts, client, "/referrers/rf3/referrals/new",
                   {"id": "r 9", "date": "2024-02-30", "client_id": "", "needs": "PTSD!", "population": "adult",
                    "insurance": "aetna", "schedule": "", "addressed_to": "cn1", "assigned_to": "", "pass_reason": "",
                    "do": "save"})
    # In words, beside each field (its label says which).
    assert messages_of(page, "id") == [
        "Use 1-64 letters, digits or _ . : - with no spaces, starting with a letter or digit (you typed 'r 9')."]
    assert messages_of(page, "date") == ["There is no such day as '2024-02-30'."]
    assert messages_of(page, "needs") == [
        "Use lowercase letters, digits and _ only, like eating_disorders (you typed 'PTSD!')."]
    assert (value_of(page, "id"), value_of(page, "date"), checked_of(page, "needs"), value_of(page, "population"),
            value_of(page, "addressed_to")) == ("r 9", "2024-02-30", ["PTSD!"], "adult", "cn1")
    assert 'type="text" value="2024-02-30" aria-invalid="true"' in field_html(page, "date")  # kept as typed
    assert 'type="date" value="2024-06-10"' in field_html(text_of(post(
        client, "/referrers/rf3/referrals/new", {"date": "2024-06-10", "do": "check"})), "date")


def test_unknown_references_land_on_their_fields(small, graph, client, web_accounts):
    page = refused(graph, web_accounts, client, "/referrers/rf2/referrals-out/new",
                   {"id": "o9", "date": "2024-06-10", "client_id": "cl99", "provider_id": "ep1",
                    "niche": "forensic_evaluation"})
    assert messages_of(page, "client_id") == ["There is no client 'cl99'."]
    assert messages_of(page, "niche") == [
        "Niche 'forensic_evaluation' is not one of provider 'ep1''s niches (inpatient_eating_disorders)"]
    assert value_of(page, "client_id") == "cl99"


def test_a_taken_id_is_refused_not_overwritten(small, graph, client, web_accounts):
    page = refused(graph, web_accounts, client, "/clinicians/new", {"id": "cn1", "name": "Someone Else"})
    assert messages_of(page, "id") == ["Clinician 'cn1' already exists."]
    assert value_of(page, "name") == "Someone Else"
    page = refused(graph, web_accounts, client, "/referrers/rf3/contacts/new",
                   {"id": "k1", "date": "2024-06-10", "member_id": "cn2", "kind": "talk"})
    assert messages_of(page, "id") == ["Contact 'k1' already exists."]


def test_a_refused_pass_and_handoff(small, graph, client, web_accounts):
    page = refused(graph, web_accounts, client, "/referrals/r1/pass", {"to_clinician_id": "st1", "reason": ""})
    assert messages_of(page, "reason") == ["Choose why it is passed."]
    page = refused(graph, web_accounts, client, "/referrers/rf1/handoff", {
        "to_clinician_id": "cn1", "date": "2024-06-10"})
    assert messages_of(page, "to_clinician_id") == ["Ana Ruiz already holds the role."]
    page = refused(graph, web_accounts, client, "/referrers/rf1/handoff", {
        "to_clinician_id": "cn2", "date": "2022-01-01"})
    assert messages_of(page, "date") == ["2022-01-01 is not after the current tenure's start 2023-01-10."]
    # A referral to the practice cannot be passed: said beside the reason, nothing written.
    page = refused(graph, web_accounts, client, "/referrals/r5/pass", {"to_clinician_id": "cn1", "reason": "other"})
    assert messages_of(page, "reason") == ["A referral addressed to the practice is assigned, not passed."]


def test_a_referral_needs_a_client(small, graph, client, web_accounts):
    page = refused(graph, web_accounts, client, "/referrers/rf3/referrals/new",
                   {"date": "2024-06-10", "client_id": "cl1", "needs": "adhd", "addressed_to": "practice",
                    "assigned_to": "cn1", "do": "save"})
    assert messages_of(page, "client_id") == ["Give an existing client's id or describe a new client, not both."]
    page = refused(graph, web_accounts, client, "/referrers/rf3/referrals/new",
                   {"date": "2024-06-10", "addressed_to": "practice", "assigned_to": "cn1", "do": "save"})
    assert messages_of(page, "client_id") == ["Give an existing client's id, or describe a new client below."]


def test_the_client_is_picked_by_what_it_needs_and_a_blank_choice_says_which(small, graph, client, web_accounts):
    form = text_of(client.get("/referrers/rf1/referrals/new"))
    # rf1's clients, the most recently referred first, each told by its id and attributes (no name is stored).
    options = re.findall(r'<option value="(cl\d)">([^<]*)</option>', field_html(form, "client_id"))
    assert options[0][0] == "cl4" and options[-1][0] == "cl1" and len(options) == 2
    assert all("last referred" in label for _, label in options)
    page = refused(graph, web_accounts, client, "/referrals/r1/pass", {"to_clinician_id": "", "reason": ""})
    assert messages_of(page, "to_clinician_id") == ["Choose the clinician to pass this referral to."]


def test_the_place_of_each_message():
    from graphsvc.web.forms import Field, place

    fields = [Field("date", "Date"), Field("member_id", "Member"), Field("kind", "Kind")]
    assert place(["unknown member_id 'cn9'", "field 'kind': must be one of 'lunch', 'talk'",
                  "unknown referrer_id 'rf9'", "date 2020-01-01 is not after the referrer's since date 2021-01-01"],
                 fields) == ({"member_id": ["unknown member_id 'cn9'"],
                              "kind": ["field 'kind': must be one of 'lunch', 'talk'"],
                              "date": ["date 2020-01-01 is not after the referrer's since date 2021-01-01"]},
                             ["unknown referrer_id 'rf9'"])


def test_the_forms_work_without_javascript():
    from pathlib import Path

    folder = Path(auth.__file__).parent / "templates" / "record"
    for path in folder.glob("*.html"):
        assert "<script" not in path.read_text(), path


def test_intake_records_a_referral_and_a_pass(small, graph, client_as, web_accounts):
    intake = client_as("intake")
    answer = post(intake, "/referrers/rf2/referrals/new", {"id": "r10", "date": "2024-07-01", "client_id": "cl2",
                                                           "addressed_to": "st1", "assigned_to": "cn1", "do": "save"})
    assert answer.status_code == 303 and answer.headers["Location"] == "/referrers/rf2"
    assert last_audit(web_accounts) == {"action": "write referral", "user": "intake",
                                        "ids": ["r10", "rf2", "cl2", "st1", "cn1"]}
    answer = post(intake, "/referrals/r4/pass", {"to_clinician_id": "cn1", "reason": "scheduling"})
    assert answer.status_code == 303 and answer.headers["Location"] == "/referrers/rf2"
    assert last_audit(web_accounts) == {"action": "write pass", "user": "intake", "ids": ["r4", "rf2", "cn2", "cn1"]}
    assert cypher(graph, "MATCH (:Referral {id: 'r4'})-[:ASSIGNED_TO]->(c) RETURN c.id AS c") == [{"c": "cn1"}]
