"""The managers' web view."""

from __future__ import annotations

import re

import pytest

from graphsvc.csvio.importer import import_folder
from tests.helpers import fixture_path


@pytest.fixture
def small_app(app, graph):
    import_folder(graph, fixture_path("small"))
    return app


def rows(html: str) -> list[list[str]]:
    body = html.split("<tbody>")[1].split("</tbody>")[0]
    out = []
    for tr in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        cells = [re.sub(r"<[^>]+>", " ", td) for td in re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S)]
        out.append([" ".join(c.split()) for c in cells])
    return out


def test_referrers_page_lists_point_person_and_counts(small_app, client):
    page = client.get("/")
    assert page.status_code == 200
    assert rows(page.get_data(as_text=True)) == [
        # name, kind, organization, current point person, stage, referrals, last, introductions, contacts
        ["Ms. Vega rf2", "school counselor", "Lincoln Middle School", "Ben Okafor", "1 · point person",
         "3", "2024-05-01", "1", "1"],
        ["Dr. Hale rf1", "pediatrician", "Northside Pediatrics", "Ana Ruiz", "1 · point person",
         "2", "2023-05-02", "1", "1"],
        ["Rev. Stone rf3", "clergy", "First Community Church", "Ben Okafor", "3 · whole practice",
         "1", "2024-04-01", "0", "1"],
    ]


def test_filters_order_and_paging(small_app, client):
    assert [r[0] for r in rows(client.get("/?kind=clergy").get_data(as_text=True))] == ["Rev. Stone rf3"]
    assert [r[0] for r in rows(client.get("/?q=lincoln").get_data(as_text=True))] == ["Ms. Vega rf2"]
    assert [r[0] for r in rows(client.get("/?order=name").get_data(as_text=True))] == [
        "Dr. Hale rf1", "Ms. Vega rf2", "Rev. Stone rf3"]
    small_app.config["PAGE_SIZE"] = 2
    second = client.get("/?order=name&page=2").get_data(as_text=True)
    assert [r[0] for r in rows(second)] == ["Rev. Stone rf3"]
    assert "page 2 of 2" in second


def test_bad_parameters_are_400s_naming_the_field(small_app, client):
    for query, field in (("kind=dentist", "kind"), ("order=zodiac", "order"), ("page=0", "page")):
        page = client.get("/?" + query)
        assert page.status_code == 400
        assert f"{field} must be" in page.get_data(as_text=True)


def test_empty_graph_says_how_to_load_data(app, client):
    html = client.get("/").get_data(as_text=True)
    assert "No referrers yet: run <code>graphsvc import FOLDER</code>" in html


def test_healthz(app, client, neo4j_settings):
    assert client.get("/healthz").get_json() == {
        "status": "ok", "neo4j": neo4j_settings.uri, "database": "neo4j"}


def test_referrer_page_shows_stage_history_metrics_and_suggestions(small_app, client):
    page = client.get("/referrers/rf1")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    text = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    assert "Dr. Hale rf1" in text and "point person Ana Ruiz" in text
    assert "Stage 1 point person" in text
    assert "2023-02-01 1 · point person r1" in text
    assert "Ben Okafor cn2 · score 0.27" in text
    assert "has weekday evening openings, which 1 of its last 2 clients wanted" in text
    assert "Passes 1 · specialty 1" in text
    assert client.get("/referrers/nope").status_code == 404


def test_practice_page_shows_stages_by_month_and_sharing(small_app, client):
    html = client.get("/practice").get_data(as_text=True)
    text = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    assert "2 stage 1 · point person (67%)" in text and "1 stage 3 · whole practice (33%)" in text
    # Newest month first; by 2024-05 all three referrers had referred.
    assert "2024-05 0 2 0 1" in text
    # Ana Ruiz made both introductions and the one pass.
    assert "Ana Ruiz cn1 1 1 0 2 0 0" in text
