"""Rules written once hold on every path: the web's forms, the JSON API, the CLI and the import.

Each was broken while a rule lived in two places (reproduced on a fresh database):

* an outside provider could take a clinician's id through the API (then ``/practice`` and
  ``/api/practice/summary`` failed), and through an import (then the worklists named the
  clinician after the provider);
* a follow-up contact recorded after a referral's due day never closed its row on the
  follow-up worklist, whose "why" still said "no follow-up contact since".
"""

from __future__ import annotations

import csv
import html
import io
import re
import shutil
from datetime import date

import pytest

from graphsvc.csvio.importer import ImportRejected
from tests.conftest import csrf_token_of
from tests.helpers import fixture_path, import_folder, snapshot

CLASH = "field 'id': 'cn1' is already a clinician's id; an outside provider needs an id of its own"


# -- one id space for every party ------------------------------------------------------------------------


def test_the_api_refuses_a_provider_with_a_clinicians_id_and_the_practice_pages_stay_up(small, client, web_accounts):
    _, token = web_accounts.create_token("manager", "test")
    api = {"Authorization": f"Bearer {token}"}
    before = snapshot(small)
    answer = client.post("/api/providers", json={"id": "cn1", "name": "X", "niches": ["inpatient_eating_disorders"]},
                         headers=api)
    assert (answer.status_code, answer.get_json()["problems"]) == (400, [CLASH])
    assert snapshot(small) == before
    assert client.get("/practice").status_code == 200
    summary = client.get("/api/practice/summary")
    assert summary.status_code == 200 and summary.get_json()["clinicians"]["cn1"]["name"] == "Ana Ruiz"
    # Nor the other way round: a new clinician, staff member or referrer with a provider's id.
    for path, body, noun in (("/api/clinicians", {"id": "ep1", "name": "Y"}, "a clinician"),
                             ("/api/staff", {"id": "ep1", "name": "Y", "role": "billing"}, "a staff member"),
                             ("/api/referrers", {"id": "ep1", "name": "Y", "kind": "clergy", "point_person_id": "cn1",
                                                 "since": "2024-01-01"}, "a referrer")):
        answer = client.post(path, json=body, headers=api)
        assert (answer.status_code, answer.get_json()["problems"]) == (
            400, [f"field 'id': 'ep1' is already an outside provider's id; {noun} needs an id of its own"])
    assert snapshot(small) == before


def test_the_form_refuses_a_provider_with_a_clinicians_id_beside_the_field(small, client, web_accounts):
    before, audited = snapshot(small), len(web_accounts.entries())
    token = csrf_token_of(client.get("/providers/new").get_data(as_text=True))
    answer = client.post("/providers/new", data={"csrf_token": token, "id": "cn1", "name": "Collision Clinic",
                                                 "niches": "tms"})
    assert answer.status_code == 422
    field = re.search(r'data-field="id".*?</div>', answer.get_data(as_text=True), re.S).group(0)
    assert [html.unescape(m) for m in re.findall(r'<p class="error"[^>]*>(.*?)</p>', field)] == [
        "'cn1' is already a clinician's id; an outside provider needs an id of its own."]  # the id kept
    assert snapshot(small) == before and len(web_accounts.entries()) == audited


def test_the_import_refuses_a_provider_with_a_clinicians_id_in_the_folder_or_the_graph(graph, tmp_path):
    folder = tmp_path / "clash"
    shutil.copytree(fixture_path("small"), folder)
    with open(folder / "external_providers.csv", "a") as f:
        f.write("cn1,Collision Clinic,eating_disorders\n")
    with pytest.raises(ImportRejected) as caught:  # cn1 defined in the same folder's clinicians.csv
        import_folder(graph, folder)
    assert caught.value.problems == [f"external_providers.csv:4: {CLASH}"]
    assert graph.read("export_clinicians") == [] and graph.read("export_external_providers") == []
    import_folder(graph, fixture_path("small"))
    before = snapshot(graph)
    only = tmp_path / "later"
    only.mkdir()
    (only / "external_providers.csv").write_text("id,name,niches\ncn1,Collision Clinic,inpatient_eating_disorders\n")
    with pytest.raises(ImportRejected) as caught:  # cn1 stored already
        import_folder(graph, only)
    assert caught.value.problems == [f"external_providers.csv:2: {CLASH}"]
    assert snapshot(graph) == before


def test_the_cli_import_says_which_row_and_writes_nothing(cli, graph, tmp_path):
    assert cli("import", fixture_path("small")).exit_code == 0
    before = snapshot(graph)
    only = tmp_path / "later"
    only.mkdir()
    (only / "external_providers.csv").write_text("id,name,niches\ncn1,Collision Clinic,eating_disorders\n")
    result = cli("import", str(only))
    assert result.exit_code == 1
    assert f"external_providers.csv:2: {CLASH}" in result.output
    assert snapshot(graph) == before


# -- what closes a follow-up -----------------------------------------------------------------------------


@pytest.fixture
def in_may(small, neo4j_settings, web_accounts, sign_in):
    """A manager's client of the app judging on 2024-05-10: r4 (rf2, 2024-03-05, due 03-19) and r5 (rf3,
    2024-04-01, due 04-15) overdue, r6 (rf2, 2024-05-01, due 05-15) due; no follow-up contact yet."""
    from graphsvc.web import create_app

    settings = neo4j_settings.with_(analysis={"as_of": date(2024, 5, 10)})
    app = create_app({"TESTING": True, "SECRET_KEY": "k"}, graph=small, settings=settings, accounts=web_accounts)
    return sign_in(app, "manager")


def follow_up_rows(client) -> list[tuple[str, str]]:
    answer = client.get("/worklists/follow-up?format=csv")
    return [(r["referral"], r["status"]) for r in csv.DictReader(io.StringIO(answer.get_data(as_text=True)))]


def test_a_follow_up_after_the_due_day_closes_the_row_late_through_the_form(in_may):
    assert follow_up_rows(in_may) == [("r4", "overdue"), ("r5", "overdue"), ("r6", "due")]
    token = csrf_token_of(in_may.get("/referrers/rf2/contacts/new").get_data(as_text=True))
    answer = in_may.post("/referrers/rf2/contacts/new", data={"csrf_token": token, "date": "2024-05-05",
                                                              "member_id": "cn2", "kind": "follow_up"})
    assert answer.status_code == 303
    # rf2's follow-up on 05-05 closes r4 (47 days after it: late) and r6 (in time); r5 is rf3's.
    assert follow_up_rows(in_may) == [("r5", "overdue")]
    page = html.unescape(in_may.get("/worklists/follow-up").get_data(as_text=True))
    assert "Referrals of the last 90 days: 3;\n  followed up in time 1, late 1;\n  still due 0, overdue 1." in page
    dashboard = html.unescape(in_may.get("/dashboard").get_data(as_text=True))
    assert "1 of\n  3 followed up in time, 1 late,\n  1 still open (1 overdue)" in dashboard


def test_a_follow_up_after_the_due_day_closes_the_row_through_the_api_and_an_import(in_may, small, web_accounts,
                                                                                   tmp_path):
    _, token = web_accounts.create_token("manager", "test")
    answer = in_may.post("/api/contacts", json={"date": "2024-04-20", "referrer_id": "rf3", "member_id": "cn2",
                                                "kind": "follow_up"}, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 201
    assert follow_up_rows(in_may) == [("r4", "overdue"), ("r6", "due")]  # r5 closed late (due 04-15)
    folder = tmp_path / "more"
    folder.mkdir()
    (folder / "contacts.csv").write_text("id,date,referrer_id,member_id,kind\nk20,2024-03-30,rf2,cn1,follow_up\n")
    import_folder(small, folder)
    cache = in_may.application.extensions["insights"]
    assert cache.update() == "rebuilding"  # an import: the analysis is rebuilt in full
    assert cache.wait_for_rebuild(60)
    assert follow_up_rows(in_may) == [("r6", "due")]  # r4 closed late on 03-30; r6 came after it
