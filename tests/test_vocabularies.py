"""The practice's vocabularies (issue 18): words a manager keeps, refused typos with the closest words, a
first import adopting its words, ``--add-values``, the migration of an older database, the API and the page.

The small fixture's words: needs adhd, anxiety, autism, depression, inpatient_eating_disorders, trauma;
insurances aetna, bcbs, medicaid; niches forensic_evaluation, inpatient_eating_disorders, neuropsych_testing;
its populations, schedules and kinds are all built in.
"""

from __future__ import annotations

import json
import shutil

import pytest

from graphsvc.csvio.importer import ImportRejected
from graphsvc.errors import Forbidden, InvalidInput, NotFound
from graphsvc.service import Actor
from graphsvc.store.schema import init_schema
from graphsvc.vocabularies import Vocabularies, values_of
from graphsvc.vocabulary import CONTACT_KINDS
from tests.conftest import csrf_token_of
from tests.helpers import TEST_QUERIES, add_words, fixture_path, import_folder, service_of, snapshot, someone

SMALL_NEEDS = ["adhd", "anxiety", "autism", "depression", "inpatient_eating_disorders", "trauma"]
NEW_CLIENT = {"date": "2024-07-01", "referrer_id": "rf1", "addressed_to": "cn1"}


def stored(graph) -> list[tuple]:
    return [(r["vocabulary"], r["value"]) for r in graph.read("stored_terms", catalog=TEST_QUERIES)]


# -- the words, without a database ------------------------------------------------------------------------


def test_built_in_words_come_first_and_added_ones_alphabetically():
    words = Vocabularies({"contact_kinds": ["coffee", "board_meeting"], "needs": ["ocd", "adhd"]})
    assert words.values("contact_kinds") == [*CONTACT_KINDS, "board_meeting", "coffee"]
    assert words.values("needs") == ["adhd", "ocd"]
    assert words.values("niches") == []


def test_closest_words_are_the_likely_meant_ones():
    words = Vocabularies({"insurances": ["medicaid", "medicare", "bcbs", "aetna"]})
    assert words.closest("insurances", "medicaidd") == ["medicaid", "medicare"]
    # One letter from medicare, two from medicaid: both offered, the nearer first.
    assert words.closest("insurances", "medicade") == ["medicare", "medicaid"]
    assert words.closest("insurances", "united") == []


def test_every_field_a_vocabulary_keeps_is_read():
    from types import SimpleNamespace as R

    clinician = R(specialties=["adhd"], populations=["child"], insurances=["bcbs"], schedule=["weekend"])
    assert list(values_of("clinician", clinician)) == [
        ("specialties", "needs", "adhd"), ("populations", "populations", "child"),
        ("insurances", "insurances", "bcbs"), ("schedule", "schedules", "weekend")]
    assert list(values_of("referral_out", R(niche="tms"))) == [("niche", "niches", "tms")]
    assert list(values_of("referral", R(addressed_to="cn1"))) == []


# -- a first import adopts, a later one refuses -------------------------------------------------------------


def test_a_first_import_into_an_empty_practice_adopts_the_words_it_brings(graph):
    report = import_folder(graph, fixture_path("small"))
    assert report.values_added == {
        "needs": ["anxiety", "adhd", "trauma", "depression", "autism", "inpatient_eating_disorders"],
        "insurances": ["medicaid", "bcbs", "aetna"],
        "niches": ["inpatient_eating_disorders", "forensic_evaluation", "neuropsych_testing"]}
    assert report.as_dict()["values_added"] == report.values_added
    assert [w for v, w in stored(graph) if v == "needs"] == SMALL_NEEDS
    assert service_of(graph).words().values("insurances") == ["aetna", "bcbs", "medicaid"]
    again = import_folder(graph, fixture_path("small"))  # idempotent: nothing new
    assert again.values_added == {}


def unknown_words_folder(tmp_path):
    folder = tmp_path / "more"
    folder.mkdir(exist_ok=True)
    (folder / "clients.csv").write_text("id,needs,population,insurance,schedule\n"
                                        "cl8,adhdd;grief,child,medicade,\n"
                                        "cl9,anxiety,adult,bcbs,\n")
    (folder / "referrers.csv").write_text("id,name,kind,organization,point_person_id,since\n"
                                          "rf9,Dr. Cho,nurse_practitioner,,cn1,2024-01-01\n")
    return folder


def test_a_later_import_refuses_unknown_words_naming_the_closest(small, tmp_path):
    before = snapshot(small)
    with pytest.raises(ImportRejected) as caught:
        import_folder(small, unknown_words_folder(tmp_path))
    assert caught.value.problems == [
        "clients.csv:2: field 'needs': 'adhdd' is not on the practice's list of needs; did you mean adhd? "
        "(a manager can add it under Settings, Vocabularies)",
        "clients.csv:2: field 'needs': 'grief' is not on the practice's list of needs "
        "(a manager can add it under Settings, Vocabularies)",
        "clients.csv:2: field 'insurance': 'medicade' is not on the practice's list of insurances; did you mean "
        "medicaid? (a manager can add it under Settings, Vocabularies)",
        "referrers.csv:2: field 'kind': 'nurse_practitioner' is not on the practice's list of referrer kinds "
        "(a manager can add it under Settings, Vocabularies)",
    ]
    assert [(w["source"], w["line"], w["field"], w["value"], w["did_you_mean"]) for w in caught.value.words] == [
        ("clients.csv", 2, "needs", "adhdd", ["adhd"]), ("clients.csv", 2, "needs", "grief", []),
        ("clients.csv", 2, "insurance", "medicade", ["medicaid"]),
        ("referrers.csv", 2, "kind", "nurse_practitioner", [])]
    assert "or --add-values to add the words" in str(caught.value)
    assert snapshot(small) == before


def test_add_values_adds_each_word_lists_and_audits_it(small, tmp_path, web_accounts):
    service = service_of(small, audit=web_accounts)
    report = service.import_folder(unknown_words_folder(tmp_path), by=someone(), add_values=True)
    assert report.values_added == {"needs": ["adhdd", "grief"], "insurances": ["medicade"],
                                   "referrer_kinds": ["nurse_practitioner"]}
    assert (report.files["clients.csv"].written, report.files["referrers.csv"].written) == (2, 1)
    entries = [(e["action"], e["detail"]["vocabulary"], e["detail"]["values"])
               for e in web_accounts.entries() if e["action"] == "vocabulary add"]
    assert sorted(entries) == [("vocabulary add", "insurances", ["medicade"]),
                               ("vocabulary add", "needs", ["adhdd", "grief"]),
                               ("vocabulary add", "referrer_kinds", ["nurse_practitioner"])]
    with pytest.raises(Forbidden):  # adding words is a manager's
        service.import_folder(unknown_words_folder(tmp_path), by=Actor("ana", "clinician", "cn1"), add_values=True)


def test_skip_bad_writes_the_rows_whose_words_are_known(small, tmp_path):
    report = import_folder(small, unknown_words_folder(tmp_path), skip_bad=True)
    assert (report.files["clients.csv"].written, report.files["clients.csv"].bad) == (1, 1)
    assert report.values_added == {}
    assert ("needs", "adhdd") not in stored(small)


# -- single writes -------------------------------------------------------------------------------------------


def test_a_write_with_a_typo_is_refused_with_the_closest_words_and_changes_nothing(small):
    before = snapshot(small)
    with pytest.raises(InvalidInput) as caught:
        service_of(small).record_referral({**NEW_CLIENT, "client": {"needs": ["adhdd"], "insurance": "medicade"}},
                                          by=someone())
    assert caught.value.problems == [
        "field 'client.needs': 'adhdd' is not on the practice's list of needs; did you mean adhd? "
        "(a manager can add it under Settings, Vocabularies)",
        "field 'client.insurance': 'medicade' is not on the practice's list of insurances; did you mean "
        "medicaid? (a manager can add it under Settings, Vocabularies)"]
    assert caught.value.words == [
        {"field": "client.needs", "value": "adhdd", "vocabulary": "needs", "did_you_mean": ["adhd"]},
        {"field": "client.insurance", "value": "medicade", "vocabulary": "insurances", "did_you_mean": ["medicaid"]}]
    assert snapshot(small) == before
    # The matcher still knows only real words: the typo was never stored.
    assert "adhdd" not in service_of(small).words().values("needs")


def test_a_word_a_manager_added_is_taken_at_once(small):
    service = service_of(small)
    with pytest.raises(InvalidInput):
        service.record_contact({"date": "2024-08-02", "referrer_id": "rf3", "member_id": "cn2", "kind": "coffee"},
                               by=someone())
    added = service.add_word("contact_kinds", {"value": "coffee"}, by=someone())
    assert added == {"vocabulary": "contact_kinds", "value": "coffee", "added": True,
                     "values": [*CONTACT_KINDS, "coffee"]}
    row = service.record_contact({"date": "2024-08-02", "referrer_id": "rf3", "member_id": "cn2", "kind": "coffee"},
                                 by=someone())
    assert row["kind"] == "coffee"
    assert service.add_word("contact_kinds", {"value": "coffee"}, by=someone())["added"] is False
    assert service.add_word("contact_kinds", {"value": "lunch"}, by=someone())["added"] is False  # built in
    with pytest.raises(InvalidInput) as caught:
        service.add_word("needs", {"value": "Eating Disorders"}, by=someone())
    assert caught.value.problems == [
        "field 'value': must be a lowercase slug of letters, digits and _ (got 'Eating Disorders')"]
    with pytest.raises(NotFound):
        service.add_word("colours", {"value": "red"}, by=someone())
    with pytest.raises(Forbidden):
        service.add_word("needs", {"value": "ocd"}, by=Actor("intake", "intake"))


# -- an older database ---------------------------------------------------------------------------------------


def test_an_older_database_adopts_the_words_in_use_once(small):
    small.write("forget_vocabularies", catalog=TEST_QUERIES)
    assert stored(small) == []
    init_schema(small)
    adopted = ([("insurances", w) for w in ("aetna", "bcbs", "medicaid")] + [("needs", w) for w in SMALL_NEEDS]
               + [("niches", w) for w in ("forensic_evaluation", "inpatient_eating_disorders", "neuropsych_testing")])
    assert stored(small) == adopted
    # Once: a word a manager removed by hand (in Cypher) is not brought back by the next start.
    small.write_tx(lambda tx: tx.run("MATCH (t:Term {vocabulary: 'needs', value: 'trauma'}) DELETE t").consume())
    init_schema(small)
    assert stored(small) == [w for w in adopted if w != ("needs", "trauma")]


def test_an_import_into_an_older_database_knows_the_words_it_holds(small, tmp_path, monkeypatch):
    from graphsvc.store import schema

    small.write("forget_vocabularies", catalog=TEST_QUERIES)
    monkeypatch.setattr(schema, "_ready", set())  # a new process: nothing has met this database yet
    folder = tmp_path / "later"
    folder.mkdir()
    (folder / "clients.csv").write_text("id,needs,population,insurance,schedule\ncl8,trauma,adult,aetna,\n")
    report = import_folder(small, folder)  # trauma and aetna were in use: the import's first step adopts them
    assert (report.files["clients.csv"].written, report.values_added) == (1, {})


def test_the_referrer_list_filters_on_a_kind_a_manager_added(small, client, graph):
    add_words(graph, referrer_kinds=["nurse_practitioner"])
    service_of(graph).save("referrer", {"id": "rf9", "name": "Nat Cho", "kind": "nurse_practitioner",
                                        "point_person_id": "cn1", "since": "2024-01-01"}, by=someone())
    page = client.get("/referrers?kind=nurse_practitioner")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Nat Cho" in body and "Dr. Hale" not in body and '<option value="nurse_practitioner" selected>' in body
    assert client.get("/referrers?kind=nurse").status_code == 400


# -- the API ---------------------------------------------------------------------------------------------------


def test_the_api_lists_and_adds_words(small, as_role, web_accounts):
    manager = as_role("manager")
    assert manager.get("/api/vocabularies/needs").get_json() == {"values": SMALL_NEEDS}
    answer = manager.post("/api/vocabularies/needs", json={"value": "ocd"})
    assert (answer.status_code, answer.get_json()) == (201, {
        "vocabulary": "needs", "value": "ocd", "added": True, "values": SMALL_NEEDS[:4] + [
            "inpatient_eating_disorders", "ocd", "trauma"]})
    assert manager.post("/api/vocabularies/needs", json={"value": "ocd"}).status_code == 200
    entry = web_accounts.entries(limit=1)[0]
    assert (entry["action"], entry["user"], entry["detail"]) == (
        "vocabulary add", "manager", {"vocabulary": "needs", "values": ["ocd"], "count": 1, "via": "one word"})
    for role in ("intake", "clinician", "analyst"):
        refused = as_role(role).post("/api/vocabularies/needs", json={"value": "grief"})
        assert refused.status_code == 403, role
        assert as_role(role).get("/api/vocabularies/needs").status_code == 200
    bad = manager.post("/api/vocabularies/needs", json={"value": "Grief!"})
    assert (bad.status_code, bad.get_json()["problems"]) == (
        400, ["field 'value': must be a lowercase slug of letters, digits and _ (got 'Grief!')"])
    assert manager.post("/api/vocabularies/needs", json=["grief"]).status_code == 400
    assert manager.post("/api/vocabularies/needs", json={"value": "grief", "x": 1}).status_code == 400
    assert manager.get("/api/vocabularies/colours").status_code == 404
    assert manager.post("/api/vocabularies/colours", json={"value": "red"}).status_code == 404
    assert "grief" not in manager.get("/api/vocabularies/needs").get_json()["values"]


def test_an_api_write_with_a_typo_is_a_400_with_did_you_mean(small, as_role):
    answer = as_role("manager").post("/api/referrals", json={**NEW_CLIENT, "client": {"needs": ["adhdd", "anxeity"]}})
    body = answer.get_json()
    assert answer.status_code == 400
    assert body["did_you_mean"] == {"client.needs": ["adhd", "anxiety"]}
    assert [(u["field"], u["value"], u["did_you_mean"]) for u in body["unknown_values"]] == [
        ("client.needs", "adhdd", ["adhd"]), ("client.needs", "anxeity", ["anxiety"])]
    assert body["problems"][0].startswith("field 'client.needs': 'adhdd' is not on the practice's list of needs")


def test_the_api_refuses_an_update_sent_contact_typed_by_hand(small, as_role):
    answer = as_role("manager").post("/api/contacts", json={"date": "2024-08-02", "referrer_id": "rf3",
                                                            "member_id": "cn2", "kind": "update_sent"})
    assert (answer.status_code, answer.get_json()["problems"]) == (400, [
        "field 'kind': an update_sent contact is recorded by sending the referrer's update "
        "(POST /api/referrers/<id>/update) (got 'update_sent')"])


# -- the page and the forms -------------------------------------------------------------------------------------


def test_a_manager_adds_a_word_on_the_page_in_plain_words(small, client, web_accounts):
    page = client.get("/settings/vocabularies").get_data(as_text=True)
    assert '<h2 id="t-needs">Needs <small class="muted">(6)</small></h2>' in page
    answer = client.post("/settings/vocabularies/needs", data={"value": "  Eating disorders ",
                                                               "csrf_token": csrf_token_of(page)})
    assert (answer.status_code, answer.headers["Location"]) == (303, "/settings/vocabularies#v-needs")
    page = client.get("/settings/vocabularies").get_data(as_text=True)
    assert "Added eating_disorders to needs." in page
    assert "<li><code>eating_disorders</code> eating disorders</li>" in page
    refused = client.post("/settings/vocabularies/needs", data={"value": "???", "csrf_token": csrf_token_of(page)})
    assert refused.status_code == 422
    assert "Type a word of letters and digits (spaces become _)" in refused.get_data(as_text=True)
    assert client.post("/settings/vocabularies/needs", data={"value": "ocd"}).status_code == 400  # no CSRF token
    assert client.post("/settings/vocabularies/colours",
                       data={"value": "x", "csrf_token": csrf_token_of(page)}).status_code == 404


def test_other_roles_read_the_vocabularies_but_add_nothing(small, graph, client_as):
    clinician = client_as("clinician")
    page = clinician.get("/settings/vocabularies").get_data(as_text=True)
    assert "A manager adds new words." in page and 'action="/settings/vocabularies/needs"' not in page
    before = snapshot(graph)
    answer = clinician.post("/settings/vocabularies/needs", data={"value": "ocd", "csrf_token": csrf_token_of(page)})
    assert answer.status_code == 403
    assert snapshot(graph) == before


def test_the_referral_form_offers_the_words_and_refuses_a_typo_beside_its_field(small, graph, client):
    form = client.get("/referrers/rf1/referrals/new").get_data(as_text=True)
    assert form.count('type="checkbox" name="needs"') == 6
    assert '<datalist id="l-insurance"><option value="aetna">Aetna</option><option value="bcbs">BCBS</option>' in form
    before = snapshot(graph)
    answer = client.post("/referrers/rf1/referrals/new", data={
        "date": "2024-06-10", "needs": ["adhd"], "insurance": "medicade", "addressed_to": "cn1", "do": "save",
        "csrf_token": csrf_token_of(form)})
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert ("&#39;medicade&#39; is not on the practice&#39;s list of insurances; did you mean medicaid? "
            "(a manager can add it under Settings, Vocabularies)") in page
    assert 'list="l-insurance" autocomplete="off" value="medicade" aria-invalid="true"' in page
    assert snapshot(graph) == before


def test_import_from_the_command_line_lists_added_words(small, cli, tmp_path):
    folder = unknown_words_folder(tmp_path)
    refused = cli("import", str(folder), "--json")
    body = json.loads(refused.output)
    assert (refused.exit_code, body["ok"], len(body["unknown_values"])) == (1, False, 4)
    done = cli("import", str(folder), "--add-values")
    assert done.exit_code == 0, done.output
    assert "added to needs: adhdd, grief" in done.output
    assert "added to referrer_kinds: nurse_practitioner" in done.output
    shutil.rmtree(folder)


# -- export and import ---------------------------------------------------------------------------------------


def test_an_export_carries_the_words_and_an_import_brings_them_back(small, tmp_path):
    from graphsvc.csvio.exporter import export_folder

    add_words(small, needs=["ocd"], contact_kinds=["board_meeting"])  # words no record uses yet
    export_folder(small, tmp_path / "out")
    lines = (tmp_path / "out" / "vocabularies.csv").read_text().splitlines()
    assert lines[0] == "vocabulary,value" and "needs,ocd" in lines and "contact_kinds,board_meeting" in lines
    assert len(lines) == 1 + 12 + 2  # the 12 words the small practice's import adopted, and the two added
    before = stored(small)
    small.write("wipe_graph", catalog=TEST_QUERIES)
    init_schema(small)
    report = import_folder(small, tmp_path / "out")
    assert stored(small) == before
    assert report.values_added["needs"] == ["adhd", "anxiety", "autism", "depression", "inpatient_eating_disorders",
                                            "ocd", "trauma"]  # vocabularies.csv's order: by vocabulary and word


def test_a_vocabularies_file_adds_its_words_and_refuses_a_bad_row(small, tmp_path):
    folder = tmp_path / "words"
    folder.mkdir()
    (folder / "vocabularies.csv").write_text("vocabulary,value\nneeds,ocd\nfeelings,calm\ninsurances,Self Pay\n")
    with pytest.raises(ImportRejected) as caught:
        import_folder(small, folder)
    assert [p.split(": field ")[0] for p in caught.value.problems] == ["vocabularies.csv:3", "vocabularies.csv:4"]
    (folder / "vocabularies.csv").write_text("vocabulary,value\nneeds,ocd\ninsurances,self_pay\npopulations,adult\n")
    (folder / "clients.csv").write_text("id,needs,population,insurance,schedule\ncl8,ocd,adult,self_pay,\n")
    before = snapshot(small)
    with pytest.raises(Forbidden):  # adding words to a practice in use is a manager's
        service_of(small).import_folder(folder, by=Actor("ana", "clinician", "cn1"))
    assert snapshot(small) == before
    report = import_folder(small, folder)  # the words listed are the practice's, and the rows after may use them
    assert report.values_added == {"needs": ["ocd"], "insurances": ["self_pay"]}
    assert ("needs", "ocd") in stored(small) and report.files["clients.csv"].written == 1
    assert ("populations", "adult") not in stored(small)  # a built-in word listed: known, never stored
