"""Finding things (issue 18, item 5): the header's search box, ``GET /api/search`` and ``/search``.

The small fixture practice: referrers rf1 Dr. Hale (Northside Pediatrics), rf2 Ms. Vega (Lincoln
Middle School), rf3 Rev. Stone (First Community Church); clinicians cn1 Ana Ruiz, cn2 Ben Okafor,
cn3 Cleo Park; staff st1 Dee Lang, st2 Eli Moss; outside providers ep1 Riverside Eating Disorders
Center, ep2 County Forensic Services.
"""

from __future__ import annotations

import html
import re

import pytest

from graphsvc.web import search
from tests.conftest import USERS


def found(client, q) -> list[tuple]:
    answer = client.get("/api/search", query_string={"q": q})
    assert answer.status_code == 200, answer.get_json()
    return [(r["kind"], r["id"], r["label"], r["url"]) for r in answer.get_json()["results"]]


def text_of(page) -> str:
    raw = page if isinstance(page, str) else page.get_data(as_text=True)
    raw = re.sub(r"</?(a|span|em|time)\b[^>]*>", "", raw)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", raw)).split())


def test_each_kind_is_found_with_its_page(small, client):
    answer = client.get("/api/search?q=rf1")
    assert answer.status_code == 200 and answer.mimetype == "application/json"
    assert answer.get_json() == {"results": [
        {"kind": "referrer", "id": "rf1", "label": "Dr. Hale", "url": "/referrers/rf1"}]}
    assert found(client, "cleo") == [("clinician", "cn3", "Cleo Park", "/clinicians/cn3")]
    assert found(client, "dee") == [("staff", "st1", "Dee Lang", "/clinicians/st1")]
    # An outside provider has no page of its own: its row on /coverage.
    assert found(client, "forensic") == [("provider", "ep2", "County Forensic Services", "/coverage#provider-ep2")]
    # Every url is a page the caller may open, and the provider's row is there by that id.
    for q in ("rf1", "cleo", "dee"):
        assert client.get(found(client, q)[0][3]).status_code == 200, q
    coverage = client.get("/coverage").get_data(as_text=True)
    assert '<tr id="provider-ep2"><td>County Forensic Services' in coverage


def test_any_case_inside_words_and_organizations(small, client):
    assert found(client, "OKAF") == [("clinician", "cn2", "Ben Okafor", "/clinicians/cn2")]
    assert found(client, "ale") == [("referrer", "rf1", "Dr. Hale", "/referrers/rf1")]  # inside a word
    assert found(client, "pediatrics") == [("referrer", "rf1", "Dr. Hale", "/referrers/rf1")]  # organization
    assert found(client, "  Lincoln middle  ") == [("referrer", "rf2", "Ms. Vega", "/referrers/rf2")]  # stripped
    # "an": Ana Ruiz begins with it; Dee Lang holds it inside a word.
    assert [r[1] for r in found(client, "an")] == ["cn1", "st1"]
    # "ch": a word of First Community Church begins with it; Lincoln Middle School only holds it.
    assert [r[1] for r in found(client, "ch")] == ["rf3", "rf2"]
    # The point person's name is not a referrer's (the referrer list's q looks there too): Ana Ruiz alone.
    assert [r[1] for r in found(client, "ruiz")] == ["cn1"]
    assert found(client, "nobody") == []


def test_ranked_exact_id_then_prefix_then_word_then_inside_and_current_after_writes(small, client, as_role):
    assert [r[1] for r in found(client, "ana")] == ["cn1"]  # the analysis is built and asked once already
    manager = as_role("manager")
    for body in ({"id": "rf-diana", "name": "Diana Cole", "organization": "Hill Clinic"},
                 {"id": "rf-yves", "name": "Yves Marchand", "organization": "Anaheim Health"},
                 {"id": "ana", "name": "Zoe Bell", "organization": "Cabana Clinic"}):
        made = manager.post("/api/referrers", json={**body, "kind": "physician", "point_person_id": "cn2",
                                                    "since": "2024-01-02"})
        assert made.status_code == 201, made.get_json()
    # The exact id (ana), a name that begins with it (Ana Ruiz), a word of an organization that does
    # (Anaheim Health), a name that holds it (Diana Cole).
    assert found(client, "ANA") == [("referrer", "ana", "Zoe Bell", "/referrers/ana"),
                                    ("clinician", "cn1", "Ana Ruiz", "/clinicians/cn1"),
                                    ("referrer", "rf-yves", "Yves Marchand", "/referrers/rf-yves"),
                                    ("referrer", "rf-diana", "Diana Cole", "/referrers/rf-diana")]
    # Ids that begin with the text rank with names that do, by name.
    assert [r[2] for r in found(client, "rf")] == ["Diana Cole", "Dr. Hale", "Ms. Vega", "Rev. Stone",
                                                   "Yves Marchand"]


class Stub:
    """Just what ``search.find`` reads of an ``Insights``."""

    def __init__(self, people):
        self.searchable = [(kind, i, name, org, i.casefold(), name.casefold(), org.casefold())
                           for kind, i, name, org in people]


def test_at_most_twenty_the_best_first():
    people = [("referrer", f"r{n:02d}", f"Person {n:02d}", "") for n in range(30, 0, -1)]
    people += [("clinician", "c1", "Ann Person", ""), ("provider", "person", "Zed Care", "")]
    got = search.find(Stub(people), "person")
    assert len(got) == search.RESULTS == 20
    # The exact id, then the names that begin with it, by name; Ann Person (a word) falls past the 20.
    assert [g["id"] for g in got] == ["person"] + [f"r{n:02d}" for n in range(1, 20)]
    assert search.find(Stub(people), "person", limit=3) == [
        {"kind": "provider", "id": "person", "label": "Zed Care", "organization": "", "rank": 0},
        {"kind": "referrer", "id": "r01", "label": "Person 01", "organization": "", "rank": 1},
        {"kind": "referrer", "id": "r02", "label": "Person 02", "organization": "", "rank": 1}]
    # Regex characters are only text.
    assert search.find(Stub([("staff", "s1", "A.B (x)*", "")]), ".b (x)*")[0]["id"] == "s1"
    assert search.find(Stub([("staff", "s1", "AxB", "")]), ".b") == []


@pytest.mark.parametrize("query", ["", "q=", "q=%20%20%20", "q=%09"])
def test_nothing_to_find_is_an_empty_list(small, client, query):
    answer = client.get(f"/api/search?{query}")
    assert (answer.status_code, answer.get_json()) == (200, {"results": []})


def test_a_long_text_or_odd_parameters_are_400s_naming_them(small, client):
    assert found(client, "x" * search.Q_MAX) == []
    too_long = client.get("/api/search", query_string={"q": "x" * (search.Q_MAX + 1)})
    problem = f"query parameter 'q': must be at most 200 characters (got 201: '{'x' * 80}…')"
    assert (too_long.status_code, too_long.get_json()) == (400, {"error": problem, "problems": [problem]})
    huge = client.get("/api/search", query_string={"q": "y" * 20_000})
    assert huge.status_code == 400 and len(huge.get_data()) < 500  # the text is not echoed back whole
    assert huge.get_json()["problems"][0].startswith("query parameter 'q': must be at most 200 characters")
    twice = client.get("/api/search?q=a&q=b")
    assert (twice.status_code, twice.get_json()["problems"]) == (
        400, ["query parameter 'q': must be given once (got 2 values)"])
    other = client.get("/api/search?q=a&limit=50")
    assert (other.status_code, other.get_json()["problems"]) == (
        400, ["query parameter 'limit': is not a parameter of this endpoint (it takes q)"])
    assert client.post("/api/search?q=a").status_code == 405
    # Markup and quotes are text: JSON of the names, nothing run.
    assert found(client, "<script>alert(1)</script>") == []
    assert found(client, "' OR 1=1 --") == []


@pytest.mark.parametrize("role", sorted(USERS))
def test_every_role_searches_the_same_with_a_session_or_a_token(small, client_as, as_role, role):
    everything = [("referrer", "rf3", "Rev. Stone", "/referrers/rf3"),
                  ("referrer", "rf2", "Ms. Vega", "/referrers/rf2")]
    assert found(client_as(role), "ch") == everything
    assert found(as_role(role), "ch") == everything
    page = client_as(role).get("/search?q=ch")
    assert page.status_code == 200 and 'href="/referrers/rf3">Rev. Stone</a>' in page.get_data(as_text=True)


def test_nobody_signed_in_finds_nothing(small, anon):
    answer = anon.get("/api/search?q=hale")
    assert answer.status_code == 401 and answer.headers["WWW-Authenticate"].startswith("Bearer")
    assert "Hale" not in answer.get_data(as_text=True)
    page = anon.get("/search?q=hale")
    assert page.status_code == 302 and page.headers["Location"].startswith("/login?next=")
    bad = anon.get("/api/search?q=hale", headers={"Authorization": "Bearer gst_nope_nope"})
    assert bad.status_code == 401


def test_the_results_page_without_javascript(small, client):
    page = client.get("/search?q=ch")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert re.findall(r'<li><a href="([^"]+)">([^<]+)</a>', body) == [("/referrers/rf3", "Rev. Stone"),
                                                                      ("/referrers/rf2", "Ms. Vega")]
    text = text_of(body)
    assert "2 matches for “ch”." in text
    assert "Rev. Stone referrer · rf3 · First Community Church" in text
    assert 'href="/referrers?q=ch">' in body  # the same text in the referrer list
    assert "Nothing matches “zzz”." in text_of(client.get("/search?q=zzz"))
    empty = text_of(client.get("/search"))
    assert "Type part of a name, an organization or an id" in empty and "matches for" not in empty
    # Escaped, never run.
    assert "<script>alert" not in client.get("/search?q=<script>alert(1)</script>").get_data(as_text=True)


def test_the_results_page_refuses_what_the_api_refuses(small, client):
    long = client.get("/search", query_string={"q": "x" * 201})
    assert long.status_code == 400 and long.mimetype == "text/html"
    assert "q must be at most 200 characters (got 201: " in text_of(long)
    other = client.get("/search?q=a&page=2")
    assert other.status_code == 400 and "page is not a parameter of this page; the parameters are q" in text_of(other)


def test_more_than_fit_says_so(small, client, monkeypatch):
    monkeypatch.setattr(search, "RESULTS", 1)
    text = text_of(client.get("/search?q=ch"))
    assert "1 match for “ch”: the best 1; type more of the name to narrow them down." in text


@pytest.mark.parametrize("path", ["/", "/referrers", "/referrers/rf1", "/clinicians", "/clinicians/cn1",
                                  "/worklists", "/practice", "/coverage", "/search?q=a", "/nope"])
def test_every_signed_in_page_has_the_search_box(small, client, path):
    body = client.get(path).get_data(as_text=True)
    form = re.search(r'<form class="site-search" role="search" method="get" action="/search"\s+'
                     r'data-api="/api/search">(.*?)</form>', body, re.S)
    assert form, path
    assert '<label class="visually-hidden" for="site-search">' in form.group(1)
    assert re.search(r'<input id="site-search" type="search" name="q" maxlength="200"', form.group(1))
    assert '<script src="/static/js/search.js" defer></script>' in body


def test_the_login_page_has_no_search_box(app, anon):
    body = anon.get("/login").get_data(as_text=True)
    assert "site-search" not in body and "search.js" not in body
    script = anon.get("/static/js/search.js")  # public, like every static file
    assert script.status_code == 200 and 'getAttribute("data-api")' in script.get_data(as_text=True)
    script.close()


def test_the_search_is_in_the_openapi_document(app, client):
    spec = client.get("/api/openapi.json").get_json()["paths"]["/api/search"]["get"]
    assert [(p["name"], p["in"], p["required"], p["schema"]) for p in spec["parameters"]] == [
        ("q", "query", False, {"type": "string", "maxLength": 200})]
    results = spec["responses"]["200"]["content"]["application/json"]["schema"]["properties"]["results"]
    assert results["maxItems"] == 20
    assert results["items"]["required"] == ["kind", "id", "label", "url"]
    assert results["items"]["properties"]["kind"]["enum"] == ["referrer", "clinician", "staff", "provider"]
    assert set(spec["responses"]) == {"200", "400", "401"}
