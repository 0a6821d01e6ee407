"""The managers' and point persons' pages: dashboard, worklists, clinician pages, network, outreach, coverage.

All on the small fixture practice judged on 2024-12-31 (the ``app`` fixture's
``ANALYSIS_AS_OF``), where (``tests/fixtures/small``):

* rf1 Dr. Hale: stage 1 with Ana Ruiz (cn1), 2 referrals in 2023 and none
  since: declining (0 in the last 12 months, 2 the 12 before);
* rf2 Ms. Vega: handed from Ana Ruiz to Ben Okafor (cn2) on 2024-01-15,
  stage 1, 3 referrals, the last on 2024-05-01: stalled and lapsed;
* rf3 Rev. Stone: one referral, to the practice: stage 3, all its clients
  with Ben Okafor.
"""

from __future__ import annotations

import csv
import html
import io
import json
import math
import re

import pytest


def text_of(page) -> str:
    raw = page if isinstance(page, str) else page.get_data(as_text=True)
    raw = re.sub(r"</?(a|span|em|time)\b[^>]*>", "", raw)  # inline: no space of their own
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", raw)).split())


def table_rows(page_html: str, after: str = "") -> list[list[str]]:
    """The cells of the first table's body after ``after``, as text."""
    body = page_html.split(after, 1)[1] if after else page_html
    body = body.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [[text_of(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S)]
            for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]


def chart_data(page_html: str, chart_id: str) -> dict:
    found = re.search(rf'id="{chart_id}"[^>]*data-chart="([^"]*)"', page_html, re.S)
    return json.loads(html.unescape(found.group(1)))


# -- the start page -----------------------------------------------------------------------------------


def test_the_start_page_is_the_dashboard_or_a_clinicians_own_referrers(small, client_as):
    for role in ("manager", "intake", "analyst"):
        assert "<h1>Dashboard</h1>" in client_as(role).get("/").get_data(as_text=True), role
    clinician = client_as("clinician")  # linked to cn1, Ana Ruiz
    mine = clinician.get("/").get_data(as_text=True)
    assert "<h1>My referrers</h1>" in mine and "clinician Ana Ruiz (cn1)" in text_of(mine)
    assert "<h1>Dashboard</h1>" in clinician.get("/dashboard").get_data(as_text=True)


def test_old_links_to_the_referrer_list_are_redirected(small, client):
    answer = client.get("/?stage=1&kind=clergy")
    assert answer.status_code == 301 and answer.headers["Location"] == "/referrers?stage=1&kind=clergy"
    page = client.get("/?color=red")
    assert page.status_code == 400 and "color is not a parameter of this page" in text_of(page)


def test_the_dashboard_counts_the_worklists_and_charts_the_stages(small, client):
    page = client.get("/").get_data(as_text=True)
    cards = {text_of(title): int(count) for count, title in
             re.findall(r'<a href="/worklists/[^"]+"><b>(\d+)</b>(.*?)</a>', page)}
    # stalled: rf2; lapsed and declining: rf1 (declining), rf2 (lapsed); key-person risk: all three.
    assert cards == {"New referrers": 0, "Stalled referrers": 1, "Ready for stage 3": 0, "Lapsed and declining": 2,
                     "Follow-up": 0, "Unseen": 0, "Key-person risk": 3}
    assert chart_data(page, "chart-funnel") == {
        "labels": ["0 · new", "1 · point person", "2 · trying colleagues", "3 · whole practice"],
        "series": [{"label": "referrers", "values": [0, 2, 0, 1],
                    "keys": ["stage:0", "stage:1", "stage:2", "stage:3"]}]}
    stages = chart_data(page, "chart-stages")  # each stage its colour of js/palette.js
    assert [(series["label"], series["key"]) for series in stages["series"]] == [
        ("stage 0", "stage:0"), ("stage 1", "stage:1"), ("stage 2", "stage:2"), ("stage 3", "stage:3")]
    referrals = chart_data(page, "chart-referrals")
    by_month = dict(zip(referrals["labels"], referrals["series"][0]["values"], strict=False))
    assert by_month["2023-01"] == 0 and by_month["2024-04"] == 1 and sum(by_month.values()) == 6
    assert referrals["labels"][-1] == "2024-12" and len(referrals["labels"]) == 24
    breadth = chart_data(page, "chart-breadth")
    # By the end of 2024: rf1 1/(0.5²+0.5²) = 2.0, rf2 1/((2/3)²+(1/3)²) = 1.8, rf3 1.0; median 1.8.
    assert breadth["series"][0]["values"][-1] == 1.8
    shares = dict(zip(breadth["labels"], breadth["series"][1]["values"], strict=False))
    assert shares["2024-04"] == 100.0 and shares["2024-05"] == 100.0 and shares["2024-03"] == 0.0  # r6 to staff
    assert 'src="/static/vendor/chart.umd.js"' in page and 'src="/static/js/charts.js"' in page
    assert page.index('src="/static/js/palette.js"') < page.index('src="/static/js/charts.js"')


# -- worklists -------------------------------------------------------------------------------------------


def test_a_worklist_lists_why_and_what_to_do_next(small, client):
    page = client.get("/worklists/lapsed").get_data(as_text=True)
    rows = table_rows(page)
    assert [r[0] for r in rows] == ["Dr. Hale Northside Pediatrics", "Ms. Vega Lincoln Middle School"]
    assert rows[0][-3:-1] == ["0 referrals in the last 12 months, 2 fewer than the 12 months before",
                            "Check in: Ana Ruiz asks Dr. Hale how recent referrals went and how the practice can "
                            "serve them better."]
    assert "2 rows · page 1 of 1" in text_of(page)
    stalled = table_rows(client.get("/worklists/stalled").get_data(as_text=True))
    assert len(stalled) == 1 and stalled[0][0] == "Ms. Vega Lincoln Middle School"
    assert stalled[0][-3] == "in stage 1 for 560 days (since 2023-06-20); 3 referrals, none addressed to a colleague " \
                             "of Ben Okafor"
    assert "Nothing on this list today." in text_of(client.get("/worklists/new"))
    index = text_of(client.get("/worklists"))
    assert "1 Stalled referrers" in index and "3 Key-person risk" in index


def test_worklists_filter_sort_and_page(small, app, client):
    def names(url):
        return [r[0].split(" ")[0] + " " + r[0].split(" ")[1]
                for r in table_rows(client.get(url).get_data(as_text=True))]
    assert names("/worklists/key-person-risk") == ["Ms. Vega", "Rev. Stone", "Dr. Hale"]  # most referrals at stake
    assert names("/worklists/key-person-risk?sort=name") == ["Dr. Hale", "Ms. Vega", "Rev. Stone"]
    assert names("/worklists/key-person-risk?sort=name&desc=1") == ["Rev. Stone", "Ms. Vega", "Dr. Hale"]
    assert names("/worklists/key-person-risk?stage=3") == ["Rev. Stone"]
    assert names("/worklists/key-person-risk?referrer_kind=pediatrician") == ["Dr. Hale"]
    assert names("/worklists/key-person-risk?point_person=cn2") == ["Ms. Vega", "Rev. Stone"]
    assert names("/worklists/key-person-risk?depends_on=cn1") == ["Dr. Hale"]
    assert names("/worklists/key-person-risk?q=church") == ["Rev. Stone"]
    app.config["PAGE_SIZE"] = 2
    second = client.get("/worklists/key-person-risk?sort=name&page=2").get_data(as_text=True)
    assert [r[0] for r in table_rows(second)] == ["Rev. Stone First Community Church"]
    assert 'href="/worklists/key-person-risk?sort=name" rel="prev"' in second
    past = client.get("/worklists/key-person-risk?page=3")
    assert past.status_code == 404 and "Page 3 is past the end: 2 pages." in text_of(past)


@pytest.mark.parametrize("url, status, message", [
    ("/worklists/nope", 404, "No worklist 'nope'; the worklists are new, stalled, ready, lapsed, follow-up, "
                             "unseen, key-person-risk"),
    ("/worklists/stalled?sort=colour", 400, "sort must be one of referrer, name, referrer_kind"),
    ("/worklists/stalled?stage=9", 400, "stage must be one of 0, 1, 2, 3; got '9'"),
    ("/worklists/stalled?page=0", 400, "page must be a whole number from 1 to 1000000"),
    ("/worklists/stalled?page=%C2%B2", 400, "page must be a whole number from 1 to 1000000"),
    ("/worklists/stalled?desc=yes", 400, "desc must be 1 (reverse order) or 0"),
    ("/worklists/stalled?format=xlsx", 400, "format must be csv"),
    ("/worklists/stalled?status=due", 400, "status is not a parameter of this page"),
    ("/worklists/follow-up?reason=lapsed", 400, "reason is not a parameter of this page"),
])
def test_bad_worklist_requests_say_what_is_wrong(small, client, url, status, message):
    page = client.get(url)
    assert page.status_code == status and message in text_of(page), text_of(page)[-400:]


def test_a_worklist_downloads_as_csv_every_matching_row_audited(small, app, client, web_accounts):
    app.config["PAGE_SIZE"] = 1  # the download is every matching row, not the page
    answer = client.get("/worklists/key-person-risk?point_person=cn2&sort=name&format=csv")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert answer.headers["Content-Disposition"] == 'attachment; filename="worklist-key-person-risk.csv"'
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    assert [(r["referrer"], r["name"], r["depends_on"], r["depends_on_names"], r["referrals_last_12_months"])
            for r in rows] == [("rf2", "Ms. Vega", "cn2", "Ben Okafor", "2"),
                               ("rf3", "Rev. Stone", "cn2", "Ben Okafor", "1")]
    assert list(rows[0]) == ["id", "referrer", "name", "referrer_kind", "organization", "point_person",
                             "point_person_name", "stage", "referrals", "first_referral", "last_referral",
                             "depends_on", "depends_on_names", "referrals_last_12_months", "why", "next_step",
                             "priority", "referrer_id", "status", "task_status", "assigned_to", "assigned_to_name",
                             "snoozed_until", "note", "done_on"]
    assert [(r["priority"], r["status"], r["assigned_to"]) for r in rows] == [("3.0", "open", ""), ("2.0", "open", "")]
    entry = web_accounts.entries(limit=1)[0]
    assert (entry["action"], entry["user"], entry["detail"]) == (
        "download worklist-key-person-risk.csv", "manager",
        {"filters": {"point_person": "cn2", "sort": "name", "worklist": "key-person-risk"}, "rows": 2})


def test_the_follow_up_days_are_a_setting(small, graph, neo4j_settings, web_accounts, sign_in):
    from graphsvc.web import create_app

    def follow_ups(days):
        settings = neo4j_settings.with_(analysis={"as_of": "2024-05-10", "follow_up_days": days})
        app = create_app({"TESTING": True, "SECRET_KEY": "k"}, graph=graph, settings=settings, accounts=web_accounts)
        answer = sign_in(app, "manager").get("/worklists/follow-up?format=csv")
        return [(r["referral"], r["due"], r["days_overdue"], r["status"])
                for r in csv.DictReader(io.StringIO(answer.get_data(as_text=True)))]

    # The referrals of the 90 days before 2024-05-10 had no follow-up contact: r4 (2024-03-05),
    # r5 (2024-04-01), r6 (2024-05-01). Due 14 days after each, or 30 with the setting at 30.
    assert follow_ups(14) == [("r4", "2024-03-19", "52", "overdue"), ("r5", "2024-04-15", "25", "overdue"),
                              ("r6", "2024-05-15", "-5", "due")]
    assert follow_ups(30) == [("r4", "2024-04-04", "36", "overdue"), ("r5", "2024-05-01", "9", "overdue"),
                              ("r6", "2024-05-31", "-21", "due")]


# -- clinician pages -----------------------------------------------------------------------------------


def test_a_clinicians_page(small, app, client, web_accounts):
    page = client.get("/clinicians/cn2").get_data(as_text=True)
    text = text_of(page)
    assert "2 referrers as point person 0 in stage 1" not in text  # rf2 is in stage 1
    assert "2 referrers as point person 1 in stage 1 0 in stage 2 1 in stage 3" in text
    referrers = table_rows(page, "referrers</h2>")
    # On a worklist first (both are), then the most referrals.
    assert [r[0] for r in referrers] == ["Ms. Vega Lincoln Middle School", "Rev. Stone First Community Church"]
    assert referrers[0][2:5] == ["1 · point person", "3", "2024-05-01"]
    assert referrers[0][5].startswith("stalled Get Ms. Vega to try a colleague: Ben Okafor introduces a colleague")
    assert ("2 referrers depend on Ben Okafor alone, with 3 referrals in the last 12 months: Ms. Vega, Rev. Stone."
            in text)
    # The queue: rf2 is in stage 1 and referred within 12 months of 2024-12-31 (rf3 is in stage 3).
    # Its one colleague left to suggest is Cleo Park, who takes no new clients: nobody to introduce.
    assert "No referrer in stage 1 or 2 that referred in the last 12 months has a colleague left to meet." in text
    _, token = web_accounts.create_token("manager", "tests")
    answer = app.test_client().put("/api/clinicians/cn3", headers={"Authorization": f"Bearer {token}"},
                                   json={"name": "Cleo Park", "accepting_new": True})
    assert answer.status_code == 200, answer.get_json()
    page = client.get("/clinicians/cn2").get_data(as_text=True)
    queue = page.split('<ol class="queue">')[1].split("</ol>")[0]
    assert text_of(queue) == ("Introduce Cleo Park to Ms. Vega (1 · point person, stalled) "
                              "1 referrer similar to this one refers to Cleo Park")


def test_a_clinicians_passes_outreach_and_introductions(small, client):
    page = client.get("/clinicians/cn1").get_data(as_text=True)
    assert table_rows(page, "<h3>Made (passed to a colleague)</h3>") == [
        ["2023-05-02", "r2", "Dr. Hale", "Cleo Park", "specialty"]]
    assert "None." in text_of(page.split("<h3>Received</h3>")[1].split("<h2>")[0])
    outreach = page.split("<h2>Outreach</h2>")[1]
    assert "school consult: 1" in text_of(outreach) and "lunch: 1" in text_of(outreach)
    assert table_rows(outreach) == [["2023-03-15", "Ms. Vega", "school consult"], ["2023-01-20", "Dr. Hale", "lunch"]]
    assert table_rows(page, "<h2>Introductions made</h2>") == [["2023-09-01", "Ms. Vega", "Dee Lang"],
                                                                 ["2023-04-01", "Dr. Hale", "Cleo Park"]]
    staff = text_of(client.get("/clinicians/st1"))
    assert "Dee Lang st1" in staff and "not the point person of any referrer now" in staff


@pytest.mark.parametrize("url, status, message", [
    ("/clinicians/nope", 404, "No clinician or staff member 'nope'"),
    ("/clinicians/rf1", 404, "No clinician or staff member 'rf1'"),
    ("/clinicians/cn1?page=x", 400, "page must be a whole number"),
    ("/clinicians/cn1?sort=name", 400, "sort is not a parameter of this page"),
    ("/clinicians/cn1?page=2", 404, "Page 2 is past the end: 1 page of referrers"),
])
def test_bad_clinician_requests(small, client, url, status, message):
    page = client.get(url)
    assert page.status_code == status and message in text_of(page)


def test_my_referrers_is_the_clinicians_own(small, client_as):
    page = client_as("clinician").get("/my-referrers").get_data(as_text=True)  # cn1, Ana Ruiz
    rows = table_rows(page, "My referrers</h2>")
    assert [r[0] for r in rows] == ["Dr. Hale Northside Pediatrics"]
    assert rows[0][5] == ("lapsed Check in: Ana Ruiz asks Dr. Hale how recent referrals went and how the practice can "
                          "serve them better. key person risk Broaden the relationship: Ana Ruiz introduces Dr. Hale "
                          "to a colleague, so its referrals no longer depend on Ana Ruiz alone.")
    # Dr. Hale last referred in 2023: not in the introduction queue of 2024-12-31.
    assert "No referrer in stage 1 or 2 that referred in the last 12 months" in text_of(page)
    assert client_as("manager").get("/my-referrers").headers["Location"] == "/"  # no clinician of its own


# -- outreach and coverage ----------------------------------------------------------------------------------


def test_outreach_says_what_followed_each_kind(small, client):
    page = client.get("/outreach").get_data(as_text=True)
    rows = {r[0]: r[1:] for r in table_rows(page, "What followed each kind of contact")}
    # Lunch k1 (rf1, 2023-01-20): rf1's first referral (0 -> 1) came 12 days later; the school
    # consult k2 (rf2, 2023-03-15): rf2's first, 97 days later, past the 90; the talk k3 (rf3,
    # 2024-02-10): rf3 to stage 3 on 2024-04-01, 51 days later.
    assert rows["lunch"][:5] == ["1", "1", "1", "1", "100%"]
    assert rows["school consult"][:5] == ["1", "1", "1", "0", "0%"]
    assert rows["talk"][:5] == ["1", "1", "1", "1", "100%"]
    assert rows["every kind"][:5] == ["3", "3", "3", "2", "67%"]
    assert "followed" in text_of(page) and "not what caused it" in text_of(page)
    members = {r[0]: r[-1] for r in table_rows(page, "<h2>By member</h2>")}
    assert (members["Ana Ruiz"], members["Ben Okafor"], members["Cleo Park"]) == ("2", "1", "0")


def test_coverage_ranks_the_niches_sent_away(small, client):
    page = client.get("/coverage").get_data(as_text=True)
    assert table_rows(page, "<h2>Niches sent away</h2>") == [["inpatient eating disorders", "1", "0", "+1", "1", "1"]]
    providers = table_rows(page, "<h2>By provider</h2>")
    assert providers[0] == ["Riverside Eating Disorders Center ep1", "inpatient eating disorders", "1",
                            "inpatient eating disorders 1"]
    assert providers[1][0] == "County Forensic Services ep2" and providers[1][2] == "0"


# -- the network -----------------------------------------------------------------------------------------------


def test_the_network_api_gives_positions_and_weighted_links(small, client):
    data = client.get("/api/network").get_json()
    assert data["mode"] == "full"
    kinds = {n["id"]: n["kind"] for n in data["nodes"]}
    assert kinds == {"rf1": "referrer", "rf2": "referrer", "rf3": "referrer", "cn1": "clinician", "cn2": "clinician",
                     "cn3": "clinician", "st1": "staff", "st2": "staff"}
    assert all(math.isfinite(n["x"]) and math.isfinite(n["y"]) for n in data["nodes"])
    links = {(e["source"], e["target"]): (e["referrals"], e["introductions"]) for e in data["edges"]}
    # r6 (rf2, addressed to st1, assigned to cn1) counts for both; i2 introduced st1 to rf2.
    assert links == {("rf1", "cn1"): (2, 0), ("rf1", "cn3"): (1, 1), ("rf2", "cn1"): (2, 0), ("rf2", "cn2"): (1, 0),
                     ("rf2", "st1"): (1, 1), ("rf3", "cn2"): (1, 0)}
    stages = {n["id"]: n["stage"] for n in data["nodes"] if n["kind"] == "referrer"}
    assert stages == {"rf1": 1, "rf2": 1, "rf3": 3}


def test_after_a_write_only_the_referrer_written_moves(small, app, client, web_accounts):
    before = {n["id"]: (n["x"], n["y"]) for n in client.get("/api/network").get_json()["nodes"]}
    _, token = web_accounts.create_token("manager", "tests")
    answer = app.test_client().post("/api/referrals", headers={"Authorization": f"Bearer {token}"},
                                    json={"date": "2024-12-01", "referrer_id": "rf3", "addressed_to": "cn1",
                                          "client": {"needs": ["anxiety"], "population": "adult"}})
    assert answer.status_code == 201, answer.get_json()
    after = client.get("/api/network").get_json()
    moved = {n["id"] for n in after["nodes"] if (n["x"], n["y"]) != before[n["id"]]}
    assert moved == {"rf3"}
    assert {(e["source"], e["target"]) for e in after["edges"]} >= {("rf3", "cn1")}


def test_the_whole_network_page_loads_the_picture_from_the_api(small, client):
    page = client.get("/network?whole=1").get_data(as_text=True)
    assert 'data-network-src="/api/network"' in page and 'data-filters="network-filters"' in page
    assert 'id="__________cytoscape_stylesheet"' in page and 'src="/static/vendor/cytoscape.min.js"' in page
    assert page.index('src="/static/js/palette.js"') < page.index('src="/static/js/network.js"')
    for name in ("q", "stage", "kind", "point_person", "from", "to"):
        assert f'name="{name}"' in page, name
    assert 'aria-label="The practice network: 3 referrers and 5 members"' in page
    assert '<a href="/network">One point person\'s referrers, named</a>' in page


def network_group(page: str) -> dict:
    return json.loads(html.unescape(re.search(r'id="network"[^>]*data-network="([^"]*)"', page, re.S).group(1)))


def test_the_network_page_opens_on_the_busiest_point_persons_group_named(small, client):
    page = client.get("/network").get_data(as_text=True)
    assert "data-network-src" not in page  # not the whole practice: one group, drawn from the page itself
    # The picker: every point person, by name; Ben Okafor (cn2), point person of the most referrers, chosen.
    assert re.findall(r'<option value="(\w+)"( selected)?>([^<]*)</option>', page) == [
        ("cn1", "", "Ana Ruiz (1 referrer)"), ("cn2", " selected", "Ben Okafor (2 referrers)")]
    assert "<h2>Ben Okafor: point person of 2 referrers</h2>" in page
    assert text_of(page.split('id="network-status">')[1].split("</p>")[0]) == (
        "Stage 1 · point person: 1; stage 3 · whole practice: 1. They know 2 colleagues of Ben Okafor's.")
    assert '<a href="/network?whole=1">The whole network (3 referrers and 5 members)</a>' in page
    group = network_group(page)
    # cn2 in the middle; its referrers on the outer ring (radius 310) by stage, clockwise from the top;
    # the colleagues they know on the inner ring (radius 120), both of Ms. Vega's side, by id: the first
    # on that side (the top), the next half a turn on.
    assert [(n["id"], n["label"], n["kind"], n["stage"], n["x"], n["y"], n["size"]) for n in group["nodes"]] == [
        ("cn2", "Ben Okafor", "clinician", None, 0.0, 0.0, 8),
        ("rf2", "Ms. Vega", "referrer", 1, 0.0, -310.0, 8.0),
        ("rf3", "Rev. Stone", "referrer", 3, 0.0, 310.0, 5.46),  # 2 + 6 * sqrt(1 / 3): referrals against rf2's 3
        ("cn1", "Ana Ruiz", "clinician", None, 0.0, -120.0, 2),
        ("st1", "Dee Lang", "staff", None, 0.0, 120.0, 2)]
    assert [(e["id"], e["referrals"], e["introductions"], e["weight"], e["spoke"]) for e in group["edges"]] == [
        ("rf2->cn2", 1, 0, 1, True), ("rf2->cn1", 2, 0, 2, False), ("rf2->st1", 0, 1, 1, False),
        ("rf3->cn2", 1, 0, 1, True)]
    assert 'data-network-radial="1"' in page
    assert table_rows(page, "<h2>The referrers</h2>") == [["Ms. Vega", "1 · point person", "3", "2024-05-01"],
                                                          ["Rev. Stone", "3 · whole practice", "1", "2024-04-01"]]
    colleagues = page.split("<h2>The colleagues they know</h2>")[1].split("</ul>")[0]
    assert text_of(colleagues) == "Ana Ruiz: 1 referrer of Ben Okafor's Dee Lang: 1 referrer of Ben Okafor's"


def test_the_network_page_shows_the_point_person_picked_and_a_clinician_its_own(small, client, client_as):
    page = client.get("/network?point_person=cn1").get_data(as_text=True)
    assert "<h2>Ana Ruiz: point person of 1 referrer</h2>" in page
    group = network_group(page)
    # rf1 addressed cn1 twice (one passed to Cleo Park) and was introduced to Cleo Park.
    assert [(n["id"], n["x"], n["y"]) for n in group["nodes"]] == [
        ("cn1", 0.0, 0.0), ("rf1", 0.0, -310.0), ("cn3", 0.0, -120.0)]
    assert [(e["id"], e["referrals"], e["introductions"]) for e in group["edges"]] == [
        ("rf1->cn1", 1, 0), ("rf1->cn3", 1, 1)]
    mine = client_as("clinician").get("/network").get_data(as_text=True)  # linked to cn1
    assert "<h2>Ana Ruiz: point person of 1 referrer</h2>" in mine and '<option value="cn1" selected>' in mine


def test_the_network_page_refuses_what_it_cannot_draw(small, client):
    answer = client.get("/network?point_person=cn3")  # Cleo Park is point person of no referrer
    assert answer.status_code == 404 and "&#39;cn3&#39; is point person of no referrer" in answer.get_data(as_text=True)
    for query in ("whole=yes", "whole=1&point_person=cn1"):
        answer = client.get(f"/network?{query}")
        assert answer.status_code == 400 and "whole takes the value 1" in answer.get_data(as_text=True), query
    assert client.get("/network?stage=1").status_code == 400


# -- a referrer's page ---------------------------------------------------------------------------------------------


def test_a_referrers_time_line_picture_and_stage_chart(small, client):
    page = client.get("/referrers/rf2").get_data(as_text=True)
    events = re.findall(r'<li class="(\w+)"><time datetime="([\d-]+)">', page.split('<ol class="timeline">')[1])
    assert events == [("referral_out", "2024-05-03"), ("referral", "2024-05-01"), ("referral", "2024-03-05"),
                      ("introduction", "2023-09-01"), ("referral", "2023-06-20"), ("contact", "2023-03-15")]
    timeline = text_of(page.split('<ol class="timeline">')[1].split("</ol>")[0])
    assert "2024-05-01 Referral r6 to Ana Ruiz, addressed to Dee Lang; needs inpatient eating disorders" in timeline
    assert "2023-09-01 Introduction of Dee Lang by Ana Ruiz" in timeline
    assert "2024-05-03 Referred out to Riverside Eating Disorders Center for inpatient eating disorders" in timeline
    ego = json.loads(html.unescape(re.search(r'data-network="([^"]*)"', page).group(1)))
    assert [(n["id"], n["role"]) for n in ego["nodes"]] == [
        ("rf2", "referrer"), ("cn2", "point_person"), ("cn1", "past_point_person"), ("st1", "introduced")]
    assert [(e["target"], e["referrals"], e["introductions"], e["contacts"]) for e in ego["edges"]] == [
        ("cn2", 1, 0, 0), ("cn1", 2, 0, 1), ("st1", 0, 1, 0)]
    assert chart_data(page, "chart-stage") == {"labels": ["2023-06-20", "2024-12-31"],
                                               "series": [{"label": "stage", "values": [1, 1]}], "max": 3}
