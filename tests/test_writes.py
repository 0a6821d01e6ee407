"""The Python write API: each write, and each refusal leaving the graph unchanged."""

from __future__ import annotations

import threading
import time
from datetime import date

import pytest
from neo4j.exceptions import ConstraintError

from graphsvc.csvio.importer import import_folder
from graphsvc.errors import InvalidInput, NotFound
from graphsvc.store import writes
from tests.helpers import TEST_QUERIES, fixture_path, snapshot


@pytest.fixture
def small(graph):
    import_folder(graph, fixture_path("small"))
    return graph


def refused(graph, error, call, *args, **kwargs) -> list[str]:
    """Run a write that must fail; check nothing changed; return its messages."""
    before = snapshot(graph)
    with pytest.raises(error) as caught:
        call(graph, *args, **kwargs)
    assert snapshot(graph) == before
    return caught.value.problems


def test_constraints_reject_duplicate_ids(graph):
    graph.write("upsert_clients", rows=[{"id": "c1", "needs": [], "population": None,
                                         "insurance": None, "schedule": None}])
    with pytest.raises(ConstraintError):
        with graph.session(write=True) as s:
            s.run("CREATE (:Client {id: 'c1'})").consume()
    with pytest.raises(ConstraintError):  # clinicians and staff share one id space
        with graph.session(write=True) as s:
            s.run("CREATE (:Member:Staff {id: 'm1'}) CREATE (:Member:Clinician {id: 'm1'})").consume()


def test_save_members_referrer_and_client(graph):
    writes.save_clinician(graph, id="cn9", name="Ida Wu", specialties=["ocd"], populations="adult",
                          insurances="aetna;cigna", schedule=["weekend"], accepting_new="false")
    writes.save_staff(graph, id="st9", name="Max Bell", role="intake_coordinator")
    writes.save_referrer(graph, id="rf9", name="Dr. Ode", kind="physician", organization="Ode Family Medicine",
                         point_person_id="cn9", since=date(2024, 1, 2))
    writes.save_client(graph, id="cl9", needs=["ocd"], population="adult", insurance="aetna")
    rows = {f: graph.read("export_" + f) for f in ("clinicians", "staff", "referrers", "clients")}
    assert rows["clinicians"] == [{"id": "cn9", "name": "Ida Wu", "specialties": ["ocd"], "populations": ["adult"],
                                   "insurances": ["aetna", "cigna"], "schedule": ["weekend"], "accepting_new": False}]
    assert rows["staff"] == [{"id": "st9", "name": "Max Bell", "role": "intake_coordinator"}]
    assert [(r["id"], r["point_person_id"], str(r["since"])) for r in rows["referrers"]] == [("rf9", "cn9", "2024-01-02")]
    assert rows["clients"] == [{"id": "cl9", "needs": ["ocd"], "population": "adult",
                                "insurance": "aetna", "schedule": None}]
    # Saving again updates in place.
    writes.save_staff(graph, id="st9", name="Max Bell", role="office_manager")
    assert graph.read("export_staff") == [{"id": "st9", "name": "Max Bell", "role": "office_manager"}]


def test_a_client_never_takes_a_name(graph):
    assert refused(graph, InvalidInput, writes.save_client, id="cl1", needs="adhd", name="Jo Doe",
                   phone="555-0100") == ["field 'name': is not a known field", "field 'phone': is not a known field"]


def test_record_referral_defaults_assignment_to_the_addressed_clinician(small):
    out = writes.record_referral(small, id="r20", date="2024-07-01", referrer_id="rf1",
                                 client_id="cl1", addressed_to="cn1")
    assert out["assigned_to"] == "cn1"
    assert small.read("referral_parties", id="r20") == [
        {"id": "r20", "addressed_to": "cn1", "addressed_kind": "clinician", "assigned_to": "cn1", "pass_reason": None}]


def test_record_referral_refusals_change_nothing(small):
    args = dict(id="r20", date="2024-07-01", referrer_id="rf1", client_id="cl1", addressed_to="cn1")
    assert refused(small, InvalidInput, writes.record_referral, **{**args, "id": "r1"}) == [
        "field 'id': Referral 'r1' already exists"]
    assert refused(small, NotFound, writes.record_referral, **{**args, "client_id": "nope", "referrer_id": "rf0"}) == [
        "unknown referrer_id 'rf0'", "unknown client_id 'nope'"]
    assert refused(small, InvalidInput, writes.record_referral, **{**args, "date": "07/01/2024"}) == [
        "field 'date': must be a date in the form YYYY-MM-DD (got '07/01/2024')"]
    assert refused(small, InvalidInput, writes.record_referral, **{**args, "pass_reason": "vibes", "assigned_to": "cn2"}) == [
        "field 'pass_reason': must be one of 'scheduling', 'insurance', 'specialty' or 'other' (got 'vibes')"]
    assert refused(small, InvalidInput, writes.record_referral, **{**args, "addressed_to": "practice"}) == [
        "field 'assigned_to': is required"]
    assert refused(small, InvalidInput, writes.record_referral, **{**args, "assigned_to": "st1"}) == [
        "assigned_to 'st1' is a staff member, not a clinician",
        "assigned_to 'st1' differs from addressed_to 'cn1': a pass needs a pass_reason"]


def test_record_pass_reassigns_and_keeps_the_addressee(small):
    out = writes.record_pass(small, "r1", "cn2", "scheduling")
    assert out == {"id": "r1", "addressed_to": "cn1", "assigned_to": "cn2", "pass_reason": "scheduling"}
    assert small.read("referral_parties", id="r1")[0]["assigned_to"] == "cn2"
    # Passing it back to the addressed clinician undoes the pass.
    writes.record_pass(small, "r1", "cn1", "other")
    assert small.read("referral_parties", id="r1")[0]["pass_reason"] is None


def test_record_pass_refusals_change_nothing(small):
    assert refused(small, NotFound, writes.record_pass, "r404", "cn2", "insurance") == [
        "field 'referral_id': unknown referral 'r404'"]
    assert refused(small, InvalidInput, writes.record_pass, "r5", "cn1", "insurance") == [
        "field 'referral_id': only a referral addressed to a clinician can be passed; 'r5' was addressed to 'practice'"]
    assert refused(small, InvalidInput, writes.record_pass, "r1", "st1", "insurance") == [
        "field 'to_clinician_id': 'st1' is a staff member, not a clinician"]
    assert refused(small, InvalidInput, writes.record_pass, "r1", "cn2", "mood") == [
        "field 'reason': must be one of scheduling, insurance, specialty, other (got 'mood')"]


def test_introduction_contact_and_referral_out(small):
    writes.record_introduction(small, id="i9", date="2024-08-01", referrer_id="rf3", introduced_id="cn1", by_id="cn2")
    writes.record_contact(small, id="k9", date="2024-08-02", referrer_id="rf3", member_id="cn1", kind="case_consult")
    writes.record_referral_out(small, id="o9", date="2024-08-03", referrer_id="rf3", client_id="cl3",
                               provider_id="ep2", niche="forensic_evaluation")
    assert [r for r in small.read("export_introductions") if r["id"] == "i9"][0]["by_id"] == "cn2"
    assert [r for r in small.read("export_contacts") if r["id"] == "k9"][0]["kind"] == "case_consult"
    assert [r for r in small.read("export_referrals_out") if r["id"] == "o9"][0]["provider_id"] == "ep2"


def test_event_refusals_change_nothing(small):
    assert refused(small, InvalidInput, writes.record_introduction, id="i9", date="2024-08-01",
                   referrer_id="rf3", introduced_id="cn2", by_id="cn2") == [
        "field 'introduced_id': a member cannot introduce themself"]
    assert refused(small, InvalidInput, writes.record_contact, id="k9", date="2024-08-02",
                   referrer_id="rf3", member_id="cn1", kind="golf") == [
        "field 'kind': must be one of 'lunch', 'talk', 'school_consult', 'staffing', 'case_consult', "
        "'site_visit' or 'follow_up' (got 'golf')"]
    assert refused(small, InvalidInput, writes.record_referral_out, id="o9", date="2024-08-03", referrer_id="rf3",
                   client_id="cl3", provider_id="ep1", niche="forensic_evaluation") == [
        "niche 'forensic_evaluation' is not one of provider 'ep1''s niches (inpatient_eating_disorders)"]


def test_hand_over_keeps_the_history(small):
    out = writes.hand_over(small, "rf1", "cn2", "2025-02-01")
    assert out == {"referrer_id": "rf1", "point_person_id": "cn2", "since": date(2025, 2, 1), "previous": "cn1"}
    history = small.read("export_handoffs")
    assert [(r["referrer_id"], str(r["date"]), r["point_person_id"]) for r in history] == [
        ("rf1", "2025-02-01", "cn2"), ("rf2", "2024-01-15", "cn2")]
    # The first point person is still on record as where the relationship began.
    assert [r["point_person_id"] for r in small.read("export_referrers") if r["id"] == "rf1"] == ["cn1"]


def test_hand_over_refusals_change_nothing(small):
    assert refused(small, NotFound, writes.hand_over, "rf404", "cn2", "2025-02-01") == [
        "field 'referrer_id': unknown referrer 'rf404'"]
    assert refused(small, InvalidInput, writes.hand_over, "rf2", "cn2", "2025-02-01") == [
        "field 'to_clinician_id': 'cn2' already holds the role"]
    assert refused(small, InvalidInput, writes.hand_over, "rf2", "cn1", "2024-01-15") == [
        "field 'date': 2024-01-15 is not after the current tenure's start 2024-01-15"]
    assert refused(small, NotFound, writes.hand_over, "rf1", "cn404", "2025-02-01") == [
        "field 'to_clinician_id': 'cn404' is unknown"]


@pytest.mark.parametrize("other_commits", [True, False])
def test_a_record_waits_for_another_transaction_creating_its_id(small, other_commits):
    # A transaction outside the API creates referral r30 and holds it; the
    # API's CREATE of r30 waits on that id, then fails if it commits ("already
    # exists", with nothing of the refused write left) or succeeds if it rolls back.
    outcome = []

    def record():
        try:
            outcome.append(writes.record_referral(small, id="r30", date="2024-07-01", referrer_id="rf1",
                                                  client_id="cl1", addressed_to="cn1"))
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
        assert small.read("referral_parties", id="r30")[0]["assigned_to"] == "cn1"


def test_a_referrer_cannot_take_a_member_or_provider_id(graph):
    import_folder(graph, fixture_path("small"))
    before = snapshot(graph)
    for taken, what in (("cn2", "clinician"), ("st1", "staff"), ("ep1", "outside provider")):
        with pytest.raises(InvalidInput) as caught:
            writes.save_referrer(graph, id=taken, name="Dr. Clash", kind="physician", point_person_id="cn1",
                                 since="2024-01-02")
        assert caught.value.problems == [
            f"field 'id': '{taken}' is already a {what}'s id; a referrer needs an id of its own"]
    assert snapshot(graph) == before
