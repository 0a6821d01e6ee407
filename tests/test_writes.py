"""The write service (``graphsvc.service``): each write, and each refusal leaving the graph unchanged."""

from __future__ import annotations

import threading
import time
from datetime import date

import pytest
from neo4j.exceptions import ConstraintError

from graphsvc.errors import Forbidden, InvalidInput, NotFound
from graphsvc.service import Actor
from tests.helpers import TEST_QUERIES, add_words, clinician, service_of, snapshot, someone


def refused(graph, error, write, *args, by=None) -> list[str]:
    """Run the service's ``write`` (its name) that must fail; check nothing changed; return its messages."""
    before = snapshot(graph)
    with pytest.raises(error) as caught:
        getattr(service_of(graph), write)(*args, by=by or someone())
    assert snapshot(graph) == before
    return getattr(caught.value, "problems", [str(caught.value)])


def test_constraints_reject_duplicate_ids(graph):
    graph.write("upsert_clients", rows=[{"id": "c1", "needs": [], "population": None,
                                         "insurance": None, "schedule": None}])
    with pytest.raises(ConstraintError):
        with graph.session(write=True) as s:
            s.run("CREATE (:Client {id: 'c1'})").consume()
    with pytest.raises(ConstraintError):  # clinicians and staff share one id space
        with graph.session(write=True) as s:
            s.run("CREATE (:Member:Staff {id: 'm1'}) CREATE (:Member:Clinician {id: 'm1'})").consume()
    with pytest.raises(ConstraintError):  # and every party: clinicians, staff, referrers, outside providers
        with graph.session(write=True) as s:
            s.run("CREATE (:Referrer:Party {id: 'p1'}) CREATE (:ExternalProvider:Party {id: 'p1'})").consume()


def test_save_members_referrer_and_client(graph):
    add_words(graph, needs=["ocd"], insurances=["aetna", "cigna"])  # a manager's words first
    service = service_of(graph)
    service.save("clinician", {"id": "cn9", "name": "Ida Wu", "specialties": ["ocd"], "populations": ["adult"],
                               "insurances": ["aetna", "cigna"], "schedule": ["weekend"], "accepting_new": False},
                 by=someone())
    service.save("staff", {"id": "st9", "name": "Max Bell", "role": "intake_coordinator"}, by=someone())
    service.save("referrer", {"id": "rf9", "name": "Dr. Ode", "kind": "physician",
                              "organization": "Ode Family Medicine",
                              "point_person_id": "cn9", "since": "2024-01-02"}, by=someone())
    service.save("client", {"id": "cl9", "needs": ["ocd"], "population": "adult", "insurance": "aetna"}, by=someone())
    rows = {f: graph.read("export_" + f) for f in ("clinicians", "staff", "referrers", "clients")}
    assert rows["clinicians"] == [{"id": "cn9", "name": "Ida Wu", "specialties": ["ocd"], "populations": ["adult"],
                                   "insurances": ["aetna", "cigna"], "schedule": ["weekend"], "accepting_new": False,
                                   "npi": None}]
    assert rows["staff"] == [{"id": "st9", "name": "Max Bell", "role": "intake_coordinator", "npi": None}]
    assert [(r["id"], r["point_person_id"], str(r["since"])) for r in rows["referrers"]] == [
        ("rf9", "cn9", "2024-01-02")]
    assert rows["clients"] == [{"id": "cl9", "needs": ["ocd"], "population": "adult",
                                "insurance": "aetna", "schedule": None}]
    # A change updates in place.
    service.save("staff", {"name": "Max Bell", "role": "office_manager"}, by=someone(), record_id="st9")
    assert graph.read("export_staff") == [{"id": "st9", "name": "Max Bell", "role": "office_manager", "npi": None}]


def test_a_write_takes_its_requests_json_types_only(graph):
    # The service's Python callers go through the same request models as the JSON API and the forms.
    assert refused(graph, InvalidInput, "save", "clinician", {"id": "cn9", "name": "Ida Wu", "populations": "adult",
                                                              "accepting_new": "false"}) == [
        "field 'populations': must be a list (got 'adult')",
        "field 'accepting_new': must be true or false (got 'false')"]


def test_a_client_never_takes_a_name(graph):
    assert refused(graph, InvalidInput, "save", "client", {"id": "cl1", "needs": ["adhd"], "name": "Jo Doe",
                                                           "phone": "555-0100"}) == [
        "field 'name': is not a known field", "field 'phone': is not a known field"]


def test_record_referral_defaults_assignment_to_the_addressed_clinician(small):
    out = service_of(small).record_referral({"id": "r20", "date": "2024-07-01", "referrer_id": "rf1",
                                             "client_id": "cl1", "addressed_to": "cn1"}, by=someone())
    assert out["assigned_to"] == "cn1"
    assert small.read("referral_parties", catalog=TEST_QUERIES, id="r20") == [
        {"id": "r20", "addressed_to": "cn1", "addressed_kind": "clinician", "assigned_to": "cn1", "pass_reason": None}]


def test_record_referral_refusals_change_nothing(small):
    ask = {"id": "r20", "date": "2024-07-01", "referrer_id": "rf1", "client_id": "cl1", "addressed_to": "cn1"}
    assert refused(small, InvalidInput, "record_referral", {**ask, "id": "r1"}) == [
        "field 'id': Referral 'r1' already exists"]
    assert refused(small, NotFound, "record_referral", {**ask, "client_id": "nope", "referrer_id": "rf0"}) == [
        "unknown referrer_id 'rf0'", "unknown client_id 'nope'"]
    assert refused(small, InvalidInput, "record_referral", {**ask, "date": "07/01/2024"}) == [
        "field 'date': must be a date in the form YYYY-MM-DD (got '07/01/2024')"]
    assert refused(small, InvalidInput, "record_referral", {**ask, "pass_reason": "vibes", "assigned_to": "cn2"}) == [
        "field 'pass_reason': must be one of 'scheduling', 'insurance', 'specialty' or 'other' (got 'vibes')"]
    assert refused(small, InvalidInput, "record_referral", {**ask, "addressed_to": "practice"}) == [
        "field 'assigned_to': is required"]
    assert refused(small, InvalidInput, "record_referral", {**ask, "assigned_to": "st1"}) == [
        "assigned_to 'st1' is a staff member, not a clinician",
        "assigned_to 'st1' differs from addressed_to 'cn1': a pass needs a pass_reason"]


def test_pass_reassigns_and_keeps_the_addressee(small):
    out = service_of(small).pass_referral({"referral_id": "r1", "to_clinician_id": "cn2", "reason": "scheduling"},
                                          by=someone())
    assert out == {"id": "r1", "referrer_id": "rf1", "addressed_to": "cn1", "assigned_to": "cn2",
                   "pass_reason": "scheduling"}
    assert small.read("referral_parties", catalog=TEST_QUERIES, id="r1")[0]["assigned_to"] == "cn2"
    # Passing it back to the addressed clinician undoes the pass.
    service_of(small).pass_referral({"referral_id": "r1", "to_clinician_id": "cn1", "reason": "other"}, by=someone())
    assert small.read("referral_parties", catalog=TEST_QUERIES, id="r1")[0]["pass_reason"] is None


def test_pass_refusals_change_nothing(small):
    def ask(referral, to, reason):
        return {"referral_id": referral, "to_clinician_id": to, "reason": reason}

    assert refused(small, NotFound, "pass_referral", ask("r404", "cn2", "insurance")) == [
        "field 'referral_id': unknown referral 'r404'"]
    # The rules of a referral's record, as the import applies them, named by the pass's fields.
    assert refused(small, InvalidInput, "pass_referral", ask("r5", "cn1", "insurance")) == [
        "field 'reason': a referral addressed to the practice is assigned, not passed"]
    assert refused(small, InvalidInput, "pass_referral", ask("r6", "cn2", "insurance")) == [
        "reason given, but only a referral addressed to a clinician is passed"]
    assert refused(small, InvalidInput, "pass_referral", ask("r1", "st1", "insurance")) == [
        "to_clinician_id 'st1' is a staff member, not a clinician"]
    assert refused(small, NotFound, "pass_referral", ask("r1", "cn404", "insurance")) == [
        "unknown to_clinician_id 'cn404'"]
    assert refused(small, InvalidInput, "pass_referral", ask("r1", "cn2", "mood")) == [
        "field 'reason': must be one of 'scheduling', 'insurance', 'specialty' or 'other' (got 'mood')"]


def test_introduction_contact_and_referral_out(small):
    service = service_of(small)
    service.record_introduction({"id": "i9", "date": "2024-08-01", "referrer_id": "rf3", "introduced_id": "cn1",
                                 "by_id": "cn2"}, by=someone())
    service.record_contact({"id": "k9", "date": "2024-08-02", "referrer_id": "rf3", "member_id": "cn1",
                            "kind": "case_consult"}, by=someone())
    service.record_referral_out({"id": "o9", "date": "2024-08-03", "referrer_id": "rf3", "client_id": "cl3",
                                 "provider_id": "ep2", "niche": "forensic_evaluation"}, by=someone())
    assert [r for r in small.read("export_introductions") if r["id"] == "i9"][0]["by_id"] == "cn2"
    assert [r for r in small.read("export_contacts") if r["id"] == "k9"][0]["kind"] == "case_consult"
    assert [r for r in small.read("export_referrals_out") if r["id"] == "o9"][0]["provider_id"] == "ep2"


def test_event_refusals_change_nothing(small):
    assert refused(small, InvalidInput, "record_introduction", {
        "id": "i9", "date": "2024-08-01", "referrer_id": "rf3", "introduced_id": "cn2", "by_id": "cn2"}) == [
        "field 'introduced_id': a member cannot introduce themself"]
    assert refused(small, InvalidInput, "record_contact", {
        "id": "k9", "date": "2024-08-02", "referrer_id": "rf3", "member_id": "cn1", "kind": "golf"}) == [
        "field 'kind': 'golf' is not on the practice's list of contact kinds (a manager can add it under "
        "Settings, Vocabularies)"]
    assert refused(small, InvalidInput, "record_referral_out", {
        "id": "o9", "date": "2024-08-03", "referrer_id": "rf3", "client_id": "cl3", "provider_id": "ep1",
        "niche": "forensic_evaluation"}) == [
        "niche 'forensic_evaluation' is not one of provider 'ep1''s niches (inpatient_eating_disorders)"]


def test_hand_over_keeps_the_history(small):
    out = service_of(small).hand_over({"referrer_id": "rf1", "to_clinician_id": "cn2", "date": "2025-02-01"},
                                      by=someone())
    assert out == {"referrer_id": "rf1", "point_person_id": "cn2", "since": date(2025, 2, 1), "previous": "cn1"}
    history = small.read("export_handoffs")
    assert [(r["referrer_id"], str(r["date"]), r["point_person_id"]) for r in history] == [
        ("rf1", "2025-02-01", "cn2"), ("rf2", "2024-01-15", "cn2")]
    # The first point person is still on record as where the relationship began.
    assert [r["point_person_id"] for r in small.read("export_referrers") if r["id"] == "rf1"] == ["cn1"]


def test_hand_over_refusals_change_nothing(small):
    def ask(referrer, to, day):
        return {"referrer_id": referrer, "to_clinician_id": to, "date": day}

    assert refused(small, NotFound, "hand_over", ask("rf404", "cn2", "2025-02-01")) == [
        "field 'referrer_id': unknown referrer 'rf404'"]
    # The import's handoff rules, named by the handoff's fields.
    assert refused(small, InvalidInput, "hand_over", ask("rf2", "cn2", "2025-02-01")) == [
        "field 'to_clinician_id': 'cn2' already holds the role"]
    assert refused(small, InvalidInput, "hand_over", ask("rf2", "cn1", "2024-01-15")) == [
        "field 'date': 2024-01-15 is not after the current tenure's start 2024-01-15"]
    assert refused(small, NotFound, "hand_over", ask("rf1", "cn404", "2025-02-01")) == [
        "unknown to_clinician_id 'cn404'"]


def test_a_clinician_acts_on_its_own_cases_only_checked_where_it_writes(small):
    assert refused(small, Forbidden, "pass_referral", {"referral_id": "r4", "to_clinician_id": "cn1",
                                                        "reason": "scheduling"}, by=clinician("cn1")) == [
        "A clinician may record passes only of referrals addressed to it; you are clinician cn1."]
    assert refused(small, Forbidden, "hand_over", {"referrer_id": "rf2", "to_clinician_id": "cn3",
                                                    "date": "2024-12-01"}, by=clinician("cn1")) == [
        "A clinician may hand over only referrers it is the point person of; you are clinician cn1."]
    assert refused(small, Forbidden, "record_contact", {"date": "2024-08-02", "referrer_id": "rf3", "member_id": "cn2",
                                                         "kind": "talk"}, by=clinician("cn1")) == [
        "A clinician may record only its own contacts; you are clinician cn1."]
    assert refused(small, Forbidden, "record_referral_out", {
        "date": "2024-08-03", "referrer_id": "rf3", "client_id": "cl3", "provider_id": "ep2",
        "niche": "forensic_evaluation"}, by=Actor("ana", "analyst")) == [
        "Only a manager may record referrals out; you are signed in as analyst."]
    service = service_of(small)
    assert service.pass_referral({"referral_id": "r1", "to_clinician_id": "cn2", "reason": "scheduling"},
                                 by=clinician("cn1"))["assigned_to"] == "cn2"
    assert service.hand_over({"referrer_id": "rf1", "to_clinician_id": "cn2", "date": "2024-12-01"},
                             by=clinician("cn1"))["previous"] == "cn1"


@pytest.mark.parametrize("other_commits", [True, False])
def test_a_record_waits_for_another_transaction_creating_its_id(small, other_commits):
    # A transaction outside the service creates referral r30 and holds it; the
    # service's CREATE of r30 waits on that id, then fails if it commits ("already
    # exists", with nothing of the refused write left) or succeeds if it rolls back.
    outcome = []

    def record():
        try:
            outcome.append(service_of(small).record_referral({
                "id": "r30", "date": "2024-07-01", "referrer_id": "rf1", "client_id": "cl1", "addressed_to": "cn1"},
                by=someone()))
        except InvalidInput as e:
            outcome.append(e.problems)

    with small.session(write=True) as s:
        tx = s.begin_transaction()
        tx.run("CREATE (:Referral {id: 'r30', date: date('2020-01-01')})").consume()
        caller = threading.Thread(target=record)
        caller.start()
        time.sleep(0.5)
        assert caller.is_alive() and outcome == []  # waiting for the other transaction
        tx.commit() if other_commits else tx.rollback()
        caller.join(timeout=30)
    if other_commits:
        assert outcome == [["field 'id': Referral 'r30' already exists"]]
        graph = small.read("graph_snapshot", catalog=TEST_QUERIES)[0]
        assert [str(n["props"]["date"]) for n in graph["nodes"] if n["props"].get("id") == "r30"] == ["2020-01-01"]
        assert [r for r in graph["relationships"] if "r30" in (r["start"], r["end"])] == []
    else:
        assert outcome[0]["id"] == "r30"
        assert small.read("referral_parties", catalog=TEST_QUERIES, id="r30")[0]["assigned_to"] == "cn1"


# -- one id space for every kind of party (issue 16: an outside provider took a clinician's id) ----------


@pytest.mark.parametrize("kind, fields, noun", [
    ("referrer", {"name": "Dr. Clash", "kind": "physician", "point_person_id": "cn1", "since": "2024-01-02"},
     "a referrer"),
    ("external_provider", {"name": "Clash Clinic", "niches": ["inpatient_eating_disorders"]}, "an outside provider"),
    ("clinician", {"name": "Clash Clinician"}, "a clinician"),
    ("staff", {"name": "Clash Staff", "role": "billing"}, "a staff member"),
])
def test_no_party_takes_another_partys_id(small, kind, fields, noun):
    for taken, holder in (("cn2", "a clinician"), ("st1", "a staff member"), ("rf1", "a referrer"),
                          ("ep1", "an outside provider")):
        if noun == holder:
            continue  # the same kind: "already exists" (below)
        assert refused(small, InvalidInput, "save", kind, {**fields, "id": taken}) == [
            f"field 'id': '{taken}' is already {holder}'s id; {noun} needs an id of its own"]
    assert refused(small, InvalidInput, "save", kind, {**fields, "id": "practice"}) == [
        "field 'id': 'practice' is reserved for the practice itself (referrals addressed to it)"]
