"""The list pages (issue 18, item 5): ``/clinicians``, CSV on every list, "Add a referrer" on the list.

The small fixture practice on 2024-12-31: cn1 Ana Ruiz is the point person of rf1 (stage 1); cn2 Ben
Okafor of rf2 (stage 1, handed over on 2024-01-15) and rf3 (stage 3); cn3 Cleo Park, who takes no
new clients, of none.
"""

from __future__ import annotations

import csv
import html
import io
import re

import pytest

from tests.conftest import USERS


def text_of(page) -> str:
    raw = page if isinstance(page, str) else page.get_data(as_text=True)
    raw = re.sub(r"</?(a|span|em|time)\b[^>]*>", "", raw)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", raw)).split())


def table_rows(page_html: str) -> list[list[str]]:
    body = page_html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [[text_of(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S)]
            for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]


def csv_rows(answer) -> list[dict]:
    assert answer.status_code == 200 and answer.mimetype == "text/csv", answer.get_data(as_text=True)[:300]
    assert answer.headers["Cache-Control"] == "no-store"
    return list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))


# -- /clinicians -------------------------------------------------------------------------------------------


def test_the_clinicians_list(small, client):
    page = client.get("/clinicians")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert table_rows(body) == [["Ana Ruiz cn1", "accepting", "1", "1", "0", "0"],
                                ["Ben Okafor cn2", "accepting", "2", "1", "0", "1"],
                                ["Cleo Park cn3", "not accepting", "0", "0", "0", "0"]]
    # Each count links to the referrer list showing exactly those referrers; the name to the clinician's page.
    assert '<a href="/clinicians/cn2">Ben Okafor</a>' in body
    assert '<a href="/referrers?point_person=cn2">2</a>' in body
    assert ('href="/referrers?point_person=cn2&amp;stage=3" aria-label="1 referrer of Ben Okafor in stage 3">1</a>'
            in body)
    listed = text_of(client.get("/referrers?point_person=cn2&stage=3"))
    assert "Rev. Stone" in listed and "Ms. Vega" not in listed
    assert "3 clinicians, each with the referrers it is the point person of now" in text_of(body)
    # Linked from the navigation of every page.
    assert '<a href="/clinicians">clinicians</a>' in client.get("/referrers").get_data(as_text=True)


@pytest.mark.parametrize("query, order", [
    ("", ["cn1", "cn2", "cn3"]),
    ("sort=name&desc=1", ["cn3", "cn2", "cn1"]),
    ("sort=referrers", ["cn3", "cn1", "cn2"]),
    ("sort=referrers&desc=1", ["cn2", "cn1", "cn3"]),
    ("sort=stage_3&desc=1", ["cn2", "cn1", "cn3"]),  # ties stay by name
    ("sort=stage_1&desc=1", ["cn1", "cn2", "cn3"]),
    ("sort=accepting_new", ["cn3", "cn1", "cn2"]),
    ("sort=accepting_new&desc=0", ["cn3", "cn1", "cn2"]),
])
def test_the_clinicians_list_sorts(small, client, query, order):
    body = client.get(f"/clinicians?{query}").get_data(as_text=True)
    assert re.findall(r'<td><a href="/clinicians/(cn\d)">', body) == order
    rows = csv_rows(client.get(f"/clinicians?{query}{'&' if query else ''}format=csv"))
    assert [r["id"] for r in rows] == order


def test_the_clinicians_column_links_sort_numbers_most_first_then_flip(small, client):
    body = client.get("/clinicians").get_data(as_text=True)
    heads = re.findall(r'<th scope="col"[^>]*><a href="([^"]+)">([^<]+)</a></th>', body)
    assert [(html.unescape(h), t) for h, t in heads] == [
        ("/clinicians?desc=1", "Clinician ↑"), ("/clinicians?sort=accepting_new&desc=1", "New clients"),
        ("/clinicians?sort=referrers&desc=1", "Referrers"), ("/clinicians?sort=stage_1&desc=1", "Stage 1"),
        ("/clinicians?sort=stage_2&desc=1", "Stage 2"), ("/clinicians?sort=stage_3&desc=1", "Stage 3")]
    assert 'aria-sort="ascending"' in body
    sorted_page = client.get("/clinicians?sort=referrers&desc=1").get_data(as_text=True)
    assert 'aria-sort="descending"><a href="/clinicians?sort=referrers">Referrers ↓</a>' in sorted_page
    assert 'href="/clinicians?sort=referrers&amp;desc=1&amp;format=csv" download>Download CSV</a>' in sorted_page


@pytest.mark.parametrize("query, message", [
    ("sort=age", "sort must be one of name, accepting_new, referrers, stage_1, stage_2, stage_3; got 'age'"),
    ("desc=2", "desc must be 1 (the other way round) or 0; got '2'"),
    ("format=xlsx", "format must be csv (or left out for the page); got 'xlsx'"),
    ("page=2", "page is not a parameter of this page; the parameters are sort, desc, format"),
    ("sort=name&sort=referrers", "sort must be given once, got 2 values"),
    ("sort=" + "x" * 5000, "sort must be one of name, accepting_new, referrers, stage_1, stage_2, stage_3; got 'xxx"),
])
def test_the_clinicians_list_refuses_odd_parameters(small, client, query, message):
    page = client.get(f"/clinicians?{query}")
    assert page.status_code == 400 and page.mimetype == "text/html"
    assert message in text_of(page)
    assert len(page.get_data()) < 20_000


def test_the_clinicians_list_downloads_as_csv_audited(small, client, web_accounts):
    answer = client.get("/clinicians?format=csv")
    assert answer.headers["Content-Disposition"] == 'attachment; filename="clinicians.csv"'
    assert answer.get_data(as_text=True).splitlines() == [
        "id,name,accepting_new,referrers,stage_1,stage_2,stage_3",
        "cn1,Ana Ruiz,true,1,1,0,0", "cn2,Ben Okafor,true,2,1,0,1", "cn3,Cleo Park,false,0,0,0,0"]
    entry = web_accounts.entries(limit=1)[0]
    assert (entry["action"], entry["user"], entry["detail"]) == ("download clinicians.csv", "manager",
                                                                 {"filters": {}, "rows": 3})


def test_the_clinicians_list_of_an_empty_practice(app, client):
    page = client.get("/clinicians")
    assert page.status_code == 200
    assert "No clinicians yet: add one, or run graphsvc import FOLDER" in text_of(page)
    assert client.get("/clinicians?format=csv").get_data(as_text=True) == (
        "id,name,accepting_new,referrers,stage_1,stage_2,stage_3\r\n")


@pytest.mark.parametrize("role", sorted(USERS))
def test_every_role_reads_the_clinicians_list_only_a_manager_adds(small, client_as, role):
    client = client_as(role)
    page = client.get("/clinicians").get_data(as_text=True)
    assert len(table_rows(page)) == 3
    assert ('href="/clinicians/new">Add a clinician</a>' in page) == (role == "manager")
    assert len(csv_rows(client.get("/clinicians?format=csv"))) == 3


def test_nobody_signed_in_sees_no_list(small, anon):
    for path in ("/clinicians", "/clinicians?format=csv", "/referrers?format=csv", "/clinicians/cn2?format=csv"):
        answer = anon.get(path)
        assert answer.status_code == 302 and answer.headers["Location"].startswith("/login?next="), path


# -- /referrers: CSV, and adding one -------------------------------------------------------------------------


def test_the_referrer_list_downloads_every_matching_row_as_csv(small, app, client, web_accounts):
    app.config["PAGE_SIZE"] = 1  # every matching row, not the page
    rows = csv_rows(client.get("/referrers?format=csv"))
    assert list(rows[0]) == ["id", "name", "kind", "organization", "point_person_id", "point_person", "stage",
                             "referrals", "last_referral", "introductions", "contacts", "stalled", "lapsed"]
    # The list's order: the most referrals first.
    assert [(r["id"], r["name"], r["point_person_id"], r["point_person"], r["stage"], r["referrals"],
             r["last_referral"]) for r in rows] == [
        ("rf2", "Ms. Vega", "cn2", "Ben Okafor", "1", "3", "2024-05-01"),
        ("rf1", "Dr. Hale", "cn1", "Ana Ruiz", "1", "2", "2023-05-02"),
        ("rf3", "Rev. Stone", "cn2", "Ben Okafor", "3", "1", "2024-04-01")]
    filtered = client.get("/referrers?point_person=cn2&order=name&format=csv")
    assert filtered.headers["Content-Disposition"] == 'attachment; filename="referrers.csv"'
    assert [(r["id"], r["kind"], r["organization"], r["stage"]) for r in csv_rows(filtered)] == [
        ("rf2", "school_counselor", "Lincoln Middle School", "1"), ("rf3", "clergy", "First Community Church", "3")]
    entry = web_accounts.entries(limit=1)[0]
    assert (entry["action"], entry["user"], entry["detail"]) == (
        "download referrers.csv", "manager", {"filters": {"point_person": "cn2", "order": "name"}, "rows": 2})
    assert csv_rows(client.get("/referrers?q=nobody&format=csv")) == []
    # The page links to the download of what it shows.
    page = client.get("/referrers?stage=1").get_data(as_text=True)
    assert 'href="/referrers?stage=1&amp;format=csv" download>Download CSV</a>' in page


def test_the_referrer_list_csv_is_formula_safe(small, client, as_role):
    made = as_role("manager").post("/api/referrers", json={
        "id": "rf-at", "name": "=HYPERLINK(\"http://x\")", "kind": "physician", "organization": "@Home Pediatrics",
        "point_person_id": "cn3", "since": "2024-01-02"})
    assert made.status_code == 201, made.get_json()
    rows = csv_rows(client.get("/referrers?point_person=cn3&format=csv"))
    assert [(r["name"], r["organization"], r["point_person"]) for r in rows] == [
        ("'=HYPERLINK(\"http://x\")", "'@Home Pediatrics", "Cleo Park")]


def test_the_referrer_list_refuses_another_format(small, client):
    page = client.get("/referrers?format=xlsx")
    assert page.status_code == 400 and "format must be csv (or left out for the page); got 'xlsx'" in text_of(page)
    assert client.get("/referrers?format=csv&format=csv").status_code == 400


@pytest.mark.parametrize("role", sorted(USERS))
def test_add_a_referrer_on_the_list_for_those_who_may(small, client_as, role):
    page = client_as(role).get("/referrers").get_data(as_text=True)
    assert ('<a class="button" href="/referrers/new">Add a referrer</a>' in page) == (role == "manager")
    assert len(csv_rows(client_as(role).get("/referrers?format=csv"))) == 3  # every role reads


# -- a member's referrers -----------------------------------------------------------------------------------


def test_a_members_referrers_download_as_csv(small, client, client_as, web_accounts):
    answer = client.get("/clinicians/cn2?format=csv")
    assert answer.headers["Content-Disposition"] == 'attachment; filename="referrers-of-cn2.csv"'
    rows = csv_rows(answer)
    assert list(rows[0]) == ["id", "name", "kind", "organization", "stage", "referrals", "last_referral",
                             "stalled", "lapsed", "worklists"]
    # The page's order: on a worklist first, then the most referrals.
    assert [(r["id"], r["stage"], r["referrals"], r["last_referral"]) for r in rows] == [
        ("rf2", "1", "3", "2024-05-01"), ("rf3", "3", "1", "2024-04-01")]
    assert rows[0]["worklists"].startswith("stalled")
    entry = web_accounts.entries(limit=1)[0]
    assert (entry["action"], entry["detail"]) == ("download referrers-of-cn2.csv",
                                                  {"filters": {"member": "cn2"}, "rows": 2})
    assert 'href="/clinicians/cn2?format=csv" download>Download CSV</a>' in client.get("/clinicians/cn2").get_data(
        as_text=True)
    # A clinician's own: /my-referrers (cn1: rf1).
    own = client_as("clinician").get("/my-referrers?format=csv")
    assert own.headers["Content-Disposition"] == 'attachment; filename="referrers-of-cn1.csv"'
    assert [r["id"] for r in csv_rows(own)] == ["rf1"]
    assert csv_rows(client.get("/clinicians/st1?format=csv")) == []  # staff are point persons of none
    assert client.get("/clinicians/cn2?format=pdf").status_code == 400
    assert client.get("/clinicians/nope?format=csv").status_code == 404


def test_outreach_coverage_and_likely_duplicates_download_as_csv(small, client, client_as, web_accounts):
    outreach = client.get("/outreach?format=csv")
    assert outreach.headers["Content-Disposition"] == 'attachment; filename="outreach.csv"'
    assert outreach.get_data(as_text=True).splitlines() == [
        "member_id,member,lunch,talk,school_consult,total", "cn1,Ana Ruiz,1,0,1,2", "cn2,Ben Okafor,0,1,0,1",
        "cn3,Cleo Park,0,0,0,0", "st1,Dee Lang,0,0,0,0", "st2,Eli Moss,0,0,0,0"]
    coverage = client.get("/coverage?format=csv").get_data(as_text=True).splitlines()
    assert coverage == [
        "id,name,niches,referrals_out,sent_for",
        "ep1,Riverside Eating Disorders Center,inpatient_eating_disorders,1,inpatient_eating_disorders 1",
        "ep2,County Forensic Services,forensic_evaluation;neuropsych_testing,0,"]
    assert 'href="/outreach?format=csv" download' in client.get("/outreach").get_data(as_text=True)
    assert 'href="/coverage?format=csv" download' in client.get("/coverage").get_data(as_text=True)
    assert client.get("/referrers/duplicates?format=csv").get_data(as_text=True).splitlines() == [
        "id_a,name_a,organization_a,id_b,name_b,organization_b,name_score,organization_score,why"]
    assert client_as("clinician").get("/referrers/duplicates?format=csv").status_code == 403
    for url in ("/outreach?format=xlsx", "/coverage?format=json", "/referrers/duplicates?format=pdf"):
        assert client.get(url).status_code == 400, url
    downloads = sorted(e["action"] for e in web_accounts.entries() if e["action"].startswith("download "))
    assert downloads == ["download likely_duplicates.csv", "download outreach.csv", "download outside_providers.csv"]
