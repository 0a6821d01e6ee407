"""Records that cannot be right (issue 18): the same introduction or contact twice, and events dated before
their referrer's relationship began, refused on every path (the service, the API, a form, an import) naming
the first record or both dates, with nothing written.

The small fixture: rf1 since 2023-01-10 (introduction i1 of cn3 by cn1 on 2023-04-01, contact k1: cn1's lunch
on 2023-01-20), rf3 since 2024-02-01.
"""

from __future__ import annotations

import threading

import pytest

from graphsvc.csvio.importer import ImportRejected
from graphsvc.errors import InvalidInput
from tests.conftest import csrf_token_of
from tests.helpers import service_of, snapshot, someone

SAME_INTRODUCTION = {"date": "2023-04-01", "referrer_id": "rf1", "introduced_id": "cn3", "by_id": "cn1"}
SAME_CONTACT = {"date": "2023-01-20", "referrer_id": "rf1", "member_id": "cn1", "kind": "lunch"}


def refused(graph, write) -> list[str]:
    before = snapshot(graph)
    with pytest.raises(InvalidInput) as caught:
        write()
    assert snapshot(graph) == before
    return caught.value.problems


def test_the_same_introduction_or_contact_twice_is_refused_naming_the_first(small):
    service = service_of(small)
    assert refused(small, lambda: service.record_introduction(SAME_INTRODUCTION, by=someone())) == [
        "already recorded as introduction i1 (same referrer, colleague, introducer and day)"]
    assert refused(small, lambda: service.record_contact(SAME_CONTACT, by=someone())) == [
        "already recorded as contact k1 (same referrer, member, kind and day)"]
    # Another day, kind or person is another record.
    assert service.record_contact({**SAME_CONTACT, "kind": "talk"}, by=someone())["kind"] == "talk"
    assert service.record_introduction({**SAME_INTRODUCTION, "date": "2023-04-02"}, by=someone())["id"]
    # A record stored again as it is (an import's upsert by id) is not a duplicate of itself.
    assert service.record_contact({**SAME_CONTACT, "kind": "talk", "date": "2023-01-21", "id": "k7"},
                                  by=someone())["id"] == "k7"


def test_a_write_dated_before_the_relationship_began_is_refused_naming_both_dates(small):
    service = service_of(small)
    message = "field 'date': 2022-12-31 is before the relationship with referrer 'rf1' began on 2023-01-10"
    assert refused(small, lambda: service.record_introduction({**SAME_INTRODUCTION, "date": "2022-12-31"},
                                                              by=someone())) == [message]
    assert refused(small, lambda: service.record_contact({**SAME_CONTACT, "date": "2022-12-31"},
                                                         by=someone())) == [message]
    assert refused(small, lambda: service.record_referral(
        {"date": "2022-12-31", "referrer_id": "rf1", "client_id": "cl1", "addressed_to": "cn1"}, by=someone())) == [
        message]
    assert refused(small, lambda: service.record_referral_out(
        {"date": "2022-12-31", "referrer_id": "rf1", "client_id": "cl1", "provider_id": "ep1",
         "niche": "inpatient_eating_disorders"}, by=someone())) == [message]
    assert refused(small, lambda: service.hand_over(
        {"referrer_id": "rf1", "to_clinician_id": "cn2", "date": "2022-12-31"}, by=someone())) == [
        "field 'date': 2022-12-31 is not after the current tenure's start 2023-01-10"]
    # The first day of the relationship is in it.
    assert service.record_contact({**SAME_CONTACT, "date": "2023-01-10"}, by=someone())["date"].isoformat() == \
        "2023-01-10"


def test_the_api_says_so_with_a_400(small, as_role):
    manager = as_role("manager")
    answer = manager.post("/api/introductions", json=SAME_INTRODUCTION)
    assert (answer.status_code, answer.get_json()["problems"]) == (
        400, ["already recorded as introduction i1 (same referrer, colleague, introducer and day)"])
    answer = manager.post("/api/contacts", json={**SAME_CONTACT, "date": "1999-01-01"})
    assert (answer.status_code, answer.get_json()["problems"]) == (
        400, ["field 'date': 1999-01-01 is before the relationship with referrer 'rf1' began on 2023-01-10"])


def test_the_contact_form_keeps_what_was_typed_and_says_why(small, graph, client):
    form = client.get("/referrers/rf1/contacts/new").get_data(as_text=True)
    before = snapshot(graph)
    answer = client.post("/referrers/rf1/contacts/new", data={**{k: v for k, v in SAME_CONTACT.items()
                                                                  if k != "referrer_id"},
                                                               "csrf_token": csrf_token_of(form)})
    assert answer.status_code == 422
    assert "Already recorded as contact k1 (same referrer, member, kind and day)" in answer.get_data(as_text=True)
    assert snapshot(graph) == before


def test_two_callers_recording_the_same_contact_at_once_store_it_once(small):
    service = service_of(small)
    fresh = {**SAME_CONTACT, "date": "2024-02-02", "kind": "talk"}
    results, barrier = [], threading.Barrier(2)

    def record():
        barrier.wait()
        try:
            results.append(service.record_contact(fresh, by=someone())["id"])
        except InvalidInput as e:
            results.append(e.problems[0])

    threads = [threading.Thread(target=record) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stored = [r for r in results if not r.startswith("already")]
    assert len(stored) == 1
    assert sorted(results) == sorted(stored + [f"already recorded as contact {stored[0]} (same referrer, member, "
                                                "kind and day)"])


def folder_with(tmp_path, name: str, text: str):
    folder = tmp_path / "more"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text)
    return folder


def test_an_import_refuses_duplicates_within_the_folder_and_of_stored_records(small, tmp_path):
    folder = folder_with(tmp_path, "contacts.csv", "id,date,referrer_id,member_id,kind\n"
                                                   "k8,2024-03-01,rf3,cn2,talk\n"
                                                   "k9,2024-03-01,rf3,cn2,talk\n"
                                                   "k10,2023-01-20,rf1,cn1,lunch\n"
                                                   "k11,2024-01-31,rf3,cn2,lunch\n")
    before = snapshot(small)
    with pytest.raises(ImportRejected) as caught:
        service_of(small).import_folder(folder, by=someone())
    assert caught.value.problems == [
        "contacts.csv:3: already recorded as contact line 2, k8 (same referrer, member, kind and day)",
        "contacts.csv:4: already recorded as contact k1 (same referrer, member, kind and day)",
        "contacts.csv:5: field 'date': 2024-01-31 is before the relationship with referrer 'rf3' began on "
        "2024-02-01",
    ]
    assert snapshot(small) == before


def test_importing_a_folder_again_is_not_a_duplicate_of_itself(small):
    from tests.helpers import fixture_path, import_folder

    before = snapshot(small)
    assert import_folder(small, fixture_path("small")).problems == []
    assert snapshot(small) == before
