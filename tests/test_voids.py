"""Corrections that keep history (issue 18): a mistaken record voided with a reason, and restored.

The small fixture: Dr. Hale (rf1) sent r1 (2023-02-01, to Ana Ruiz) and r2 (2023-05-02, passed to Cleo Park),
was introduced to Cleo Park (i1) and had lunch with Ana Ruiz (k1, 2023-01-20).
"""

from __future__ import annotations

from datetime import date

import pytest

from graphsvc.errors import Forbidden, InvalidInput, NotFound
from graphsvc.service import Actor
from tests.helpers import TEST_QUERIES, service_of, snapshot, someone


@pytest.fixture
def api(small, client, web_accounts):
    _, token = web_accounts.create_token("manager", "test")
    return {"Authorization": f"Bearer {token}"}


def test_a_voided_referral_leaves_the_analysis_and_comes_back_when_restored(small, client, api, web_accounts):
    # Rev. Stone (rf3) sent one referral, r5, to the practice as a whole: stage 3.
    before = client.get("/api/referrers/rf3").get_json()
    assert (before["stage"], before["metrics"]["referrals"]) == (3, 1)
    voided = client.post("/api/referrals/r5/void", json={"reason": "entered for the wrong referrer"}, headers=api)
    assert (voided.status_code, voided.get_json()) == (200, {
        "kind": "referral", "id": "r5", "referrer_id": "rf3", "voided_on": date.today().isoformat(),
        "void_reason": "entered for the wrong referrer"})
    after = client.get("/api/referrers/rf3").get_json()
    assert (after["stage"], after["metrics"]["referrals"]) == (0, 0)  # no referral left: new again
    restored = client.post("/api/referrals/r5/restore", headers=api)
    assert (restored.status_code, restored.get_json()) == (200, {"kind": "referral", "id": "r5",
                                                                 "referrer_id": "rf3"})
    back = client.get("/api/referrers/rf3").get_json()
    assert (back["stage"], back["metrics"]["referrals"]) == (3, 1)
    audited = [(e["action"], e["ids"], e["detail"]) for e in web_accounts.entries()
               if e["action"] in ("void referral", "restore referral")]
    assert audited == [("restore referral", ["r5", "rf3"], None),  # newest first
                       ("void referral", ["r5", "rf3"], {"reason": "entered for the wrong referrer"})]


def test_what_cannot_be_voided_or_restored_is_refused_and_changes_nothing(small, client, api, client_as,
                                                                          web_accounts):
    before = snapshot(small)
    cases = [
        ("/api/referrals/r404/void", {"reason": "x"}, 404, "unknown referral 'r404'"),
        ("/api/contacts/k1/void", {"reason": " "}, 400, None),
        ("/api/contacts/k1/void", {}, 400, None),
        ("/api/contacts/k1/restore", None, 400, "Contact 'k1' is not voided"),
    ]
    for url, body, status, error in cases:
        answer = client.post(url, json=body, headers=api) if body is not None else client.post(url, headers=api)
        assert answer.status_code == status, (url, answer.get_json())
        if error:
            assert answer.get_json()["error"] == error
    assert snapshot(small) == before
    _, clinician = web_accounts.create_token("clinician", "test")
    refused = client.post("/api/contacts/k1/void", json={"reason": "mine"},
                          headers={"Authorization": f"Bearer {clinician}"})
    assert refused.status_code == 403
    assert client.post("/api/contacts/k1/void", json={"reason": "x"}).status_code == 401  # the cookie: no
    assert snapshot(small) == before
    service = service_of(small)
    service.void_record("contact", "k1", {"reason": "typed twice"}, by=someone())
    with pytest.raises(InvalidInput, match=r"Contact 'k1' is voided already \(typed twice\)"):
        service.void_record("contact", "k1", {"reason": "again"}, by=someone())
    with pytest.raises(Forbidden):
        service.restore_record("contact", "k1", by=Actor("ana", "clinician", "cn1"))
    with pytest.raises(NotFound):
        service.void_record("handoff", "k1", {"reason": "x"}, by=someone())


def test_a_voided_contact_is_no_first_of_a_duplicate_and_a_restore_that_would_be_one_is_refused(small):
    service = service_of(small)
    service.void_record("contact", "k1", {"reason": "the wrong day"}, by=someone())
    # The same lunch recorded again (now correctly, say): not a duplicate of the voided one.
    again = service.record_contact({"id": "k9", "date": "2023-01-20", "referrer_id": "rf1", "member_id": "cn1",
                                    "kind": "lunch"}, by=someone())
    assert again["id"] == "k9"
    before = snapshot(small)
    with pytest.raises(InvalidInput, match="Contact 'k1' cannot be restored: contact k9 records the same since"):
        service.restore_record("contact", "k1", by=someone())
    assert snapshot(small) == before


def test_a_voided_referral_is_not_passed_and_travels_through_export_and_import(small, tmp_path):
    from graphsvc.csvio.exporter import export_folder
    from graphsvc.store.schema import init_schema
    from tests.helpers import import_folder

    service = service_of(small)
    service.void_record("referral", "r2", {"reason": "entered twice"}, by=someone())
    service.void_record("introduction", "i1", {"reason": "never happened"}, by=someone())
    with pytest.raises(NotFound):
        service.pass_referral({"referral_id": "r2", "to_clinician_id": "cn2", "reason": "specialty"}, by=someone())
    before = snapshot(small, analysis=False)
    export_folder(small, tmp_path / "out")
    lines = (tmp_path / "out" / "referrals.csv").read_text().splitlines()
    assert lines[0].endswith(",consent_to_update,voided_on,void_reason")
    assert [line for line in lines if line.startswith("r2,")][0].endswith(f",{date.today().isoformat()},entered twice")
    small.write("wipe_graph", catalog=TEST_QUERIES)
    init_schema(small)
    import_folder(small, tmp_path / "out")
    assert snapshot(small, analysis=False) == before  # voided still, with its day and reason
    voided = small.read("graph_snapshot", catalog=TEST_QUERIES)[0]["nodes"]
    assert sorted(n["props"]["id"] for n in voided if "Voided" in n["labels"]) == ["i1", "r2"]


def test_the_analysts_queries_leave_voided_records_out_and_the_time_line_marks_them(small):
    from tests.test_analyst_library import run

    before = run(small, "referrals_by_month")
    assert ("2024-04", 1, 0, 1, 0) in before  # r5, to the practice
    service_of(small).void_record("referral", "r5", {"reason": "entered twice"}, by=someone())
    service_of(small).void_record("contact", "k1", {"reason": "the wrong referrer"}, by=someone())
    assert run(small, "referrals_by_month") == [row for row in before if row[0] != "2024-04"]
    timeline = run(small, "referrer_timeline", referrer="rf1")
    assert [row for row in timeline if row[2] == "k1"] == [
        (date(2023, 1, 20), "contact", "k1", "cn1", "Ana Ruiz",
         f"lunch; voided {date.today().isoformat()}: the wrong referrer")]


def test_a_manager_voids_and_restores_from_the_referrers_page(small, client, client_as, web_accounts):
    from tests.conftest import csrf_token_of

    page = client.get("/referrers/rf3").get_data(as_text=True)
    assert 'action="/records/referral/r5/void"' in page and "<h3>Voided</h3>" not in page
    token = csrf_token_of(page)
    answer = client.post("/records/referral/r5/void", data={"reason": "  ", "referrer": "rf3", "csrf_token": token})
    assert answer.status_code == 303  # no reason: said on the page, nothing voided
    assert "Not voided: say why the referral is voided." in client.get("/referrers/rf3").get_data(as_text=True)
    answer = client.post("/records/referral/r5/void", data={"reason": "the wrong referrer", "referrer": "rf3",
                                                            "csrf_token": token})
    assert (answer.status_code, answer.headers["Location"]) == (303, "/referrers/rf3")
    page = client.get("/referrers/rf3").get_data(as_text=True)
    assert "Voided the referral (the wrong referrer)." in page
    assert "<s>Referral with Ben Okafor</s>" in page and "the wrong referrer</span>" in page
    assert "Stage 0" in page  # its only referral voided: new again
    assert 'action="/records/referral/r5/restore"' in page
    clinician = client_as("clinician")
    mine = clinician.get("/referrers/rf3").get_data(as_text=True)
    assert "/restore" not in mine and "Void…" not in mine  # a manager's
    refused = clinician.post("/records/referral/r5/restore", data={"csrf_token": csrf_token_of(mine)})
    assert refused.status_code == 403
    assert client.post("/records/referral/r5/restore", data={"referrer": "rf3"}).status_code == 400  # no token
    answer = client.post("/records/referral/r5/restore", data={"referrer": "rf3", "csrf_token": token})
    assert answer.status_code == 303
    page = client.get("/referrers/rf3").get_data(as_text=True)
    assert "Restored the referral: it counts again." in page and "Stage 3" in page and "<h3>Voided</h3>" not in page


# -- undoing a pass or a handoff ----------------------------------------------------------------------------


def test_a_mistaken_pass_is_undone_the_referral_back_with_the_clinician_addressed(small, client, api, web_accounts):
    # r2 was addressed to Ana Ruiz (cn1) and passed to Cleo Park (cn3) for a specialty.
    undone = client.post("/api/passes/r2/void", json={"reason": "Cleo Park was away"}, headers=api)
    assert (undone.status_code, undone.get_json()) == (200, {
        "id": "r2", "referrer_id": "rf1", "addressed_to": "cn1", "assigned_to": "cn1", "undone": "cn3"})
    stored = [r for r in small.read("export_referrals") if r["id"] == "r2"][0]
    assert (stored["assigned_to"], stored["pass_reason"]) == ("cn1", None)
    again = client.post("/api/passes/r2/void", json={"reason": "twice"}, headers=api)
    assert (again.status_code, again.get_json()["error"]) == (
        400, "referral 'r2' is not passed: it is with the clinician it was addressed to")
    to_practice = client.post("/api/passes/r5/void", json={"reason": "x"}, headers=api)
    assert to_practice.get_json()["error"] == (
        "referral 'r5' is assigned, not passed: change its assignment by passing it")
    assert [(e["action"], e["ids"], e["detail"]) for e in web_accounts.entries() if e["action"] == "undo pass"] == [
        ("undo pass", ["r2", "rf1", "cn3"], {"reason": "Cleo Park was away"})]


def test_a_mistaken_handoff_is_undone_the_point_person_before_back(small, client, api, web_accounts):
    # Ms. Vega (rf2): Ana Ruiz from 2023-03-01, Ben Okafor from 2024-01-15.
    undone = client.post("/api/handoffs/rf2/void", json={"reason": "handed to the wrong clinician"}, headers=api)
    assert (undone.status_code, undone.get_json()) == (200, {
        "referrer_id": "rf2", "undone": "cn2", "point_person_id": "cn1", "since": "2024-01-15"})
    assert [h for h in small.read("export_handoffs") if h["referrer_id"] == "rf2"] == []
    assert client.get("/api/referrers/rf2").get_json()["metrics"]["point_person"] == "cn1"  # was cn2
    nothing = client.post("/api/handoffs/rf2/void", json={"reason": "again"}, headers=api)
    assert (nothing.status_code, nothing.get_json()["error"]) == (
        400, "referrer 'rf2' has had one point person only: no handoff to undo")
    assert client.post("/api/handoffs/rf404/void", json={"reason": "x"}, headers=api).status_code == 404
    _, clinician = web_accounts.create_token("clinician", "test")
    assert client.post("/api/handoffs/rf1/void", json={"reason": "x"},
                       headers={"Authorization": f"Bearer {clinician}"}).status_code == 403
    assert [(e["action"], e["ids"], e["detail"]) for e in web_accounts.entries() if e["action"] == "undo handoff"] == [
        ("undo handoff", ["rf2", "cn2", "cn1"], {"since": "2024-01-15", "reason": "handed to the wrong clinician"})]
