"""An NPI on clinicians, staff members and referrers (issue 20, first slice): the one check of its digits
(``limits.npi_problem``), one party per NPI on every path (import, the service's writes, the API, the
forms, two writes at once), stored, exported and imported exactly, shown and served."""

from __future__ import annotations

import filecmp
import html
import re
import shutil
from pathlib import Path

import pytest
from neo4j.exceptions import ConstraintError

from graphsvc.csvio.exporter import export_folder
from graphsvc.csvio.importer import ImportRejected
from graphsvc.errors import InvalidInput, NpiTaken
from graphsvc.inputs import ClinicianInput, ReferrerChange, StaffInput, parse
from graphsvc.limits import npi_check_digit, npi_problem
from graphsvc.records import KIND
from graphsvc.store import writes as store
from tests.conftest import csrf_token_of
from tests.helpers import TEST_QUERIES, fixture_path, import_folder, service_of, snapshot, someone
from tests.test_concurrency import race

NPI = "1234567893"     # CMS's own example of a valid NPI
OTHER = "9876543213"
THIRD = "1111111112"


# -- the digits ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("value, problem", [
    ("1234567893", None),
    ("9876543213", None),
    ("1000000004", None),
    ("1234567890", "'1234567890' is not an NPI: its check digit should be 3"),
    ("9876543210", "'9876543210' is not an NPI: its check digit should be 3"),
    ("123456789", "'123456789' is not an NPI: an NPI is exactly 10 digits (this has 9 characters)"),
    ("12345678931", "'12345678931' is not an NPI: an NPI is exactly 10 digits (this has 11 characters)"),
    ("12345678AB", "'12345678AB' is not an NPI: an NPI is exactly 10 digits 0-9 (found 'A' at character 9)"),
    ("１２３４５６７８９３", "'１２３４５６７８９３' is not an NPI: an NPI is exactly 10 digits 0-9 "
                          "(found '１' at character 1)"),  # fullwidth digits are not ASCII digits
    ("123 567893", "'123 567893' is not an NPI: an NPI is exactly 10 digits 0-9 (found ' ' at character 4)"),
])
def test_npi_problem(value, problem):
    assert npi_problem(value) == problem


def test_check_digit_is_luhn_over_80840_and_the_first_nine():
    # The standard's worked example: the prefix 80840 adds 24 to the Luhn sum of 123456789 (43): 67, so 3.
    assert npi_check_digit("123456789") == 3
    assert [npi_check_digit(nine) for nine in ("987654321", "111111111", "222222222", "100000000")] == [3, 2, 8, 4]


def test_the_record_models_check_it_and_name_the_field():
    for kind, fields in (("clinician", {"id": "cn9", "name": "Ida Wu"}),
                         ("staff", {"id": "st9", "name": "Max Bell", "role": "office_manager"}),
                         ("referrer", {"id": "rf9", "name": "Dr. Ode", "kind": "physician",
                                       "point_person_id": "cn1", "since": "2024-01-02"})):
        assert KIND[kind].parse(**fields, npi=NPI).npi == NPI
        assert KIND[kind].parse(**fields, npi="").npi is None  # an empty cell: none
        assert KIND[kind].parse(**fields).npi is None
        with pytest.raises(InvalidInput) as caught:
            KIND[kind].parse(**fields, npi="1234567890")
        assert caught.value.problems == ["field 'npi': '1234567890' is not an NPI: its check digit should be 3"]
    with pytest.raises(InvalidInput) as caught:
        KIND["external_provider"].parse(id="ep9", name="X", npi=NPI)  # not an outside provider's (yet)
    assert caught.value.problems == ["field 'npi': is not a known field"]


def test_the_request_models_take_it_as_text_or_leave_it_out():
    assert parse(StaffInput, {"name": "Max Bell", "role": "office_manager", "npi": NPI}).given()["npi"] == NPI
    assert "npi" not in parse(ClinicianInput, {"name": "Ida Wu"}).given()
    for value, problem in (("", "field 'npi': must not be empty (leave the field out for none)"),
                           (1234567893, "field 'npi': must be text (got 1234567893)"),
                           ("12345678", "field 'npi': '12345678' is not an NPI: an NPI is exactly 10 digits "
                                        "(this has 8 characters)")):
        with pytest.raises(InvalidInput) as caught:
            parse(ReferrerChange, {"name": "Dr. Ode", "kind": "physician", "point_person_id": "cn1",
                                   "since": "2024-01-02", "npi": value})
        assert caught.value.problems == [problem]


# -- the service: one party per NPI ----------------------------------------------------------------------


def refused(graph, call) -> list[str]:
    before = snapshot(graph)
    with pytest.raises(InvalidInput) as caught:
        call()
    assert snapshot(graph) == before
    return caught.value.problems


def npis(graph) -> dict[str, str | None]:
    rows = graph.read_tx(lambda tx: tx.run("MATCH (p:Party) RETURN p.id AS id, p.npi AS npi").data())
    return {r["id"]: r["npi"] for r in rows if r["npi"] is not None}


def test_one_npi_one_party_through_the_service(small, graph):
    service, by = service_of(graph), someone()
    row = service.save("clinician", {"id": "cn9", "name": "Ida Wu", "npi": NPI}, by=by)
    assert row["npi"] == NPI
    referrer = {"name": "Dr. Ode", "kind": "physician", "point_person_id": "cn1", "since": "2024-01-02"}
    assert refused(graph, lambda: service.save("referrer", {**referrer, "id": "rf9", "npi": NPI}, by=by)) == [
        "field 'npi': 1234567893 is already the NPI of clinician 'cn9'; one NPI belongs to one party"]
    assert refused(graph, lambda: service.save("staff", {"name": "Dee Lang", "role": "intake_coordinator",
                                                         "npi": NPI}, by=by, record_id="st1")) == [
        "field 'npi': 1234567893 is already the NPI of clinician 'cn9'; one NPI belongs to one party"]
    # A referral's generated id does not make the refusal a "no free id" (the NPI, not the id, clashes).
    assert refused(graph, lambda: service.save("referrer", {**referrer, "npi": NPI}, by=by)) == [
        "field 'npi': 1234567893 is already the NPI of clinician 'cn9'; one NPI belongs to one party"]
    # Its own NPI, saved again, is no clash; a change without it removes it; then another party may take it.
    service.save("clinician", {"name": "Ida Wu", "accepting_new": False, "npi": NPI}, by=by, record_id="cn9")
    assert npis(graph) == {"cn9": NPI}
    service.save("clinician", {"name": "Ida Wu"}, by=by, record_id="cn9")
    assert npis(graph) == {}
    service.save("referrer", {**referrer, "id": "rf9", "npi": NPI}, by=by)
    service.save("staff", {"name": "Dee Lang", "role": "intake_coordinator", "npi": OTHER}, by=by, record_id="st1")
    assert npis(graph) == {"rf9": NPI, "st1": OTHER}
    assert refused(graph, lambda: service.save("clinician", {"name": "Ana Ruiz", "npi": OTHER}, by=by,
                                               record_id="cn1")) == [
        "field 'npi': 9876543213 is already the NPI of staff member 'st1'; one NPI belongs to one party"]


def test_the_constraint_holds_across_labels_and_says_npi(small, graph):
    with pytest.raises(ConstraintError):
        with graph.session(write=True) as s:
            s.run("CREATE (:Referrer:Party {id: 'x1', npi: $npi}) CREATE (:Member:Staff:Party {id: 'x2', npi: $npi})",
                  npi=NPI).consume()
    service_of(graph).save("clinician", {"id": "cn9", "name": "Ida Wu", "npi": NPI}, by=someone())
    # A write that skipped the checks (as an import's batch racing a single write would): NpiTaken, not an id.
    with pytest.raises(NpiTaken) as caught:
        store.run_write(graph, lambda unit: unit.upsert("staff", [{"id": "st9", "name": "Max", "role": "office_manager",
                                                                   "npi": NPI}]))
    assert (caught.value.field, caught.value.record_id) == ("npi", NPI)


def test_two_referrers_with_one_npi_at_once_exactly_one_wins(small, graph):
    service = service_of(graph)

    def save(referrer_id):
        return lambda: service.save("referrer", {"id": referrer_id, "name": f"Dr. {referrer_id}", "kind": "physician",
                                                 "point_person_id": "cn1", "since": "2024-01-02", "npi": NPI},
                                    by=someone())

    for attempt in range(3):
        a, b = f"ra{attempt}", f"rb{attempt}"
        outcomes = race(save(a), save(b))
        assert sorted(kind for kind, _ in outcomes) == ["error", "ok"], outcomes
        won = next(result["id"] for kind, result in outcomes if kind == "ok")
        error = next(result for kind, result in outcomes if kind == "error")
        assert isinstance(error, InvalidInput)
        assert error.problems == [f"field 'npi': {NPI} is already the NPI of referrer {won!r}; "
                                  "one NPI belongs to one party"]
        assert npis(graph) == {won: NPI}
        service.save("referrer", {"name": f"Dr. {won}", "kind": "physician", "point_person_id": "cn1",
                                  "since": "2024-01-02"}, by=someone(), record_id=won)  # free it again


# -- import and export ----------------------------------------------------------------------------------------


def small_with_npis(folder: Path) -> Path:
    """The small fixture practice with NPIs on a clinician, a staff member and two referrers."""
    shutil.copytree(fixture_path("small"), folder)
    for name, npi_of in (("clinicians.csv", {"cn1": NPI}), ("staff.csv", {"st2": OTHER}),
                         ("referrers.csv", {"rf1": THIRD, "rf3": "2222222228"})):
        lines = (folder / name).read_text().splitlines()
        out = [lines[0] + ",npi"] + [line + "," + npi_of.get(line.split(",")[0], "") for line in lines[1:]]
        (folder / name).write_text("\n".join(out) + "\n")
    return folder


def test_npis_round_trip_exactly(graph, tmp_path):
    folder = small_with_npis(tmp_path / "in")
    report = import_folder(graph, folder)
    assert report.problems == []
    assert npis(graph) == {"cn1": NPI, "st2": OTHER, "rf1": THIRD, "rf3": "2222222228"}
    export_folder(graph, tmp_path / "out")
    for name in ("clinicians.csv", "staff.csv", "referrers.csv"):
        assert filecmp.cmp(folder / name, tmp_path / "out" / name, shallow=False), name
    assert (tmp_path / "out" / "referrers.csv").read_text().splitlines()[:2] == [
        "id,name,kind,organization,point_person_id,since,npi",
        "rf1,Dr. Hale,pediatrician,Northside Pediatrics,cn1,2023-01-10,1111111112"]
    before = snapshot(graph, analysis=False)
    graph.write("wipe_graph", catalog=TEST_QUERIES)
    graph.write("practice_node", catalog=TEST_QUERIES)
    assert import_folder(graph, tmp_path / "out").problems == []
    assert snapshot(graph, analysis=False) == before
    # Importing it again (ids and NPIs the graph holds already) changes nothing.
    assert import_folder(graph, tmp_path / "out").problems == []
    assert snapshot(graph, analysis=False) == before


def test_an_old_folder_without_the_column_imports_and_exports_it_empty(graph, tmp_path):
    assert import_folder(graph, fixture_path("small")).problems == []
    assert npis(graph) == {}
    export_folder(graph, tmp_path / "out")
    assert (tmp_path / "out" / "staff.csv").read_text() == "id,name,role,npi\nst1,Dee Lang,intake_coordinator,\n" \
                                                           "st2,Eli Moss,office_manager,\n"


def test_the_import_refuses_a_bad_npi_and_one_held_twice_naming_the_holder(graph, tmp_path):
    folder = small_with_npis(tmp_path / "in")
    with open(folder / "referrers.csv", "a") as f:
        f.write(f"rf8,Dr. Eight,physician,,cn2,2024-01-01,{NPI}\n")        # the clinician's, in the folder
        f.write("rf9,Dr. Nine,physician,,cn2,2024-01-01,1234567890\n")     # a wrong check digit
        f.write("rf7,Dr. Seven,physician,,cn2,2024-01-01,2222222228\n")    # rf3's, two lines up
    before = snapshot(graph)
    with pytest.raises(ImportRejected) as caught:
        import_folder(graph, folder)
    assert caught.value.problems == [
        "referrers.csv:5: field 'npi': 1234567893 is already the NPI of clinician 'cn1' (clinicians.csv line 2); "
        "one NPI belongs to one party",
        "referrers.csv:6: field 'npi': '1234567890' is not an NPI: its check digit should be 3",
        "referrers.csv:7: field 'npi': 2222222228 is already the NPI of referrer 'rf3' (referrers.csv line 4); "
        "one NPI belongs to one party",
    ]
    assert snapshot(graph) == before


def test_the_import_refuses_an_npi_the_graph_gives_another_party(small, graph, tmp_path):
    service_of(graph).save("staff", {"name": "Dee Lang", "role": "intake_coordinator", "npi": NPI}, by=someone(),
                           record_id="st1")
    folder = tmp_path / "more"
    folder.mkdir()
    (folder / "clinicians.csv").write_text(f"id,name,npi\ncn1,Ana Ruiz,{NPI}\ncn9,Ida Wu,{OTHER}\n")
    before = snapshot(graph)
    with pytest.raises(ImportRejected) as caught:
        import_folder(graph, folder)
    assert caught.value.problems == [
        "clinicians.csv:2: field 'npi': 1234567893 is already the NPI of staff member 'st1'; "
        "one NPI belongs to one party"]
    assert snapshot(graph) == before
    # The holder itself, imported with it again, is no clash.
    (folder / "clinicians.csv").unlink()
    (folder / "staff.csv").write_text(f"id,name,role,npi\nst1,Dee Lang,intake_coordinator,{NPI}\n")
    assert import_folder(graph, folder).problems == []


# -- the API ---------------------------------------------------------------------------------------------------


@pytest.fixture
def manager(as_role):
    return as_role("manager")


def test_the_api_takes_and_returns_it(small, graph, manager):
    made = manager.post("/api/referrers", json={"id": "rf9", "name": "Dr. Ode", "kind": "physician",
                                                "point_person_id": "cn2", "since": "2024-01-02", "npi": NPI})
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["npi"] == NPI
    assert manager.get("/api/referrers/rf9").get_json()["npi"] == NPI
    assert manager.get("/api/referrers/rf1").get_json()["npi"] is None
    answer = manager.post("/api/clinicians", json={"id": "cn9", "name": "Ida Wu", "npi": OTHER})
    assert (answer.status_code, answer.get_json()["npi"]) == (201, OTHER)
    answer = manager.put("/api/staff/st1", json={"name": "Dee Lang", "role": "intake_coordinator", "npi": THIRD})
    assert (answer.status_code, answer.get_json()["npi"]) == (200, THIRD)
    # Taken, or not an NPI: a 400 naming the field (and the holder), nothing written.
    before = snapshot(graph)
    answer = manager.post("/api/staff", json={"id": "st9", "name": "Max Bell", "role": "office_manager", "npi": NPI})
    assert answer.status_code == 400
    assert answer.get_json()["problems"] == [
        "field 'npi': 1234567893 is already the NPI of referrer 'rf9'; one NPI belongs to one party"]
    answer = manager.put("/api/clinicians/cn9", json={"name": "Ida Wu", "npi": "98765"})
    assert answer.status_code == 400
    assert answer.get_json()["problems"] == [
        "field 'npi': '98765' is not an NPI: an NPI is exactly 10 digits (this has 5 characters)"]
    assert snapshot(graph) == before
    # A change that leaves it out removes it (a PUT is the whole record).
    answer = manager.put("/api/referrers/rf9", json={"name": "Dr. Ode", "kind": "physician",
                                                     "point_person_id": "cn2", "since": "2024-01-02"})
    assert (answer.status_code, answer.get_json()["npi"]) == (200, None)
    assert manager.get("/api/referrers/rf9").get_json()["npi"] is None


def test_the_openapi_document_has_it(small, manager):
    doc = manager.get("/api/openapi.json").get_json()
    for path, method in (("/api/referrers", "post"), ("/api/referrers/{record_id}", "put"),
                         ("/api/clinicians", "post"), ("/api/clinicians/{record_id}", "put"),
                         ("/api/staff", "post"), ("/api/staff/{record_id}", "put")):
        body = doc["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
        assert body["properties"]["npi"]["pattern"] == "^[0-9]{10}$", (path, method)
        assert body["properties"]["npi"]["type"] == "string"
        assert "npi" not in body.get("required", [])
    answer = doc["paths"]["/api/referrers/{referrer_id}"]["get"]["responses"]["200"]["content"]["application/json"]
    assert {k: v for k, v in answer["schema"]["properties"]["npi"].items() if k != "description"} == {
        "type": ["string", "null"], "pattern": "^[0-9]{10}$"}
    made = doc["paths"]["/api/staff"]["post"]["responses"]["201"]["content"]["application/json"]["schema"]
    assert "npi" in made["properties"]


# -- the forms and pages ---------------------------------------------------------------------------------------


def post(client, url: str, data: dict):
    token = csrf_token_of(client.get(url).get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token})


def field_value(page: str, name: str) -> str:
    part = re.search(rf'<div class="field[^"]*" data-field="{name}">(.*?)</div>', page, re.S).group(1)
    found = re.search(r'<input [^>]*value="([^"]*)"', part)
    return html.unescape(found.group(1)) if found else ""


def field_messages(page: str, name: str) -> list[str]:
    part = re.search(rf'<div class="field[^"]*" data-field="{name}">(.*?)</div>', page, re.S).group(1)
    return [html.unescape(m) for m in re.findall(r'<p class="error"[^>]*>(.*?)</p>', part, re.S)]


def test_the_forms_have_an_optional_npi_and_the_pages_show_it(small, graph, client):
    referrer = {"name": "Dr. Ode", "kind": "physician", "organization": "", "point_person_id": "cn2",
                "since": "2024-05-01"}
    answer = post(client, "/referrers/new", {**referrer, "id": "rf9", "npi": NPI})
    assert answer.status_code == 303, answer.get_data(as_text=True)
    page = html.unescape(client.get("/referrers/rf9").get_data(as_text=True))
    assert f'physician · NPI <span class="npi">{NPI}</span>' in page
    edit = client.get("/referrers/rf9/edit").get_data(as_text=True)
    assert field_value(edit, "npi") == NPI
    # Blank: none (and no NPI shown).
    assert post(client, "/referrers/rf9/edit", {**referrer, "npi": ""}).status_code == 303
    assert "NPI" not in client.get("/referrers/rf9").get_data(as_text=True).split("<h1>")[1].split("</p>")[0]
    assert npis(graph) == {}
    # A clinician: the NPI on its page; its edit form keeps it when something else changes.
    assert post(client, "/clinicians/new", {"id": "cn9", "name": "Ida Wu", "npi": NPI}).status_code == 303
    assert f'NPI <span class="npi">{NPI}</span>' in client.get("/clinicians/cn9").get_data(as_text=True)
    edit = client.get("/clinicians/cn9/edit").get_data(as_text=True)
    assert field_value(edit, "npi") == NPI
    assert post(client, "/clinicians/cn9/edit", {"name": "Ida Wu-Lee", "npi": field_value(edit, "npi")}).status_code \
        == 303
    assert npis(graph) == {"cn9": NPI}
    # Taken, or a wrong digit: the message beside the field, what was typed kept, nothing written.
    before = snapshot(graph)
    answer = post(client, "/staff/new", {"id": "st9", "name": "Max Bell", "role": "office_manager", "npi": NPI})
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert [m.lower() for m in field_messages(page, "npi")] == [
        "1234567893 is already the npi of clinician 'cn9'; one npi belongs to one party."]
    assert field_value(page, "npi") == NPI
    answer = post(client, "/staff/st1/edit", {"name": "Dee Lang", "role": "intake_coordinator", "npi": "1234567890"})
    assert answer.status_code == 422
    assert [m.lower() for m in field_messages(answer.get_data(as_text=True), "npi")] == [
        "'1234567890' is not an npi: its check digit should be 3."]
    assert snapshot(graph) == before


def test_a_merged_referrer_keeps_no_npi(small, graph):
    # The merged record keeps only its id and name: its NPI is free again; the referrer kept keeps its own.
    service, by = service_of(graph), someone()
    service.save("referrer", {"name": "Dr. Hale", "kind": "pediatrician", "organization": "Northside Pediatrics",
                              "point_person_id": "cn1", "since": "2023-01-10", "npi": NPI}, by=by, record_id="rf1")
    service.save("referrer", {"name": "Ms. Vega", "kind": "school_counselor", "organization": "Lincoln Middle School",
                              "point_person_id": "cn1", "since": "2023-03-01", "npi": OTHER}, by=by, record_id="rf2")
    service.merge_referrers("rf1", {"into": "rf2"}, by=by)
    assert npis(graph) == {"rf2": OTHER}
    service.save("staff", {"name": "Dee Lang", "role": "intake_coordinator", "npi": NPI}, by=by, record_id="st1")
    assert npis(graph) == {"rf2": OTHER, "st1": NPI}
