"""Two records of one referrer (issue 18): found alike, merged, and the merged id leading to the one kept.

The small fixture's Ms. Vega (rf2, Lincoln Middle School, point person Ana Ruiz cn1 from 2023-03-01, Ben
Okafor cn2 from 2024-01-15) is recorded a second time as rf9, "Ms. Vega, LCSW" at "Lincoln Middle", since
2022-09-01 with Cleo Park (cn3): a referral r9, an introduction i9, and a contact k9 that rf2 holds already
(k2: 2023-03-15, Ana Ruiz, school consult).
"""

from __future__ import annotations

import threading
from datetime import date

import pytest

from graphsvc.analysis.duplicates import bare_name, likely_duplicate_referrers
from graphsvc.errors import Forbidden, InvalidInput, NotFound
from graphsvc.service import Actor
from tests.conftest import csrf_token_of
from tests.helpers import TEST_QUERIES, service_of, snapshot, someone

SECOND_VEGA = {"id": "rf9", "name": "Ms. Vega, LCSW", "kind": "school_counselor", "organization": "Lincoln Middle",
               "point_person_id": "cn3", "since": "2022-09-01"}


@pytest.fixture
def twice(small):
    """The small practice with Ms. Vega recorded twice."""
    service = service_of(small)
    service.save("referrer", SECOND_VEGA, by=someone())
    service.record_referral({"id": "r9", "date": "2022-10-01", "referrer_id": "rf9", "client_id": "cl1",
                             "addressed_to": "cn3"}, by=someone())
    service.record_introduction({"id": "i9", "date": "2022-10-05", "referrer_id": "rf9", "introduced_id": "cn2",
                                 "by_id": "cn3"}, by=someone())
    service.record_contact({"id": "k9", "date": "2023-03-15", "referrer_id": "rf9", "member_id": "cn1",
                            "kind": "school_consult"}, by=someone())
    return small


def referrers_of(graph, export: str) -> dict:
    return {r["id"]: r["referrer_id"] for r in graph.read(export)}


# -- finding them ------------------------------------------------------------------------------------------


def test_names_are_compared_without_titles_degrees_or_punctuation():
    assert [bare_name(n) for n in ("Dr. Ann Lee, MD", "Ann Lee", "Ms. Vega, LCSW", "Rev. Stone", "Dr.")] == [
        "ann lee", "ann lee", "vega", "stone", ""]


def test_alike_names_at_alike_organizations_are_likely_duplicates():
    import networkx as nx

    G = nx.Graph()
    for node, name, organization in (("a", "Dr. Ann Lee, MD", "Lee Family Clinic"), ("b", "Ann Lee", "Lee Family"),
                                     ("c", "Ann Lee", "Harbor High School"),    # another Ann Lee elsewhere
                                     ("d", "Dr. Anne Lee", "Lee Family Clinic"),  # one letter more
                                     ("e", "Tom Reyes", ""), ("f", "Tom Reyes, NP", "Reyes Pediatrics"),
                                     ("g", "Ann Leigh", "Lee Family Clinic")):  # too far
        G.add_node(node, kind="referrer", name=name, organization=organization)
    G.add_node("cn1", kind="clinician", name="Ann Lee")  # a member is never a referrer's twin
    assert [(p["ids"], p["name"], p["organization"], p["reasons"]) for p in likely_duplicate_referrers(G)] == [
        (("a", "b"), 100.0, 100.0, ["the same name", "the same organization"]),
        (("e", "f"), 100.0, None, ["the same name", "one has no organization"]),
        (("a", "d"), 93.3, 100.0, ["names alike (93.3 of 100)", "the same organization"]),
        (("b", "d"), 93.3, 100.0, ["names alike (93.3 of 100)", "the same organization"])]


def test_the_page_lists_the_pair_for_a_manager_only(twice, client, client_as):
    page = client.get("/referrers/duplicates")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "1 pair." in body and "the same name; the same organization" in body
    assert 'action="/referrers/rf9/merge"' in body and 'action="/referrers/rf2/merge"' in body
    assert client_as("clinician").get("/referrers/duplicates").status_code == 403


# -- merging them ------------------------------------------------------------------------------------------


def test_a_merge_moves_everything_to_the_record_kept(twice, web_accounts):
    done = service_of(twice, audit=web_accounts).merge_referrers("rf9", {"into": "rf2"}, by=someone())
    assert done == {"merged": "rf9", "into": "rf2", "point_person_id": "cn2", "since": date(2022, 9, 1),
                    "dropped": ["k9"]}
    assert referrers_of(twice, "export_referrals")["r9"] == "rf2"
    assert referrers_of(twice, "export_introductions")["i9"] == "rf2"
    assert "k9" not in referrers_of(twice, "export_contacts")  # the same school consult, recorded twice: once
    assert [r["id"] for r in twice.read("export_referrers")] == ["rf1", "rf2", "rf3"]
    # The histories joined: Cleo Park from rf9's start, then rf2's own two tenures.
    rf2 = [r for r in twice.read("export_referrers") if r["id"] == "rf2"][0]
    assert (rf2["point_person_id"], str(rf2["since"]), rf2["name"]) == ("cn3", "2022-09-01", "Ms. Vega")
    assert [(str(h["date"]), h["point_person_id"]) for h in twice.read("export_handoffs")
            if h["referrer_id"] == "rf2"] == [("2023-03-01", "cn1"), ("2024-01-15", "cn2")]
    entries = [(e["action"], e["ids"], e["detail"]) for e in web_accounts.entries() if e["action"] == "merge referrer"]
    assert entries == [("merge referrer", ["rf9", "rf2"], {"dropped": ["k9"]})]
    assert service_of(twice).merged_into("rf9") == "rf2" and service_of(twice).merged_into("rf2") is None


def test_a_merge_that_cannot_be_is_refused_and_changes_nothing(twice):
    before = snapshot(twice)
    service = service_of(twice)
    with pytest.raises(InvalidInput, match="field 'into': a referrer cannot be merged into itself"):
        service.merge_referrers("rf9", {"into": "rf9"}, by=someone())
    with pytest.raises(NotFound, match="field 'into': unknown referrer 'rf404'"):
        service.merge_referrers("rf9", {"into": "rf404"}, by=someone())
    with pytest.raises(NotFound, match="unknown referrer 'cn1'"):
        service.merge_referrers("cn1", {"into": "rf2"}, by=someone())
    with pytest.raises(Forbidden):
        service.merge_referrers("rf9", {"into": "rf2"}, by=Actor("ana", "clinician", "cn1"))
    assert snapshot(twice) == before
    service.merge_referrers("rf9", {"into": "rf2"}, by=someone())
    with pytest.raises(NotFound, match="referrer 'rf9' was merged into 'rf2' already"):
        service.merge_referrers("rf9", {"into": "rf2"}, by=someone())
    with pytest.raises(NotFound, match="field 'into': referrer 'rf9' was merged into 'rf2' already"):
        service.merge_referrers("rf1", {"into": "rf9"}, by=someone())
    # The merged id stays taken: no new referrer gets it.
    with pytest.raises(InvalidInput):
        service.save("referrer", {**SECOND_VEGA, "name": "Someone Else"}, by=someone())


def test_two_merges_of_one_pair_at_once_have_one_winner(twice):
    outcomes = []

    def merge(source, into, barrier):
        barrier.wait()
        try:
            outcomes.append(("ok", service_of(twice).merge_referrers(source, {"into": into}, by=someone())))
        except Exception as e:  # noqa: BLE001 (the outcome is the test's)
            outcomes.append(("error", e))

    barrier = threading.Barrier(2)  # rf9 into rf2, and rf2 into rf9, released together
    threads = [threading.Thread(target=merge, args=(*pair, barrier)) for pair in (("rf9", "rf2"), ("rf2", "rf9"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(status for status, _ in outcomes) == ["error", "ok"], outcomes
    (winner,) = [value for status, value in outcomes if status == "ok"]
    (loser,) = [value for status, value in outcomes if status == "error"]
    assert isinstance(loser, NotFound) and "was merged into" in str(loser)
    kept = winner["into"]
    assert [r["id"] for r in twice.read("export_referrers")] == sorted(["rf1", kept, "rf3"])
    assert referrers_of(twice, "export_referrals")["r9"] == kept  # nothing lost, nothing twice
    assert sorted(referrers_of(twice, "export_introductions")) == ["i1", "i2", "i9"]


# -- the web and the API -----------------------------------------------------------------------------------


def test_the_form_merges_and_the_old_page_leads_to_the_one_kept(twice, client):
    page = client.get("/referrers/duplicates").get_data(as_text=True)
    answer = client.post("/referrers/rf9/merge", data={"into": "rf2", "csrf_token": csrf_token_of(page)})
    assert (answer.status_code, answer.headers["Location"]) == (303, "/referrers/rf2")
    kept = client.get("/referrers/rf2").get_data(as_text=True)
    assert ("Merged &#39;rf9&#39; into Ms. Vega: its referrals, introductions, contacts and point-person history "
            "are here now; 1 event recorded on both was kept once.") in kept
    old = client.get("/referrers/rf9")
    assert (old.status_code, old.headers["Location"]) == (302, "/referrers/rf2")
    assert client.get("/referrers").get_data(as_text=True).count("Ms. Vega") == 1
    assert "No likely duplicates" in client.get("/referrers/duplicates").get_data(as_text=True)


def test_the_form_needs_its_token_and_a_manager(twice, client, client_as):
    before = snapshot(twice)
    assert client.post("/referrers/rf9/merge", data={"into": "rf2"}).status_code == 400  # no CSRF token
    clinician = client_as("clinician")
    token = csrf_token_of(clinician.get("/referrers/rf2").get_data(as_text=True))
    assert clinician.post("/referrers/rf9/merge", data={"into": "rf2", "csrf_token": token}).status_code == 403
    assert snapshot(twice) == before


def test_the_api_merges_with_a_managers_token_and_leads_on(twice, client, web_accounts):
    _, token = web_accounts.create_token("manager", "test")
    api = {"Authorization": f"Bearer {token}"}
    assert client.post("/api/referrers/rf9/merge", json={"into": "rf2"}).status_code == 401  # the cookie: no
    bad = client.post("/api/referrers/rf9/merge", json={"into": "rf2", "keep": "both"}, headers=api)
    assert bad.status_code == 400 and bad.get_json()["problems"] == ["field 'keep': is not a known field"]
    done = client.post("/api/referrers/rf9/merge", json={"into": "rf2"}, headers=api)
    assert (done.status_code, done.get_json()) == (200, {"merged": "rf9", "into": "rf2", "point_person_id": "cn2",
                                                         "since": "2022-09-01", "dropped": ["k9"]})
    moved = client.get("/api/referrers/rf9")
    assert (moved.status_code, moved.headers["Location"]) == (308, "/api/referrers/rf2")
    again = client.post("/api/referrers/rf9/merge", json={"into": "rf2"}, headers=api)
    assert (again.status_code, again.get_json()) == (404, {"error": "referrer 'rf9' was merged into 'rf2' already"})
    _, clinician = web_accounts.create_token("clinician", "test")
    refused = client.post("/api/referrers/rf1/merge", json={"into": "rf2"},
                          headers={"Authorization": f"Bearer {clinician}"})
    assert refused.status_code == 403


def test_an_update_sent_to_both_records_on_one_day_is_kept_once_covering_both(twice):
    service = service_of(twice)
    service.hand_over({"referrer_id": "rf9", "to_clinician_id": "cn2", "date": "2024-01-15"}, by=someone())
    for referral, referrer in (("r10", "rf9"), ("r11", "rf2")):
        service.record_referral({"id": referral, "date": "2024-06-01", "referrer_id": referrer, "client_id": "cl2",
                                 "addressed_to": "cn2", "consent_to_update": "yes"}, by=someone())
    sent = {rid: service.send_update(rid, by=someone(), day=date(2024, 6, 20)) for rid in ("rf9", "rf2")}
    assert {rid: (s["member_id"], s["covers"]) for rid, s in sent.items()} == {
        "rf9": ("cn2", ["r10"]), "rf2": ("cn2", ["r11"])}
    done = service.merge_referrers("rf9", {"into": "rf2"}, by=someone())
    assert done["dropped"] == sorted(["k9", sent["rf9"]["id"]])
    contacts = {c["id"]: c for c in twice.read("export_contacts")}
    assert sent["rf9"]["id"] not in contacts
    assert contacts[sent["rf2"]["id"]]["covers"] == ["r10", "r11"]  # the loops the copy closed stay closed


def test_the_list_links_the_duplicates_and_odd_requests_are_refused(twice, client, client_as, web_accounts):
    assert 'href="/referrers/duplicates">Likely duplicates</a>' in client.get("/referrers").get_data(as_text=True)
    assert "Likely duplicates" not in client_as("clinician").get("/referrers").get_data(as_text=True)
    assert client.get("/referrers/duplicates?page=2").status_code == 400
    page = client.get("/referrers/duplicates").get_data(as_text=True)
    client.post("/referrers/rf9/merge", data={"into": "rf2", "csrf_token": csrf_token_of(page)})
    moved = client.get("/api/referrers/rf9?refresh=0")
    assert (moved.status_code, moved.headers["Location"]) == (308, "/api/referrers/rf2")  # refreshed once, here
    (merged,) = [n for n in twice.read("graph_snapshot", catalog=TEST_QUERIES)[0]["nodes"]
                 if n["props"].get("id") == "rf9"]
    # What is left of it: its id (still taken), its name and where it went; not its stored analysis.
    assert sorted(merged["labels"]) == ["MergedReferrer", "Party"]
    assert sorted(merged["props"]) == ["id", "merged_into", "merged_on", "name"]
    assert (merged["props"]["name"], merged["props"]["merged_into"]) == ("Ms. Vega, LCSW", "rf2")


def test_a_merge_travels_through_export_and_import(twice, tmp_path):
    from graphsvc.csvio.exporter import export_folder
    from graphsvc.csvio.importer import ImportRejected
    from graphsvc.store.schema import init_schema
    from tests.helpers import import_folder

    service_of(twice).merge_referrers("rf9", {"into": "rf2"}, by=someone())
    before = snapshot(twice, analysis=False)
    export_folder(twice, tmp_path / "out")
    merged = (tmp_path / "out" / "merged_referrers.csv").read_text().splitlines()
    assert merged[0] == "id,name,into,merged_on" and merged[1].startswith("rf9,\"Ms. Vega, LCSW\",rf2,")
    twice.write("wipe_graph", catalog=TEST_QUERIES)
    init_schema(twice)
    import_folder(twice, tmp_path / "out")
    assert snapshot(twice, analysis=False) == before  # the merged id too, still leading to the one kept
    assert service_of(twice).merged_into("rf9") == "rf2"
    # A folder may not make a referrer of a merged id, nor merge into a referrer it does not know.
    again = tmp_path / "again"
    again.mkdir()
    (again / "referrers.csv").write_text("id,name,kind,organization,point_person_id,since\n"
                                         "rf9,Someone,physician,,cn1,2024-01-01\n")
    (again / "merged_referrers.csv").write_text("id,name,into,merged_on\nrf8,Old,rf404,2024-01-01\n")
    with pytest.raises(ImportRejected) as caught:
        import_folder(twice, again)
    assert caught.value.problems == [
        "referrers.csv:2: field 'id': 'rf9' is already a merged referrer's id; a referrer needs an id of its own",
        "merged_referrers.csv:2: unknown into 'rf404' (the referrer kept)"]
