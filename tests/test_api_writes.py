"""The writes, from the Python API and as JSON (graphsvc.web.api_writes): generated ids, a referral's new
client, who may write what, refusals changing nothing, the audit log, concurrent callers, and no secret in
the graph."""

from __future__ import annotations

import re
import threading
from datetime import date

import pytest

from graphsvc.errors import Forbidden, InvalidInput, NotFound
from graphsvc.limits import ID_PATTERN
from tests.conftest import USERS
from tests.helpers import TEST_QUERIES, add_words, clinician, service_of, snapshot, someone

ROLES = tuple(USERS)


@pytest.fixture(autouse=True)
def words_the_writes_use(request):
    """The words these writes use beyond the small fixture's, on the practice's vocabularies (a manager
    added them): the vocabularies' own rules are tested in tests/test_vocabularies.py."""
    if "graph" in request.fixturenames:
        add_words(request.getfixturevalue("graph"), needs=["ocd", "grief"], niches=["dbt", "tms"])


@pytest.fixture
def manager(as_role):
    return as_role("manager")


def generated(value: str, prefix: str) -> bool:
    return value.startswith(prefix) and len(value) == len(prefix) + 10 and bool(re.fullmatch(ID_PATTERN, value))


def rows(graph, name: str, **where) -> list[dict]:
    return [r for r in graph.read(name) if all(r[k] == v for k, v in where.items())]


# -- the store: generated ids, a new client, the acting clinician ---------------------------------------


def test_the_store_makes_ids_when_none_is_given(small):
    referral = service_of(small).record_referral({"date": "2024-07-01", "referrer_id": "rf1", "client_id": "cl1",
                                                  "addressed_to": "cn1"}, by=someone())
    assert generated(referral["id"], "ref-")
    assert rows(small, "export_referrals", id=referral["id"])[0]["client_id"] == "cl1"
    made = {
        "int-": service_of(small).record_introduction({"date": "2024-07-02", "referrer_id": "rf3",
                                                       "introduced_id": "cn1", "by_id": "cn2"}, by=someone()),
        "con-": service_of(small).record_contact({"date": "2024-07-03", "referrer_id": "rf3", "member_id": "cn2",
                                                  "kind": "talk"}, by=someone()),
        "out-": service_of(small).record_referral_out({"date": "2024-07-04", "referrer_id": "rf2", "client_id": "cl6",
                                                       "provider_id": "ep1",
                                                       "niche": "inpatient_eating_disorders"}, by=someone()),
        "cn-": service_of(small).save("clinician", {"name": "Ida Wu"}, by=someone()),
        "st-": service_of(small).save("staff", {"name": "Max Bell", "role": "office_manager"}, by=someone()),
        "ep-": service_of(small).save("external_provider", {"name": "Hill Clinic", "niches": ["dbt"]}, by=someone()),
        "cl-": service_of(small).save("client", {"needs": ["ocd"]}, by=someone()),
        "rfr-": service_of(small).save("referrer", {"name": "Dr. Ode", "kind": "physician", "point_person_id": "cn1",
                                                    "since": "2024-01-02"}, by=someone()),
    }
    for prefix, row in made.items():
        assert generated(row["id"], prefix), (prefix, row)
    assert rows(small, "export_staff", id=made["st-"]["id"]) == [
        {"id": made["st-"]["id"], "name": "Max Bell", "role": "office_manager", "npi": None}]
    assert len({r["id"] for r in made.values()} | {referral["id"]}) == 9


def test_a_generated_id_that_clashes_is_tried_again(small, monkeypatch):
    from graphsvc import service as records  # where the service makes its ids (records.new_id)

    made = iter(["ref-aaaaaaaaaa", "ref-aaaaaaaaaa", "ref-bbbbbbbbbb"])
    monkeypatch.setattr(records, "new_id", lambda kind: next(made))
    args = dict(date="2024-07-01", referrer_id="rf1", client_id="cl1", addressed_to="cn1")
    assert service_of(small).record_referral({**args}, by=someone())["id"] == "ref-aaaaaaaaaa"
    assert service_of(small).record_referral({**args}, by=someone())["id"] == "ref-bbbbbbbbbb"  # the second try
    monkeypatch.setattr(records, "new_id", lambda kind: "ref-aaaaaaaaaa")
    before = snapshot(small)
    with pytest.raises(Exception, match="could not find a free id for a new referral in 5 tries"):
        service_of(small).record_referral({**args}, by=someone())
    assert snapshot(small) == before


def test_an_explicit_id_is_kept_and_refused_when_taken(small):
    assert service_of(small).record_contact({"id": "k9", "date": "2024-07-03", "referrer_id": "rf3", "member_id": "cn2",
                                             "kind": "talk"}, by=someone())["id"] == "k9"
    before = snapshot(small)
    with pytest.raises(InvalidInput) as caught:
        service_of(small).save("staff", {"id": "st1", "name": "Dee Lang", "role": "office_manager"}, by=someone())
    assert caught.value.problems == ["field 'id': Staff member 'st1' already exists"]
    with pytest.raises(NotFound) as caught:
        service_of(small).save("staff", {"name": "Dee Lang", "role": "office_manager"}, by=someone(), record_id="st9")
    assert caught.value.problems == ["field 'id': unknown staff 'st9'"]
    with pytest.raises(InvalidInput) as caught:  # a clinician's id is not a new staff member's
        service_of(small).save("staff", {"id": "cn1", "name": "Dee Lang", "role": "office_manager"}, by=someone())
    assert caught.value.problems == [
        "field 'id': 'cn1' is already a clinician's id; a staff member needs an id of its own"]
    assert snapshot(small) == before
    assert service_of(small).save("staff", {"name": "Dee Lang", "role": "office_manager"}, by=someone(),
                                  record_id="st1")["id"] == "st1"


def test_a_referral_with_a_new_client(small):
    out = service_of(small).record_referral({
        "date": "2024-07-01", "referrer_id": "rf1", "addressed_to": "cn1",
        "client": {"needs": ["ocd", "adhd"], "population": "child", "insurance": "medicaid"}}, by=someone())
    assert generated(out["id"], "ref-") and generated(out["client_id"], "cl-")
    assert out == {"id": out["id"], "date": date(2024, 7, 1), "referrer_id": "rf1", "client_id": out["client_id"],
                   "addressed_to": "cn1", "assigned_to": "cn1", "pass_reason": None, "consent_to_update": "unknown"}
    assert rows(small, "export_clients", id=out["client_id"]) == [
        {"id": out["client_id"], "needs": ["ocd", "adhd"], "population": "child", "insurance": "medicaid",
         "schedule": None}]


@pytest.mark.parametrize("fields, error, problems", [
    (dict(client_id="cl1", client={"needs": ["ocd"]}), InvalidInput,
     ["field 'client_id': give either client_id (a stored client) or client (a new client's needs, population, "
      "insurance and schedule), not both"]),
    (dict(), InvalidInput, ["field 'client_id': is required (or client: a new client's needs, population, "
                            "insurance and schedule)"]),
    (dict(client={"needs": "OCD", "name": "Jo"}), InvalidInput,
     ["field 'client.needs': must be a list (got 'OCD')",
      "field 'client.name': is not a known field"]),
    (dict(client={"id": "cl9"}), InvalidInput,
     ["field 'client.id': is not a known field (a new client's id is generated)"]),
    (dict(client={"needs": ["ocd"]}, referrer_id="rf404"), NotFound, ["unknown referrer_id 'rf404'"]),
    (dict(client={"needs": ["ocd"]}, id="r1"), InvalidInput, ["field 'id': Referral 'r1' already exists"]),
])
def test_a_refused_referral_leaves_no_client_behind(small, fields, error, problems):
    args = {"date": "2024-07-01", "referrer_id": "rf1", "addressed_to": "cn1", **fields}
    before = snapshot(small)
    with pytest.raises(error) as caught:
        service_of(small).record_referral({**args}, by=someone())
    assert caught.value.problems == problems
    assert snapshot(small) == before


def test_the_acting_clinician_is_checked_in_the_writing_transaction(small):
    before = snapshot(small)
    with pytest.raises(Forbidden, match=r"^A clinician may record passes only of referrals addressed to it; "
                                        r"you are clinician cn1\.$"):
        service_of(small).pass_referral({"referral_id": "r4", "to_clinician_id": "cn1",
                                         "reason": "scheduling"}, by=clinician("cn1"))
    with pytest.raises(Forbidden, match=r"^A clinician may hand over only referrers it is the point person of; "
                                        r"you are clinician cn1\.$"):
        service_of(small).hand_over({"referrer_id": "rf2", "to_clinician_id": "cn3",
                                     "date": "2024-12-01"}, by=clinician("cn1"))
    assert snapshot(small) == before
    assert service_of(small).pass_referral({"referral_id": "r1", "to_clinician_id": "cn2",
                                            "reason": "scheduling"}, by=clinician("cn1"))["assigned_to"] == "cn2"
    assert service_of(small).hand_over({"referrer_id": "rf1", "to_clinician_id": "cn2",
                                        "date": "2024-12-01"}, by=clinician("cn1"))["previous"] == "cn1"
    # Now cn2 holds rf1: cn1 may no longer hand it over.
    with pytest.raises(Forbidden):
        service_of(small).hand_over({"referrer_id": "rf1", "to_clinician_id": "cn3",
                                     "date": "2024-12-02"}, by=clinician("cn1"))


# -- the JSON API: each write -------------------------------------------------------------------------


def test_post_a_referral_with_an_id_and_see_it(small, manager):
    referrals = manager.get("/api/referrers/rf1").get_json()["metrics"]["referrals"]
    answer = manager.post("/api/referrals", json={"id": "r20", "date": "2024-07-01", "referrer_id": "rf1",
                                                  "client_id": "cl1", "addressed_to": "cn1"})
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json() == {"id": "r20", "date": "2024-07-01", "referrer_id": "rf1", "client_id": "cl1",
                                 "addressed_to": "cn1", "assigned_to": "cn1", "pass_reason": None,
                                 "consent_to_update": "unknown"}
    assert small.read("referral_parties", catalog=TEST_QUERIES, id="r20") == [
        {"id": "r20", "addressed_to": "cn1", "addressed_kind": "clinician", "assigned_to": "cn1",
         "pass_reason": None}]
    # This worker's analysis shows it at once.
    assert manager.get("/api/referrers/rf1").get_json()["metrics"]["referrals"] == referrals + 1


def test_post_a_referral_with_a_new_client(small, manager):
    answer = manager.post("/api/referrals", json={
        "date": "2024-07-01", "referrer_id": "rf3", "addressed_to": "practice", "assigned_to": "cn2",
        "client": {"needs": ["grief"], "population": "adult", "schedule": "weekend"}})
    assert answer.status_code == 201, answer.get_json()
    body = answer.get_json()
    assert generated(body["id"], "ref-") and generated(body["client_id"], "cl-")
    assert body == {"id": body["id"], "date": "2024-07-01", "referrer_id": "rf3", "client_id": body["client_id"],
                    "addressed_to": "practice", "assigned_to": "cn2", "pass_reason": None,
                    "consent_to_update": "unknown"}
    assert rows(small, "export_clients", id=body["client_id"]) == [
        {"id": body["client_id"], "needs": ["grief"], "population": "adult", "insurance": None,
         "schedule": "weekend"}]
    assert manager.get("/api/referrers/rf3").get_json()["metrics"]["referrals"] == 2


def test_post_each_event(small, manager):
    answer = manager.post("/api/passes", json={"referral_id": "r1", "to_clinician_id": "cn2", "reason": "scheduling"})
    assert (answer.status_code, answer.get_json()) == (
        201, {"id": "r1", "referrer_id": "rf1", "addressed_to": "cn1", "assigned_to": "cn2",
              "pass_reason": "scheduling"})
    answer = manager.post("/api/introductions", json={"date": "2024-08-01", "referrer_id": "rf3",
                                                      "introduced_id": "cn1", "by_id": "cn2"})
    body = answer.get_json()
    assert answer.status_code == 201 and generated(body["id"], "int-")
    assert body == {"id": body["id"], "date": "2024-08-01", "referrer_id": "rf3", "introduced_id": "cn1",
                    "by_id": "cn2"}
    answer = manager.post("/api/contacts", json={"id": "k9", "date": "2024-08-02", "referrer_id": "rf3",
                                                 "member_id": "cn1", "kind": "case_consult"})
    assert (answer.status_code, answer.get_json()) == (201, {"id": "k9", "date": "2024-08-02", "referrer_id": "rf3",
                                                             "member_id": "cn1", "kind": "case_consult",
                                                             "covers": []})
    answer = manager.post("/api/referrals-out", json={"id": "o9", "date": "2024-08-03", "referrer_id": "rf3",
                                                      "client_id": "cl3", "provider_id": "ep2",
                                                      "niche": "forensic_evaluation"})
    assert (answer.status_code, answer.get_json()["id"]) == (201, "o9")
    answer = manager.post("/api/handoffs", json={"referrer_id": "rf3", "to_clinician_id": "cn1", "date": "2024-09-01"})
    assert (answer.status_code, answer.get_json()) == (
        201, {"referrer_id": "rf3", "point_person_id": "cn1", "since": "2024-09-01", "previous": "cn2"})
    rf3 = manager.get("/api/referrers/rf3").get_json()
    assert (rf3["metrics"]["introductions"], rf3["metrics"]["contacts"], rf3["metrics"]["point_person"]) == (
        1, 2, "cn1")
    assert rows(small, "export_introductions", id=body["id"])[0]["by_id"] == "cn2"
    assert rows(small, "export_referrals_out", id="o9")[0]["provider_id"] == "ep2"
    assert small.read("referral_parties", catalog=TEST_QUERIES, id="r1")[0]["assigned_to"] == "cn2"


@pytest.mark.parametrize("collection, kind, prefix, body, change", [
    ("clinicians", "clinicians", "cn-",
     {"name": "Ida Wu", "specialties": ["ocd"], "populations": ["adult"], "insurances": ["aetna"],
      "schedule": ["weekend"], "accepting_new": False},
     {"name": "Ida Wu-Lee", "specialties": ["ocd", "grief"]}),
    ("staff", "staff", "st-", {"name": "Max Bell", "role": "office_manager"},
     {"name": "Max Bell", "role": "intake_coordinator"}),
    ("providers", "external_providers", "ep-", {"name": "Hill Clinic", "niches": ["dbt"]},
     {"name": "Hill Clinic", "niches": ["dbt", "tms"]}),
    ("referrers", "referrers", "rfr-", {"name": "Dr. Ode", "kind": "physician", "organization": "Ode Medicine",
                                        "point_person_id": "cn2", "since": "2024-01-02"},
     {"name": "Dr. Ode", "kind": "physician", "point_person_id": "cn2", "since": "2024-01-02"}),
])
def test_add_and_change(small, manager, collection, kind, prefix, body, change):
    answer = manager.post(f"/api/{collection}", json=body)
    assert answer.status_code == 201, answer.get_json()
    made = answer.get_json()
    new = made["id"]
    assert generated(new, prefix)
    assert {k: made[k] for k in body} == body
    stored = rows(small, f"export_{kind}", id=new)
    assert len(stored) == 1 and {k: str(stored[0][k]) if k == "since" else stored[0][k] for k in body} == body
    answer = manager.put(f"/api/{collection}/{new}", json=change)
    assert answer.status_code == 200, answer.get_json()
    assert {k: answer.get_json()[k] for k in change} == change
    stored = rows(small, f"export_{kind}", id=new)
    assert {k: str(stored[0][k]) if k == "since" else stored[0][k] for k in change} == change
    # A taken id is a 400 "already exists"; an unknown one to change a 404; an id in a PUT body is refused.
    before = snapshot(small)
    answer = manager.post(f"/api/{collection}", json={**body, "id": new})
    assert (answer.status_code, answer.get_json()["problems"]) == (400, [f"field 'id': {_label(kind)} {new!r} "
                                                                         "already exists"])
    answer = manager.put(f"/api/{collection}/nobody9", json=change)
    assert answer.status_code == 404 and "'nobody9'" in answer.get_json()["error"]
    answer = manager.put(f"/api/{collection}/{new}", json={**change, "id": "other"})
    assert (answer.status_code, answer.get_json()["problems"]) == (400, ["field 'id': is not a known field"])
    assert manager.put(f"/api/{collection}/no%20such", json=change).status_code == 404
    assert snapshot(small) == before


def _label(kind: str) -> str:
    return {"clinicians": "Clinician", "staff": "Staff member", "external_providers": "Outside provider",
            "referrers": "Referrer"}[kind]


def test_a_referrer_added_through_the_api_is_served(small, manager):
    made = manager.post("/api/referrers", json={"id": "rf9", "name": "Dr. Ode", "kind": "physician",
                                                "point_person_id": "cn2", "since": "2024-01-02"})
    assert made.status_code == 201
    got = manager.get("/api/referrers/rf9").get_json()
    assert (got["id"], got["name"], got["stage"], got["metrics"]["point_person"]) == ("rf9", "Dr. Ode", 0, "cn2")


# -- bad bodies: 400 naming the field, nothing written ------------------------------------------------


@pytest.mark.parametrize("path, body, problems", [
    ("/api/contacts", {"date": "2024-08-02", "referrer_id": "rf3", "member_id": "cn1", "kind": "golf"},
     ["field 'kind': 'golf' is not on the practice's list of contact kinds (a manager can add it under Settings, "
      "Vocabularies)"]),
    ("/api/contacts", {"date": "2024-08-02", "referrer_id": " rf3", "member_id": "cn1", "kind": "talk"},
     ["field 'referrer_id': must not start or end with spaces (got ' rf3')"]),
    ("/api/contacts", {"date": 20240802, "referrer_id": "rf3", "member_id": None, "kind": "talk", "x": 1},
     ["field 'date': must be a date in the form YYYY-MM-DD (got 20240802)", "field 'member_id': must be text "
      "(got None)", "field 'x': is not a known field"]),
    ("/api/clinicians", {"name": "Ida", "specialties": "ocd;grief", "accepting_new": "false"},
     ["field 'specialties': must be a list (got 'ocd;grief')",  # in the request model's order
      "field 'accepting_new': must be true or false (got 'false')"]),
    ("/api/clinicians", {"name": "Ida", "mode": "update"}, ["field 'mode': is not a known field"]),
    ("/api/referrals", {"date": "2024-07-01", "referrer_id": "rf1", "addressed_to": "cn1", "client": {"needs": "ocd"}},
     ["field 'client.needs': must be a list (got 'ocd')"]),
    ("/api/referrals", {"date": "2024-07-01", "referrer_id": "rf1", "addressed_to": "cn1", "pass_reason": ""},
     ["field 'pass_reason': must not be empty (leave the field out for none)"]),
    ("/api/passes", {"referral_id": "r1", "to_clinician_id": "cn2"}, ["field 'reason': is required"]),
    ("/api/passes", {"referral_id": "r5", "to_clinician_id": "cn1", "reason": "insurance"},
     ["field 'reason': a referral addressed to the practice is assigned, not passed"]),
    ("/api/handoffs", {"referrer_id": "rf2", "to_clinician_id": "cn2", "date": "2025-02-01"},
     ["field 'to_clinician_id': 'cn2' already holds the role"]),
    ("/api/referrals-out", {"date": "2024-08-03", "referrer_id": "rf3", "client_id": "cl3", "provider_id": "ep1",
                            "niche": "forensic_evaluation"},
     ["niche 'forensic_evaluation' is not one of provider 'ep1''s niches (inpatient_eating_disorders)"]),
    ("/api/introductions", {"date": "2099-08-01", "referrer_id": "rf3", "introduced_id": "cn1", "by_id": "cn2"},
     ["field 'date': 2099-08-01 is in the future"]),
    ("/api/introductions", {"date": "2024-08-01", "referrer_id": "rf3", "introduced_id": "cn2", "by_id": "cn2"},
     ["field 'introduced_id': a member cannot introduce themself"]),  # the record's rule, once (records.py)
    ("/api/staff", ["not", "an", "object"], ["the body must be a JSON object with the fields id, name, role and npi"]),
])
def test_a_bad_body_is_a_400_naming_the_field_and_writes_nothing(small, manager, web_accounts, path, body, problems):
    before, audited = snapshot(small), len(web_accounts.entries())
    answer = manager.post(path, json=body)
    assert (answer.status_code, answer.get_json()["problems"]) == (400, problems)
    assert snapshot(small) == before
    assert len(web_accounts.entries()) == audited


@pytest.mark.parametrize("path, body, error", [
    ("/api/contacts", {"date": "2024-08-02", "referrer_id": "rf404", "member_id": "cn1", "kind": "talk"},
     "unknown referrer_id 'rf404'"),
    ("/api/passes", {"referral_id": "r404", "to_clinician_id": "cn2", "reason": "insurance"},
     "field 'referral_id': unknown referral 'r404'"),
    ("/api/handoffs", {"referrer_id": "rf404", "to_clinician_id": "cn2", "date": "2024-12-01"},
     "field 'referrer_id': unknown referrer 'rf404'"),
    ("/api/referrals", {"date": "2024-07-01", "referrer_id": "rf1", "addressed_to": "cn1", "client_id": "cl404"},
     "unknown client_id 'cl404'"),
])
def test_an_unknown_reference_is_a_404_and_writes_nothing(small, manager, path, body, error):
    before = snapshot(small)
    answer = manager.post(path, json=body)
    assert (answer.status_code, answer.get_json()["error"]) == (404, error)
    assert snapshot(small) == before


def test_bodies_are_limited_and_must_be_json(small, manager):
    assert manager.post("/api/staff", data="name=x", content_type="application/x-www-form-urlencoded"
                        ).status_code == 400
    answer = manager.post("/api/staff", json={"name": "x" * 70_000, "role": "office_manager"})
    assert answer.status_code == 413
    assert manager.post("/api/staff?refresh=1", json={"name": "Max", "role": "office_manager"}).status_code == 400


# -- who may write what -------------------------------------------------------------------------------

# Each write with a body that succeeds for a user allowed to make it (the clinician is cn1).
WRITES = [
    ("post", "/api/referrals", "record_referral",
     {"date": "2024-07-01", "referrer_id": "rf1", "client_id": "cl1", "addressed_to": "cn1"}),
    ("post", "/api/passes", "record_pass", {"referral_id": "r1", "to_clinician_id": "cn2", "reason": "scheduling"}),
    ("post", "/api/introductions", "record_introduction",
     {"date": "2024-08-01", "referrer_id": "rf3", "introduced_id": "cn2", "by_id": "cn1"}),
    ("post", "/api/contacts", "record_contact",
     {"date": "2024-08-02", "referrer_id": "rf3", "member_id": "cn1", "kind": "talk"}),
    ("post", "/api/referrals-out", "record_referral_out",
     {"date": "2024-08-03", "referrer_id": "rf3", "client_id": "cl3", "provider_id": "ep2",
      "niche": "forensic_evaluation"}),
    ("post", "/api/handoffs", "hand_over", {"referrer_id": "rf1", "to_clinician_id": "cn3", "date": "2024-12-01"}),
    ("post", "/api/referrers", "save_referrer",
     {"name": "Dr. Ode", "kind": "physician", "point_person_id": "cn1", "since": "2024-01-02"}),
    ("put", "/api/referrers/rf3", "save_referrer",
     {"name": "Rev. Stone", "kind": "clergy", "point_person_id": "cn2", "since": "2024-02-01"}),
    ("post", "/api/clinicians", "save_clinician", {"name": "Ida Wu"}),
    ("put", "/api/clinicians/cn3", "save_clinician", {"name": "Cleo Park", "accepting_new": True}),
    ("post", "/api/staff", "save_staff", {"name": "Max Bell", "role": "office_manager"}),
    ("put", "/api/staff/st2", "save_staff", {"name": "Eli Moss", "role": "intake_coordinator"}),
    ("post", "/api/providers", "save_provider", {"name": "Hill Clinic", "niches": ["dbt"]}),
    ("put", "/api/providers/ep1", "save_provider", {"name": "Riverside", "niches": ["inpatient_eating_disorders"]}),
]
ALLOWED = {"manager": {w[2] for w in WRITES}, "intake": {"record_referral", "record_pass"},
           "clinician": {"record_pass", "record_introduction", "record_contact", "hand_over"}, "analyst": set()}


def test_every_write_has_a_row_here(app):
    from graphsvc.web.api_writes import VIEWS

    rules = {(r.rule, m.lower()) for r in app.url_map.iter_rules() if r.endpoint.rpartition(".")[2] in VIEWS
             for m in r.methods if m in ("POST", "PUT")}
    assert {(re.sub(r"/(rf3|cn3|st2|ep1)$", "/<record_id>", path), method) for method, path, _, _ in WRITES} == rules


@pytest.mark.parametrize("role", ROLES)
def test_every_write_by_every_role(small, as_role, web_accounts, role):
    client = as_role(role)
    for method, path, action, body in WRITES:
        before, audited = snapshot(small), len(web_accounts.entries())
        answer = getattr(client, method)(path, json=body)
        if action in ALLOWED[role]:
            assert answer.status_code == (200 if method == "put" else 201), (path, answer.get_json())
            entry = web_accounts.entries(limit=1)[0]
            assert (entry["user"], entry["action"]) == (role, "write " + _kind(path))
            assert answer.get_json().get("id", answer.get_json().get("referrer_id")) in entry["ids"]
            assert snapshot(small) != before
        else:
            assert answer.status_code == 403, (role, path, answer.get_json())
            assert answer.get_json()["error"].startswith(("Only a manager", "Only a manager, intake",
                                                          "A clinician may")), answer.get_json()
            assert snapshot(small) == before
            # Nothing written; only the refusal is audited.
            refusals = web_accounts.entries()[:len(web_accounts.entries()) - audited]
            assert [(e["action"], e["user"], e["detail"]["method"], e["detail"]["path"], e["detail"]["reason"])
                    for e in refusals] == [("refused", role, method.upper(), path, answer.get_json()["error"])]


def _kind(path: str) -> str:
    collection = path.split("/")[2]
    return {"referrals": "referral", "passes": "pass", "introductions": "introduction", "contacts": "contact",
            "referrals-out": "referral_out", "handoffs": "handoff", "referrers": "referrer",
            "clinicians": "clinician", "staff": "staff", "providers": "external_provider"}[collection]


def test_writes_take_a_token_not_a_session_nor_nobody(small, client, anon):
    before = snapshot(small)
    for method, path, _, body in WRITES:
        answer = getattr(anon, method)(path, json=body)
        assert answer.status_code == 401, path
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")
        answer = getattr(client, method)(path, json=body)  # the manager's session cookie
        assert (answer.status_code, answer.get_json()) == (401, {"error": (
            "this endpoint takes an API token, not the session cookie: send 'Authorization: Bearer <token>' "
            "(`graphsvc token create`)")}), path
    assert snapshot(small) == before


def test_a_clinician_writes_only_its_own(small, as_role):
    cn1 = as_role("clinician")
    refused = [
        ("/api/contacts", {"date": "2024-08-02", "referrer_id": "rf3", "member_id": "cn2", "kind": "talk"},
         "A clinician may record only its own contacts; you are clinician cn1."),
        ("/api/introductions", {"date": "2024-08-01", "referrer_id": "rf3", "introduced_id": "cn1", "by_id": "cn2"},
         "A clinician may record only the introductions it makes; you are clinician cn1."),
        # Checked by the service in the write's transaction, with the referral or referrer as stored then.
        ("/api/passes", {"referral_id": "r4", "to_clinician_id": "cn1", "reason": "insurance"},
         "A clinician may record passes only of referrals addressed to it; you are clinician cn1."),
        ("/api/passes", {"referral_id": "r5", "to_clinician_id": "cn1", "reason": "insurance"},
         "A clinician may record passes only of referrals addressed to it; you are clinician cn1."),
        ("/api/handoffs", {"referrer_id": "rf2", "to_clinician_id": "cn1", "date": "2024-12-01"},
         "A clinician may hand over only referrers it is the point person of; you are clinician cn1."),
        ("/api/handoffs", {"referrer_id": "rf3", "to_clinician_id": "cn3", "date": "2024-12-01"},
         "A clinician may hand over only referrers it is the point person of; you are clinician cn1."),
    ]
    before = snapshot(small)
    for path, body, error in refused:
        answer = cn1.post(path, json=body)
        assert (answer.status_code, answer.get_json()) == (403, {"error": error}), path
    assert snapshot(small) == before
    for path, body in (
            ("/api/contacts", {"date": "2024-08-02", "referrer_id": "rf3", "member_id": "cn1", "kind": "talk"}),
            ("/api/introductions", {"date": "2024-08-01", "referrer_id": "rf2", "introduced_id": "cn3",
                                    "by_id": "cn1"}),
            ("/api/passes", {"referral_id": "r3", "to_clinician_id": "cn3", "reason": "specialty"}),
            ("/api/handoffs", {"referrer_id": "rf1", "to_clinician_id": "cn2", "date": "2024-12-01"})):
        answer = cn1.post(path, json=body)
        assert answer.status_code == 201, (path, answer.get_json())
    # Having handed rf1 over, cn1 may not hand it over again.
    answer = cn1.post("/api/handoffs", json={"referrer_id": "rf1", "to_clinician_id": "cn3", "date": "2024-12-02"})
    assert answer.status_code == 403


# -- the audit log ------------------------------------------------------------------------------------


def test_each_write_is_audited_with_the_ids_it_touched(small, manager, web_accounts):
    made = manager.post("/api/referrals", json={"date": "2024-07-01", "referrer_id": "rf1", "addressed_to": "cn1",
                                                "client": {"needs": ["ocd"]}}).get_json()
    manager.post("/api/passes", json={"referral_id": made["id"], "to_clinician_id": "cn3", "reason": "specialty"})
    manager.post("/api/handoffs", json={"referrer_id": "rf1", "to_clinician_id": "cn2", "date": "2024-12-01"})
    manager.put("/api/staff/st2", json={"name": "Eli Moss", "role": "intake_coordinator"})
    manager.post("/api/contacts", json={"id": "k9", "date": "2024-08-02", "referrer_id": "rf3", "member_id": "cn1",
                                        "kind": "talk"})
    got = [(e["user"], e["action"], e["ids"]) for e in reversed(web_accounts.entries()) if e["action"] != "login"]
    # The same ids as the forms' (the service audits every write): the record's, then those it names.
    assert got == [
        ("manager", "write referral", [made["id"], "rf1", made["client_id"], "cn1"]),
        ("manager", "write pass", [made["id"], "rf1", "cn1", "cn3"]),
        ("manager", "write handoff", ["rf1", "cn2", "cn1"]),
        ("manager", "write staff", ["st2"]),
        ("manager", "write contact", ["k9", "rf3", "cn1"]),
    ]
    assert all(e["address"] == "127.0.0.1" for e in web_accounts.entries())


# -- concurrent callers -------------------------------------------------------------------------------


@pytest.mark.slow
def test_eight_clients_posting_referrals_at_once_record_each_exactly_once(small, app, web_accounts):
    import json
    import urllib.request

    from werkzeug.serving import make_server

    _, token = web_accounts.create_token("intake", "tests")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/api/referrals"
    per_client, clients = 12, 8
    start = threading.Barrier(clients)
    made: list[list[str]] = [[] for _ in range(clients)]
    failures: list = []

    def post(n: int) -> None:
        try:
            start.wait(timeout=30)
            for i in range(per_client):
                body = {"date": "2024-07-01", "referrer_id": ("rf1", "rf2", "rf3")[(n + i) % 3],
                        "addressed_to": "practice", "assigned_to": "cn2", "client": {"needs": ["ocd"]}}
                if i % 2:  # half with an explicit id, half with a generated one
                    body["id"] = f"t{n}-{i}"
                request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST", headers={
                    "Content-Type": "application/json", "Authorization": f"Bearer {token}"})
                with urllib.request.urlopen(request, timeout=60) as answer:
                    assert answer.status == 201
                    made[n].append(json.loads(answer.read())["id"])
        except Exception as e:  # reported below
            failures.append(e)

    threads = [threading.Thread(target=post, args=(n,)) for n in range(clients)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=240)
    finally:
        server.shutdown()
        thread.join(timeout=10)
    assert failures == []
    ids = [i for ids in made for i in ids]
    assert len(ids) == len(set(ids)) == clients * per_client
    stored = [r["id"] for r in small.read("export_referrals")]
    assert sorted(i for i in stored if not re.fullmatch(r"r[1-6]", i)) == sorted(ids)
    assert len(small.read("export_clients")) == 6 + clients * per_client
    assert len([e for e in web_accounts.entries() if e["action"] == "write referral"]) == clients * per_client


# -- no secret in the graph ---------------------------------------------------------------------------


def test_no_password_hash_or_token_is_in_the_graph(small, as_role, web_accounts, client, app):
    tokens = {role: web_accounts.create_token(role, "scan")[1] for role in ROLES}
    manager = as_role("manager")
    for method, path, _, body in WRITES:
        assert getattr(manager, method)(path, json=body).status_code in (200, 201), path
    assert manager.get("/api/practice/summary").status_code == 200
    assert client.get("/").status_code == 200
    found = small.read_tx(lambda tx: tx.run(
        "MATCH (n) RETURN properties(n) AS props UNION ALL MATCH ()-[r]->() RETURN properties(r) AS props").data())
    assert len(found) > 50
    texts = [str(v) for row in found for v in row["props"].values()] + [
        str(k) for row in found for k in row["props"]]
    hashes = web_accounts._read("SELECT password_hash FROM users", ())
    secrets = ["$argon2", "gst_", *tokens.values(), *(h["password_hash"] for h in hashes)]
    assert [(s, t) for t in texts for s in secrets if s in t] == []
    # Nor in the analysis served.
    from graphsvc.store.projection import project

    projected = repr(list(project(small).nodes(data=True))) + repr(list(project(small).edges(data=True)))
    assert [s for s in secrets if s in projected] == []
