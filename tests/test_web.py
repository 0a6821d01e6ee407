"""The managers' web view."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest

from tests.helpers import fixture_path, free_port, import_folder, small_graph


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
    page = client.get("/referrers")
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
    assert [r[0] for r in rows(client.get("/referrers?kind=clergy").get_data(as_text=True))] == ["Rev. Stone rf3"]
    assert [r[0] for r in rows(client.get("/referrers?q=lincoln").get_data(as_text=True))] == ["Ms. Vega rf2"]
    assert [r[0] for r in rows(client.get("/referrers?order=name").get_data(as_text=True))] == [
        "Dr. Hale rf1", "Ms. Vega rf2", "Rev. Stone rf3"]
    small_app.config["PAGE_SIZE"] = 2
    second = client.get("/referrers?order=name&page=2").get_data(as_text=True)
    assert [r[0] for r in rows(second)] == ["Rev. Stone rf3"]
    assert "page 2 of 2" in second


def test_bad_parameters_are_400s_naming_the_field(small_app, client):
    for query, field in (("kind=dentist", "kind"), ("order=zodiac", "order"), ("page=0", "page")):
        page = client.get("/referrers?" + query)
        assert page.status_code == 400
        assert f"{field} must be" in page.get_data(as_text=True)


def test_empty_graph_says_how_to_load_data(app, client):
    html = client.get("/referrers").get_data(as_text=True)
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
    assert "Passes 1 pass (1 for specialty)" in text
    assert client.get("/referrers/nope").status_code == 404


def test_referrer_page_words_counts_and_rounds_numbers(small_app, client):
    # rf3: one referral, to the practice, assigned to Ben Okafor; stage 3 on its first referral.
    text = text_of(client.get("/referrers/rf3").get_data(as_text=True))
    assert "1 referral 1 clinician seen (breadth) 1 member reached 100% to the practice" in text
    assert "Introductions · contacts 0 introductions · 1 contact" in text
    assert "Time to stage 2 · 3 — · 0 days" in text
    assert "Passes 0 passes" in text
    # rf2: referrals assigned cn1, cn2, cn1: concentration 5/9, effective breadth 9/5.
    text = text_of(client.get("/referrers/rf2").get_data(as_text=True))
    assert "3 referrals 2 clinicians seen (breadth) 3 members reached 33% to the practice" in text
    assert "Concentration (1 = all to one clinician) 0.56" in text
    assert "Effective breadth (1 / concentration) 1.8" in text
    text = text_of(client.get("/referrers/rf1").get_data(as_text=True))
    assert "Concentration (1 = all to one clinician) 0.50 Effective breadth (1 / concentration) 2.0" in text
    assert "Time to stage 2 · 3 — · —" in text


def test_overview_totals_are_worded_by_count(small_app, client):
    text = text_of(client.get("/referrers").get_data(as_text=True))
    assert ("Referrers 3 referrers 6 referrals 1 addressed to the practice 3 clinicians 2 staff "
            "1 referred out") in text


def test_practice_page_shows_stages_by_month_and_sharing(small_app, client):
    html = client.get("/practice").get_data(as_text=True)
    text = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    assert "2 stage 1 · point person (67%)" in text and "1 stage 3 · whole practice (33%)" in text
    # Newest month first; by 2024-05 all three referrers had referred.
    assert "2024-05 0 2 0 1" in text
    assert "betweenness" not in html.lower()
    assert "Key-person risk: the referrers that depend on one clinician alone" in text
    assert "As of 2024-12-31 · 3 referrers · 6 referrals · stage 3 needs half of the last 5 referrals" in text
    assert rows(html.split("<h2>Who shares referrals</h2>")[1]) == [
        # member, point person for, passes made, received, introductions made, that led to referrals,
        # first colleague tried for, key-person risk: referrers (and their names), their referrals
        # in the last 12 months
        ["Ana Ruiz cn1", "1", "1", "0", "2", "2", "0", "1 names Dr. Hale", "0"],  # both introductions, the pass
        ["Ben Okafor cn2", "2", "0", "0", "0", "0", "0", "2 names Ms. Vega Rev. Stone", "3"],  # rf2, rf3: only him
        ["Cleo Park cn3", "0", "0", "1", "0", "0", "0", "0", "0"],
        ["Dee Lang st1 · staff", "0", "0", "0", "0", "0", "0", "—", "—"],
        ["Eli Moss st2 · staff", "0", "0", "0", "0", "0", "0", "—", "—"],
    ]


def test_practice_page_names_the_referrers_at_key_person_risk(small_app, client):
    html = client.get("/practice").get_data(as_text=True)
    table = html.split("<h2>Who shares referrals</h2>")[1]
    # The count links to the overview listing exactly those referrers; the names link to their pages.
    cells = re.findall(r'<td class="num">(<a href="/referrers\?point_person=[^"]*".*?)</td>', table, re.S)
    assert [(re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', cell)) for cell in cells] == [
        [("/referrers?point_person=cn1", "1"), ("/referrers/rf1", "Dr. Hale")],
        [("/referrers?point_person=cn2", "2"), ("/referrers/rf2", "Ms. Vega"), ("/referrers/rf3", "Rev. Stone")],
    ]
    assert table.count('<details class="names"><summary>names</summary>') == 2
    # And the overview behind each link lists exactly them.
    assert ids(client.get("/referrers?point_person=cn1").get_data(as_text=True)) == ["rf1"]
    assert ids(client.get("/referrers?point_person=cn2").get_data(as_text=True)) == ["rf2", "rf3"]


def test_practice_page_names_at_most_the_first_at_risk_referrers(small_app, client, monkeypatch):
    from graphsvc.web import practice

    monkeypatch.setattr(practice, "AT_RISK_LISTED", 1)
    table = client.get("/practice").get_data(as_text=True).split("<h2>Who shares referrals</h2>")[1]
    assert rows(table)[1][7] == "2 names Ms. Vega and 1 more"


def test_key_person_risk_links_only_to_a_filter_that_lists_exactly_the_referrers_at_risk(down_app):
    from datetime import date as d

    from graphsvc.analysis import graph as p
    from graphsvc.config import AnalysisOptions
    from graphsvc.insights import Insights
    from graphsvc.web.practice import clinician_rows

    G = small_graph()
    # Ana Ruiz is rf4's point person too, but rf4 tried Cleo Park, who took its only recent referral:
    # rf4 is at risk for Cleo Park (not its point person), and Ana Ruiz's stage-1 referrers are rf1 alone.
    p.add_referrer(G, "rf4", name="Dr. Ode", referrer_kind="physician", point_person="cn1", since=d(2024, 1, 2))
    p.add_referral(G, "rf4", "r7", d(2024, 6, 1), "cn3", needs=["autism"], population="child")
    insights = Insights(G, AnalysisOptions(as_of=d(2024, 12, 31)))
    assert insights.histories["rf4"]["stage"] == 2
    with down_app.test_request_context():
        found = {m: (c["key_person_risk"]["referrers"], c["at_risk"], c["at_risk_url"])
                 for m, c in clinician_rows(insights)}
    assert found["cn1"] == (["rf1"], [{"id": "rf1", "name": "Dr. Hale"}], "/referrers?point_person=cn1&stage=1")
    assert found["cn2"] == (["rf2", "rf3"], [{"id": "rf2", "name": "Ms. Vega"}, {"id": "rf3", "name": "Rev. Stone"}],
                            "/referrers?point_person=cn2")
    assert found["cn3"] == (["rf4"], [{"id": "rf4", "name": "Dr. Ode"}], None)
    assert found["st1"] == ([], [], None)


def ids(html: str) -> list[str]:
    """The referrer ids the overview lists, in order."""
    body = html.split("<tbody>")[1].split("</tbody>")[0]
    return re.findall(r'href="/referrers/([^"]+)"', body)


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_search_matches_the_current_point_persons_name(small_app, client):
    # rf2 was handed from Ana Ruiz to Ben Okafor: only the current point person counts.
    assert ids(client.get("/referrers?q=Ben Okafor").get_data(as_text=True)) == ["rf2", "rf3"]
    assert ids(client.get("/referrers?q=ruiz").get_data(as_text=True)) == ["rf1"]
    assert ids(client.get("/referrers?q=ana ruiz&order=name").get_data(as_text=True)) == ["rf1"]
    # Name, organization and exact id still match.
    assert ids(client.get("/referrers?q=hale").get_data(as_text=True)) == ["rf1"]
    assert ids(client.get("/referrers?q=rf3").get_data(as_text=True)) == ["rf3"]


@pytest.mark.parametrize("query, expected", [
    ("stage=1", ["rf2", "rf1"]),
    ("stage=3", ["rf3"]),
    ("stage=2", []),
    ("stage=0", []),
    ("stalled=1", ["rf2"]),
    ("stalled=0", ["rf1", "rf3"]),
    ("lapsed=yes", ["rf2"]),
    ("lapsed=false", ["rf1", "rf3"]),
    ("point_person=cn2", ["rf2", "rf3"]),
    ("point_person=cn1", ["rf1"]),
    ("point_person=cn3", []),
    ("stage=1&point_person=cn2", ["rf2"]),
    ("stage=1&stalled=0&kind=pediatrician", ["rf1"]),
    ("stage=3&q=okafor", ["rf3"]),
    ("stage=&stalled=&lapsed=&point_person=&kind=&q=&order=&page=", ["rf2", "rf1", "rf3"]),  # empty form
])
def test_analysis_and_point_person_filters(small_app, client, query, expected):
    page = client.get("/referrers?" + query)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert ids(html) == expected
    assert f"{len(expected)} matching · page 1 of 1" in html
    if not expected:
        assert "No referrers match these filters." in html


def test_filter_form_offers_every_filter_and_names_point_persons(small_app, client):
    html = client.get("/referrers?point_person=cn2&stalled=1").get_data(as_text=True)
    form = html.split('<form class="filters"')[1].split("</form>")[0]
    assert sorted(set(re.findall(r'name="(\w+)"', form))) == sorted(
        ["q", "kind", "stage", "point_person", "stalled", "lapsed", "order"])
    people = form.split('name="point_person"')[1].split("</select>")[0]
    assert re.findall(r'<option value="(\w*)"[^>]*>([^<]*)</option>', people) == [
        ("", "anyone"), ("cn1", "Ana Ruiz"), ("cn2", "Ben Okafor"), ("cn3", "Cleo Park")]
    assert '<option value="cn2" selected>' in people
    stages = form.split('name="stage"')[1].split("</select>")[0]
    assert re.findall(r"<option[^>]*>([^<]*)</option>", stages) == [
        "any", "0 · new", "1 · point person", "2 · trying colleagues", "3 · whole practice"]


def test_paging_links_keep_the_filters(small_app, client):
    small_app.config["PAGE_SIZE"] = 1
    html = client.get("/referrers?stage=1&point_person=&order=name").get_data(as_text=True)
    assert ids(html) == ["rf1"]
    assert "2 matching · page 1 of 2" in html
    assert 'href="/referrers?stage=1&amp;order=name&amp;page=2">next' in html
    second = client.get("/referrers?stage=1&order=name&page=2").get_data(as_text=True)
    assert ids(second) == ["rf2"]
    assert 'href="/referrers?stage=1&amp;order=name">← previous' in second


@pytest.mark.parametrize("query, name, accepted", [
    ("stage=9", "stage", "stage must be one of 0 (new), 1 (point person), 2 (trying colleagues), "
                         "3 (whole practice); got '9'"),
    ("color=red", "color", "color is not a parameter of this page; the parameters are q, kind, stage, "
                           "stalled, lapsed, point_person, order, page"),
    ("stalled=maybe", "stalled", "stalled must be 1 (only stalled referrers) or 0 (only the others)"),
    ("lapsed=2", "lapsed", "lapsed must be 1 (only lapsed referrers) or 0 (only the others)"),
    ("point_person=cn9", "point_person",
     "point_person must be a clinician id: cn1 (Ana Ruiz), cn2 (Ben Okafor), cn3 (Cleo Park); got 'cn9'"),
    # Staff are never point persons.
    ("point_person=st1", "point_person", "point_person must be a clinician id"),
    ("stage=1&stage=2", "stage", "stage must be given once"),
    ("kind=priest", "kind", "kind must be one of physician, pediatrician, school_counselor (school counselor), "
                            "clergy, attorney, other; got 'priest'"),
    ("page=x", "page", "page must be a whole number from 1 to 1000000000; got 'x'"),
    # Unicode digits pass str.isdigit; a number past PAGE_MAX would overflow Neo4j's skip.
    ("page=²", "page", "page must be a whole number from 1 to 1000000000; got '²'"),
    ("page=99999999999999999999", "page", "page must be a whole number from 1 to 1000000000; "
                                          "got '99999999999999999999'"),
    ("page=" + "9" * 5000, "page", "page must be a whole number from 1 to 1000000000; got '999"),
])
def test_unknown_parameters_and_bad_values_are_400_pages(small_app, client, query, name, accepted):
    page = client.get("/referrers?" + query)
    assert page.status_code == 400
    assert page.mimetype == "text/html"
    assert accepted in text_of(page.get_data(as_text=True).replace("&#39;", "'"))


def test_a_page_past_the_end_says_so(small_app, client):
    small_app.config["PAGE_SIZE"] = 2
    page = client.get("/referrers?page=9")
    assert page.status_code == 404
    html = page.get_data(as_text=True)
    assert "Page 9 is past the end: 2 pages of 3 referrers." in text_of(html)
    assert 'href="/referrers?page=2">Go to the last page</a>' in html
    # Said once: no empty table, no second notice, no paging links.
    assert "<tbody>" not in html and "Nothing on page" not in html and "No referrers" not in html
    assert html.count("past the end") == 1 and 'class="pages"' not in html
    huge = client.get("/referrers?page=1000000000")
    assert huge.status_code == 404 and "is past the end: 2 pages of 3 referrers." in huge.get_data(as_text=True)
    filtered = client.get("/referrers?stage=1&page=2")
    assert filtered.status_code == 404
    assert "Page 2 is past the end: 1 page of 2 referrers." in text_of(filtered.get_data(as_text=True))
    # When nothing matches, the last page is page 1: page 2 is past the end too.
    assert client.get("/referrers?stage=2").status_code == 200
    for query in ("stage=2&page=3", "q=zzzzz&page=2"):
        nothing = client.get("/referrers?" + query)
        assert nothing.status_code == 404
        html = nothing.get_data(as_text=True)
        page = query.rpartition("=")[2]
        assert (f"Page {page} is past the end: no referrer matches these filters. Go to page 1 ."
                in text_of(html))
        assert html.count("past the end") == 1 and "<tbody>" not in html and "matching · page" not in html
    assert 'href="/referrers?q=zzzzz">Go to page 1</a>' in html


def test_past_the_end_of_an_empty_graph(app, client):
    page = client.get("/referrers?page=2")
    assert page.status_code == 404
    assert "Page 2 is past the end: there are no referrers yet. Go to page 1 ." in text_of(page.get_data(as_text=True))


def suggestions_shown(html: str, heading: str) -> list[tuple[str, float]]:
    if heading not in html:
        return []
    group = html.split(heading)[1].split("</ol>")[0]
    return [(m, float(x)) for m, x in re.findall(r"(\w+) · score ([\d.]+)", group)]


def test_referrer_page_groups_suggestions_by_accepting_new_clients(small_app, client):
    html = client.get("/referrers/rf3").get_data(as_text=True)
    assert suggestions_shown(html, "Accepting new clients now") == [("cn1", 0.25)]
    assert suggestions_shown(html, "Not accepting now") == [("cn3", 0.0)]
    html = client.get("/referrers/rf2").get_data(as_text=True)
    assert "None of the colleagues suggested is accepting new clients now." in html
    assert suggestions_shown(html, "Not accepting now") == [("cn3", 0.17)]
    # The heading says it; the reason is not repeated under each name.
    assert "<li>not accepting new clients</li>" not in html


def test_referrer_page_explains_the_trend_in_words(small_app, client):
    assert ("0 referrals in the last 12 months, 2 fewer than the 12 months before"
            in text_of(client.get("/referrers/rf1").get_data(as_text=True)))
    assert ("1 referral in the last 12 months, 1 more than the 12 months before"
            in text_of(client.get("/referrers/rf3").get_data(as_text=True)))


def test_create_app_takes_the_graph_and_settings_as_keywords(graph, neo4j_settings, monkeypatch, tmp_path):
    from graphsvc.web import create_app

    monkeypatch.setenv("GRAPHSVC_WEB_PAGE_SIZE", "7")  # read by Settings.load only, never by Flask
    # data_dir: where the accounts database and the secret key go when not given.
    settings = neo4j_settings.with_(web_page_size=3, analysis={"window": 4, "stall_days": 90},
                                    data_dir=tmp_path / "data")
    app = create_app(graph=graph, settings=settings)
    assert app.extensions["graph"] is graph
    assert "GRAPH" not in app.config
    assert app.config["PAGE_SIZE"] == 3
    # The analysis options are the settings' one AnalysisOptions, for the live analysis and the writes alike.
    options = app.extensions["insights"].options
    assert options is settings.analysis is app.extensions["service"].options
    assert (options.window, options.stall_days, options.lapse_days, options.as_of) == (4, 90, 180, None)
    # test_config overrides the settings' Flask keys.
    app = create_app({"PAGE_SIZE": "2"}, graph=graph, settings=settings.with_(analysis={"as_of": date(2024, 12, 31)}))
    options = app.extensions["insights"].options
    assert app.config["PAGE_SIZE"] == 2
    assert (options.window, options.lapse_days, options.as_of) == (4, 180, date(2024, 12, 31))
    with pytest.raises(TypeError, match="create_app\\(graph=...\\)"):
        create_app({"GRAPH": graph}, settings=settings)
    # The Flask keys that once set the analysis are refused, not ignored.
    with pytest.raises(TypeError) as refused:
        create_app({"ANALYSIS_WINDOW": 3, "FOLLOW_UP_DAYS": 7}, graph=graph, settings=settings)
    assert str(refused.value) == ("ANALYSIS_WINDOW, FOLLOW_UP_DAYS: the analysis options are settings.analysis; "
                                  "pass create_app(settings=settings.with_(analysis={...})), not Flask config")


def test_blueprints_and_static_css(app, client):
    assert {bp for bp in app.blueprints} == {"home", "referrers", "worklists", "clinicians", "views", "practice",
                                             "health", "api", "auth", "record", "audit", "console", "today",
                                             "updates", "search", "vocabularies", "merges", "corrections"}
    endpoints = {r.rule: r.endpoint for r in app.url_map.iter_rules()}
    assert endpoints["/"] == "home.index" and endpoints["/referrers"] == "referrers.index"
    assert endpoints["/referrers/<referrer_id>"] == "referrers.detail"
    assert endpoints["/practice"] == "practice.index"
    assert endpoints["/healthz"] == "health.healthz"
    html = client.get("/referrers").get_data(as_text=True)
    assert '<link rel="stylesheet" href="/static/style.css">' in html and "<style>" not in html
    css = client.get("/static/style.css")
    assert css.status_code == 200 and "--accent" in css.get_data(as_text=True)
    css.close()


@pytest.mark.parametrize("url, name, takes", [
    ("/referrers/rf1?color=red", "color", "this page takes no parameters"),
    ("/referrers/rf1?refresh=1", "refresh", "this page takes no parameters"),
    ("/practice?stage=1", "stage", "this page takes no parameters"),
    ("/practice?refresh=1", "refresh", "this page takes no parameters"),
])
def test_every_page_refuses_unknown_parameters(small_app, client, url, name, takes):
    page = client.get(url)
    assert page.status_code == 400 and page.mimetype == "text/html"
    assert f"400 · Bad Request {name} is not a parameter of this page; {takes}" in text_of(page.get_data(as_text=True))


@pytest.fixture
def down_app(web_accounts):
    """An app whose Neo4j is down: its driver points at a port nothing listens on (refused at once)."""
    from neo4j import GraphDatabase

    from graphsvc.config import Settings
    from graphsvc.store.db import Graph
    from graphsvc.web import create_app

    uri = f"bolt://127.0.0.1:{free_port()}"
    settings = Settings.load(environ={}, neo4j_uri=uri, neo4j_password="unused")
    driver = GraphDatabase.driver(uri, auth=("neo4j", "unused"), connection_timeout=2, max_transaction_retry_time=0)
    app = create_app({"TESTING": True, "SECRET_KEY": "down-app-test-key"}, graph=Graph(settings, driver),
                     settings=settings, accounts=web_accounts)
    app.config["DOWN_MESSAGE"] = (f"Cannot reach Neo4j at {uri} (Connection refused); "
                                  "check NEO4J_URI and that the server is running")
    yield app
    driver.close()


@pytest.mark.parametrize("url", ["/", "/referrers", "/referrers?kind=clergy", "/referrers/rf1", "/practice",
                                 "/worklists/stalled", "/clinicians/cn1", "/network", "/outreach", "/coverage"])
def test_pages_say_in_words_that_the_database_is_down(down_app, sign_in, url):
    page = sign_in(down_app, "manager").get(url)
    assert page.status_code == 503 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert '<link rel="stylesheet" href="/static/style.css">' in html  # the site's layout
    assert text_of(html.split("<main>", 1)[1]) == (
        "503 · Service Unavailable The database is not reachable right now, so this page cannot be shown. "
        "Try again in a few minutes; if it stays down, tell the administrator. "
        f"Details for the administrator {down_app.config['DOWN_MESSAGE']} ← the start page")
    assert "<details" in html


@pytest.mark.parametrize("url", ["/api/referrers/rf1", "/api/practice/summary", "/healthz"])
def test_the_api_and_healthz_stay_json_when_the_database_is_down(down_app, sign_in, url):
    answer = sign_in(down_app, "manager").get(url)
    assert answer.status_code == 503
    assert answer.get_json() == {"error": down_app.config["DOWN_MESSAGE"]}


def test_pages_from_the_last_analysis_say_how_old_it_is_while_neo4j_is_down(small_app, client, monkeypatch):
    """The cache holds an analysis; then its Neo4j goes away (a driver on a closed port).

    No page waits on the missing server again: it is asked once, and every
    page after that is answered from the last analysis.
    """
    from datetime import datetime

    from neo4j import GraphDatabase

    from graphsvc import live
    from graphsvc.config import Settings
    from graphsvc.store.db import Graph
    from graphsvc.store.reads import changes_since

    assert client.get("/referrers/rf1").status_code == 200  # builds the analysis
    fresh = client.get("/practice").get_data(as_text=True)
    assert "Data as of" not in fresh and 'class="notice stale"' not in fresh
    cache = small_app.extensions["insights"]
    version, built_at = cache.served.version, cache.served.built_at
    uri = f"bolt://127.0.0.1:{free_port()}"
    settings = Settings.load(environ={}, neo4j_uri=uri, neo4j_password="unused")
    driver = GraphDatabase.driver(uri, auth=("neo4j", "unused"), connection_timeout=2, max_transaction_retry_time=0)
    try:
        cache.graph = small_app.extensions["graph"] = Graph(settings, driver)
        cache.check_seconds = 0  # ask Neo4j on the next request
        asked = []
        monkeypatch.setattr(live, "changes_since", lambda *a, **k: asked.append(a) or changes_since(*a, **k))
        for url in ("/referrers/rf1", "/practice", "/referrers", "/", "/worklists/stalled", "/clinicians/cn1",
                    "/network", "/outreach", "/coverage"):
            page = client.get(url)
            assert page.status_code == 200, url
            html = page.get_data(as_text=True)
            notice = re.search(r'<p class="notice stale" role="status">(.*?)</p>', html).group(1)
            down = cache.unreachable_since
            assert notice == (f"Data as of {built_at:%Y-%m-%d %H:%M} UTC; the database has been unreachable "
                              f"since {down:%H:%M} UTC, so recent changes may be missing."), url
        assert "Data as of" not in client.get("/nope").get_data(as_text=True)  # no analysis used: no notice
        assert "Data as of" not in json.dumps(client.get("/api/referrers/rf1").get_json())  # JSON: no banner
        status = client.get("/api/status").get_json()
        assert len(asked) == 1  # within retry_down_seconds nobody waits on the driver again
        assert (status["version"], status["full_builds"], status["neo4j_reachable"]) == (version, 1, False)
        assert datetime.fromisoformat(status["unreachable_since"]) == down.replace(microsecond=0)
        # A form's page is answered too; only a write needs Neo4j (the referral form's client look-up says so).
        form = client.get("/referrers/rf1/referrals/new")
        assert form.status_code == 200 and "Data as of" in form.get_data(as_text=True)
    finally:
        driver.close()


def test_api_errors_are_json_and_page_errors_are_pages(down_app, sign_in):
    client = sign_in(down_app, "manager")
    nope = client.get("/api/nope")
    assert (nope.status_code, nope.get_json()) == (
        404, {"error": "no API endpoint at /api/nope; the endpoints are listed at /api/openapi.json"})
    wrong = client.get("/api/match")
    assert (wrong.status_code, wrong.get_json()) == (405, {"error": "GET is not allowed on /api/match; use POST"})
    assert "POST" in wrong.headers["Allow"]
    assert client.delete("/healthz").get_json() == {"error": "DELETE is not allowed on /healthz; use GET"}
    page = client.get("/nope")
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert text_of(page.get_data(as_text=True)).startswith("404 Not Found · graphsvc")
    assert client.post("/practice").mimetype == "text/html"


def test_noun_for_words_the_noun_as_count_of_does():
    from graphsvc.web.pages import noun_for

    assert [noun_for(n, noun) for n, noun in ((1, "member"), (2, "member"), (0, "referral"), (1, "staff"),
                                              (3, "staff"), (1, "other"), (1, "clergy"))] == [
        "member", "members", "referrals", "staff", "staff", "other referrer", "clergy"]


def test_a_bad_value_is_echoed_at_most_80_characters(small_app, client):
    page = client.get("/referrers?kind=" + "x" * 100_000)
    assert page.status_code == 400
    said = text_of(page.get_data(as_text=True).replace("&#39;", "'"))
    assert "got '" + "x" * 80 + "…'" in said and "x" * 81 not in said
    page = client.get("/practice?" + "y" * 100_000 + "=1")
    assert page.status_code == 400 and "y" * 82 not in page.get_data(as_text=True)
    page = client.get("/referrers/" + "z" * 100_000)
    assert page.status_code == 404 and "z" * 82 not in page.get_data(as_text=True)


def test_a_body_past_the_limit_is_a_413_page(small_app, client):
    from graphsvc.web import MAX_CONTENT_LENGTH

    assert MAX_CONTENT_LENGTH == 64 * 1024 == small_app.config["MAX_CONTENT_LENGTH"]
    page = client.post("/", data="x" * (MAX_CONTENT_LENGTH + 1))
    assert (page.status_code, page.mimetype) == (413, "text/html")
    assert f"the request body is {MAX_CONTENT_LENGTH + 1} bytes; at most {MAX_CONTENT_LENGTH} are accepted" in (
        page.get_data(as_text=True))
