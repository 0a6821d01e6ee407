"""Today (issue 17): the few things most worth doing now, for a person or the practice, each with the
one-click actions its reader may take; the page, the dashboard that opens with it, and GET /api/today.

The small fixture on 2024-12-31 (``AS_OF``) has three referrers on the lists: rf2 Ms. Vega (stalled,
lapsed, key-person risk; point person cn2), rf1 Dr. Hale (lapsed, key-person risk; cn1) and rf3
Rev. Stone (key-person risk; cn2). The clinician account is cn1.
"""

from __future__ import annotations

import html
import re

import pytest

from graphsvc.config import AnalysisOptions
from graphsvc.insights import Insights
from tests.conftest import AS_OF, csrf_token_of
from tests.helpers import small_graph

VEGA = ("Call Ms. Vega (Lincoln Middle School): Ben Okafor asks what Ms. Vega's next clients need; no colleague "
        "who takes new clients is left to introduce, so see whether one who has met Ms. Vega suits.")
HALE = ("Call Dr. Hale (Northside Pediatrics). Check in: Ana Ruiz asks Dr. Hale how recent referrals went and how "
        "the practice can serve them better.")
STONE = ("Call Rev. Stone (First Community Church): Ben Okafor introduces Ana Ruiz (1 referrer similar to this one "
         "refers to Ana Ruiz), so that Rev. Stone's referrals no longer depend on Ben Okafor alone.")


def test_today_ranks_one_item_per_referrer_by_what_is_at_stake():
    insights = Insights(small_graph(), AnalysisOptions(as_of=AS_OF))
    items = insights.today()
    assert [(i["referrer"], i["worklist"], i["priority"], i["also"], i["next_step"]) for i in items] == [
        ("rf2", "stalled", 7.6, ["lapsed", "key-person-risk"], VEGA),   # 3 referrals a year x (1 + 560 / 365)
        ("rf1", "lapsed", 6.0, ["key-person-risk"], HALE),               # 2 a year (+1) x 2 (declining by all)
        ("rf3", "key-person-risk", 2.0, [], STONE)]
    # The colleague the suggestions rank first among those who take new clients (cn3 does not), and who
    # introduces them: the point person.
    assert items[2]["introduce"] == {"id": "cn1", "name": "Ana Ruiz", "by": "cn2",
                                     "reasons": ["1 referrer similar to this one refers to Ana Ruiz"]}
    assert items[0]["introduce"] is None and items[0]["call"] == "Ms. Vega (Lincoln Middle School)"
    assert [i["referrer"] for i in insights.today("cn1")] == ["rf1"]
    assert [i["referrer"] for i in insights.today("cn2")] == ["rf2", "rf3"]
    assert [i["referrer"] for i in insights.today(limit=1)] == ["rf2"]
    assert insights.today("st1") == []


def test_a_row_assigned_to_a_member_is_on_its_today(small, app, client):
    rows = {r["referrer"]: r["id"] for r in app.extensions["insights"].get().worklist("stalled")}
    page = client.get("/worklists/stalled").get_data(as_text=True)
    client.post(f"/worklists/stalled/{rows['rf2']}", data={"csrf_token": csrf_token_of(page), "action": "assign",
                                                           "to": "cn1"})
    assert [i["referrer"] for i in app.extensions["insights"].get().today("cn1")] == ["rf2", "rf1"]
    assert client.get("/api/today?member=cn1").get_json()["items"][0]["assigned_to"] == "cn1"


def test_the_page_records_the_suggested_introduction_in_one_click(small, client):
    page = client.get("/today").get_data(as_text=True)
    text = html.unescape(page)
    assert [VEGA, HALE, STONE] == [s for s in (VEGA, HALE, STONE) if s in text]
    assert text.index(VEGA) < text.index(HALE) < text.index(STONE)
    assert "Record the introduction of Ana Ruiz" in text
    answer = client.post("/referrers/rf3/introductions/new", data={
        "csrf_token": csrf_token_of(page), "date": AS_OF.isoformat(), "introduced_id": "cn1", "by_id": "cn2",
        "next": "/today", "do": "save"})
    assert (answer.status_code, answer.headers["Location"]) == (303, "/today")
    introductions = [r for r in small.read("export_introductions") if r["referrer_id"] == "rf3"]
    assert [(r["date"].iso_format(), r["introduced_id"], r["by_id"]) for r in introductions] == [
        ("2024-12-31", "cn1", "cn2")]
    after = html.unescape(client.get("/today").get_data(as_text=True))
    assert "Recorded the introduction of Ana Ruiz to" in after and "Record the introduction of Ana Ruiz" not in after


def test_the_dashboard_opens_with_today_and_a_clinician_sees_its_own(small, client, client_as):
    dashboard = html.unescape(client.get("/dashboard").get_data(as_text=True))
    assert dashboard.index("<h2>Today</h2>") < dashboard.index("<h2>Worklists</h2>")
    assert VEGA in dashboard and "All of today (3)" in dashboard
    mine = html.unescape(client_as("clinician").get("/today").get_data(as_text=True))
    assert HALE in mine and VEGA not in mine and STONE not in mine
    assert "Record the contact" in mine and "Snooze" in mine  # its own referrer's row
    analyst = html.unescape(client_as("analyst").get("/today").get_data(as_text=True))
    assert VEGA in analyst and "Snooze" not in analyst and "Record the" not in analyst  # reads, writes nothing
    assert client.get("/today?member=cn9").status_code == 404
    assert client.get("/today?who=cn1").status_code == 400


def test_the_api_today_with_actions_and_the_setting(small, app, client):
    body = client.get("/api/today").get_json()
    assert (body["member"], body["limit"], [i["referrer"] for i in body["items"]]) == (None, 15, ["rf2", "rf1", "rf3"])
    stone = body["items"][2]
    assert [a["action"] for a in stone["actions"]] == ["record_introduction", "snooze", "done"]
    assert stone["actions"][0]["api"] == {"method": "POST", "path": "/api/introductions", "body": {
        "date": "2024-12-31", "introduced_id": "cn1", "by_id": "cn2", "referrer_id": "rf3"}}
    assert client.get("/api/today?member=cn2").get_json()["member"] == "cn2"
    assert client.get("/api/today?member=nobody").status_code == 404
    assert client.get("/api/today?limit=3").status_code == 400
    app.config["TODAY_ITEMS"] = 1
    assert [i["referrer"] for i in client.get("/api/today").get_json()["items"]] == ["rf2"]


def test_the_today_items_setting(monkeypatch):
    from graphsvc.config import Settings
    from graphsvc.errors import GraphsvcError

    monkeypatch.setenv("GRAPHSVC_TODAY_ITEMS", "7")
    assert Settings.load().web_today_items == 7
    monkeypatch.setenv("GRAPHSVC_TODAY_ITEMS", "0")
    with pytest.raises(GraphsvcError, match="GRAPHSVC_TODAY_ITEMS"):
        Settings.load()


def test_a_suggestion_on_the_referrer_page_is_recorded_in_one_click(small, client, client_as):
    page = client.get("/referrers/rf3").get_data(as_text=True)
    assert "Record: Ben Okafor introduced Ana Ruiz today" in html.unescape(page)
    answer = client.post("/referrers/rf3/introductions/new", data={
        "csrf_token": csrf_token_of(page), "next": "/referrers/rf3", "date": AS_OF.isoformat(),
        "introduced_id": "cn1", "by_id": "cn2", "do": "save"})
    assert (answer.status_code, answer.headers["Location"]) == (303, "/referrers/rf3")
    assert [(r["introduced_id"], r["by_id"]) for r in small.read("export_introductions")
            if r["referrer_id"] == "rf3"] == [("cn1", "cn2")]
    # A clinician records only the introductions it makes: on a referrer of another's, no button it may not use.
    assert "introduced Ana Ruiz today" not in html.unescape(client_as("analyst").get("/referrers/rf3")
                                                           .get_data(as_text=True))


def text(answer) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html.unescape(answer.get_data(as_text=True))))


def test_the_worklist_page_names_the_colleague_to_introduce_with_a_button(small, client, client_as):
    page = text(client.get("/worklists/key-person-risk"))
    assert "Introduce Ana Ruiz (1 referrer similar to this one refers to Ana Ruiz)" in page  # rf3's
    assert "Introduce Ben Okafor (has weekday evening openings, which 1 of its last 2 clients wanted)" in page  # rf1
    assert page.count("Record the introduction") == 2
    assert "No colleague who takes new clients is left to introduce." in text(client.get("/worklists/stalled"))
    # cn1 records only the introductions it makes: rf1's (its own referrer), not rf3's (Ben Okafor's).
    mine = client_as("clinician").get("/worklists/key-person-risk").get_data(as_text=True)
    assert mine.count("Record the introduction") == 1
    assert 'name="by_id" value="cn1"' in mine and 'name="by_id" value="cn2"' not in mine
