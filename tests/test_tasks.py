"""Worklist rows as work (issue 17): stable row ids, tasks that assign, snooze, close and reopen rows,
stored in Neo4j, exported and imported exactly, checked, audited, and safe under concurrent callers.

The small fixture's rows on 2024-12-31 (``AS_OF``): rf2 stalled (point person cn2), rf1 and rf2 lapsed,
rf1, rf2 and rf3 at key-person risk; the clinician user is cn1, rf1's point person.
"""

from __future__ import annotations

import html
import json
import threading
from datetime import date, timedelta

import pytest

from graphsvc import records
from graphsvc.analysis import graph as p
from graphsvc.analysis import referrer_metrics, stage_histories
from graphsvc.analysis.worklists import row_id, with_tasks, worklists
from graphsvc.csvio.exporter import export_folder
from graphsvc.csvio.importer import ImportRejected
from graphsvc.errors import Forbidden, InvalidInput, NotFound
from graphsvc.live import InsightsCache
from graphsvc.service import Actor, Service
from tests.conftest import AS_OF, csrf_token_of
from tests.helpers import TEST_QUERIES, import_folder, snapshot, someone

LATER = records.today() + timedelta(days=7)  # a snooze must end after the clock's today


@pytest.fixture
def live(small):
    """A live analysis of the small practice judged on AS_OF, and the service that writes through it."""
    options = small.settings.with_(analysis={"as_of": AS_OF}).analysis
    cache = InsightsCache(small, options)
    cache.get()
    return cache, Service(small, options, live=cache)


def row_of(cache, name, referrer):
    rows = [r for r in cache.get().worklist(name, "all") if r["referrer"] == referrer]
    assert len(rows) == 1, rows
    return rows[0]


# -- ids ---------------------------------------------------------------------------------------------------


def lists_on(G, day):
    return worklists(G, stage_histories(G, as_of=day), referrer_metrics(G, as_of=day), as_of=day)


def test_a_row_keeps_its_id_while_its_reason_holds_and_a_new_situation_gets_a_new_one():
    G = p.new_graph()
    p.add_member(G, "ana")
    p.add_referrer(G, "drx", point_person="ana", since=date(2023, 1, 1))
    for i, day in enumerate((date(2023, 1, 10), date(2023, 2, 10), date(2023, 3, 10)), 1):
        p.add_referral(G, "drx", f"r{i}", day, "ana")
    stalled = [r["id"] for r in lists_on(G, date(2023, 12, 1))["stalled"]]
    assert stalled == [row_id("stalled", "drx", date(2023, 1, 10))]  # stage 1 since its first referral
    # Months later, still stalled: the same row.
    assert [r["id"] for r in lists_on(G, date(2024, 1, 5))["stalled"]] == stalled
    # Lapsed since r3; a new referral ends that lapse, and the next lapse is a new row.
    lapsed = [r["id"] for r in lists_on(G, date(2024, 1, 5))["lapsed"]]
    assert lapsed == [row_id("lapsed", "drx", f"lapsed {date(2023, 3, 10)}")]
    p.add_referral(G, "drx", "r4", date(2024, 2, 1), "ana")
    assert lists_on(G, date(2024, 3, 1))["lapsed"] == []  # 2 referrals in each of the two years
    later = [r["id"] for r in lists_on(G, date(2024, 12, 1))["lapsed"]]
    assert later == [row_id("lapsed", "drx", f"lapsed {date(2024, 2, 1)}")] and later != lapsed


def test_task_states_on_rows_open_snoozed_until_its_day_done_and_closed():
    G = p.new_graph()
    p.add_member(G, "ana", name="Ana")
    p.add_referrer(G, "drx", point_person="ana", since=date(2024, 1, 1))
    rows = {"stalled": [{"id": "a", "referrer": "drx"}, {"id": "b", "referrer": "drx"},
                        {"id": "c", "referrer": "drx"}, {"id": "d", "referrer": "drx"}]}
    p.add_task(G, "drx", "a", worklist="stalled", snoozed_until=date(2025, 1, 6), assigned_to="ana")
    p.add_task(G, "drx", "b", worklist="stalled", status="done", note="lunch booked", done_on=date(2025, 1, 2))
    p.add_task(G, "drx", "c", worklist="stalled", status="closed", assigned_to="ana")
    day = date(2025, 1, 5)
    got = {r["id"]: (r["task_status"], r["status"], r["assigned_to_name"]) for r in
           with_tasks(rows, G, today=day)["stalled"]}
    # A closed task's row is a new start: open and unassigned.
    assert got == {"a": ("snoozed", "snoozed", "Ana"), "b": ("done", "done", None), "c": ("open", "open", None),
                   "d": ("open", "open", None)}
    assert with_tasks(rows, G, today=date(2025, 1, 6))["stalled"][0]["task_status"] == "open"  # back on its day


# -- the service ---------------------------------------------------------------------------------------------


def test_assign_snooze_done_and_reopen_through_the_service(live):
    cache, service = live
    row = row_of(cache, "stalled", "rf2")
    task = service.act_on_row("stalled", row, {"action": "assign", "to": "st1"}, by=someone())
    assert task == {"id": row["id"], "worklist": "stalled", "referrer_id": "rf2", "referral_id": None,
                    "status": "open", "assigned_to": "st1", "snoozed_until": None, "note": "", "done_on": None}
    now = row_of(cache, "stalled", "rf2")
    assert (now["assigned_to"], now["assigned_to_name"], now["task_status"]) == ("st1", "Dee Lang", "open")
    assert [r["referrer"] for r in cache.get().worklist("stalled")] == ["rf2"]

    service.act_on_row("stalled", row, {"action": "snooze", "until": LATER.isoformat()}, by=someone())
    assert cache.get().worklist("stalled") == []
    assert [r["snoozed_until"] for r in cache.get().worklist("stalled", "snoozed")] == [LATER]
    assert cache.get().open_counts()["stalled"] == 0

    done = service.act_on_row("stalled", row, {"action": "done", "note": "Ben booked a lunch for March"},
                              by=someone())
    assert (done["status"], done["done_on"], done["snoozed_until"], done["assigned_to"]) == \
        ("done", records.today(), None, "st1")
    assert [r["note"] for r in cache.get().worklist("stalled", "done")] == ["Ben booked a lunch for March"]
    assert row_of(cache, "stalled", "rf2")["status"] == "done"

    service.act_on_row("stalled", row, {"action": "reopen"}, by=someone())
    again = row_of(cache, "stalled", "rf2")
    assert (again["task_status"], again["done_on"], again["assigned_to"]) == ("open", None, "st1")
    stored = service.db.read("export_tasks")
    assert [(t["id"], t["status"], t["assigned_to"]) for t in stored] == [(row["id"], "open", "st1")]


def test_every_action_is_audited_without_its_note(live, web_accounts):
    cache, _ = live
    service = Service(cache.graph, cache.options, live=cache, audit=web_accounts)
    row = row_of(cache, "lapsed", "rf1")
    service.act_on_row("lapsed", row, {"action": "done", "note": "called; two referrals promised"},
                       by=Actor("mo", address="10.0.0.9"))
    [entry] = web_accounts.entries(action="write task")
    assert (entry["user"], entry["address"], entry["ids"], entry["detail"]) == \
        ("mo", "10.0.0.9", [row["id"], "rf1"], {"action": "done", "worklist": "lapsed"})
    assert "promised" not in repr(entry)


def test_a_clinician_works_only_on_the_rows_of_its_own_referrers(live):
    cache, service = live
    ana = Actor("ana", "clinician", "cn1")
    mine, theirs = row_of(cache, "lapsed", "rf1"), row_of(cache, "lapsed", "rf2")
    assert service.act_on_row("lapsed", mine, {"action": "assign", "to": "cn1"}, by=ana)["assigned_to"] == "cn1"
    before = snapshot(cache.graph)
    with pytest.raises(Forbidden, match="only on the rows of referrers it is the point person of"):
        service.act_on_row("lapsed", theirs, {"action": "done", "note": "x"}, by=ana)
    for role in ("intake", "analyst"):
        with pytest.raises(Forbidden):
            service.act_on_row("lapsed", mine, {"action": "reopen"}, by=Actor("x", role))
    assert snapshot(cache.graph) == before


def test_bad_actions_name_the_field_and_change_nothing(live):
    cache, service = live
    row = row_of(cache, "stalled", "rf2")
    before = snapshot(cache.graph)
    cases = {
        ("assign", None): "field 'to': is required to assign a row",
        ("snooze", "2020-01-01"): "field 'until': must be after today",
        ("done", None): "field 'note': is required to mark a row done",
    }
    for (action, value), message in cases.items():
        field = {"assign": "to", "snooze": "until", "done": "note"}[action]
        with pytest.raises(InvalidInput, match=message):
            service.act_on_row("stalled", row, {"action": action, **({field: value} if value else {})},
                               by=someone())
    with pytest.raises(InvalidInput, match="field 'until': must be at most 366 days ahead"):
        service.act_on_row("stalled", row, {"action": "snooze",
                                            "until": (records.today() + timedelta(days=400)).isoformat()},
                           by=someone())
    with pytest.raises(NotFound, match=r"field 'to': unknown member 'rf1'"):
        service.act_on_row("stalled", row, {"action": "assign", "to": "rf1"}, by=someone())
    with pytest.raises(InvalidInput, match="field 'note' is 1,001 characters; the limit is 1,000"):
        service.act_on_row("stalled", row, {"action": "done", "note": "x" * 1001}, by=someone())
    assert snapshot(cache.graph) == before


def test_a_row_whose_reason_goes_leaves_with_its_task(live):
    cache, service = live
    service.record_referral({"date": "2024-12-20", "referrer_id": "rf3", "client_id": "cl1",
                             "addressed_to": "cn2"}, by=someone())
    row = row_of(cache, "follow-up", "rf3")
    service.act_on_row("follow-up", row, {"action": "assign", "to": "cn2"}, by=someone())
    assert row_of(cache, "follow-up", "rf3")["assigned_to"] == "cn2"
    service.record_contact({"date": "2024-12-27", "referrer_id": "rf3", "member_id": "cn2",
                            "kind": "follow_up"}, by=someone())
    assert [r for r in cache.get().worklist("follow-up", "all") if r["referrer"] == "rf3"] == []
    with pytest.raises(NotFound, match="its reason may have disappeared"):
        cache.get().worklist_row("follow-up", row["id"])


def test_the_same_row_acted_on_at_once_keeps_one_task_and_every_action(live, web_accounts):
    cache, _ = live
    service = Service(cache.graph, cache.options, live=cache, audit=web_accounts)
    row = row_of(cache, "key-person-risk", "rf3")
    members = ["cn1", "cn2", "cn3", "st1", "st2", "cn1", "cn2", "cn3"]
    barrier = threading.Barrier(len(members))
    errors = []

    def assign(member):
        try:
            barrier.wait()
            service.act_on_row("key-person-risk", row, {"action": "assign", "to": member}, by=someone())
        except Exception as e:  # pragma: no cover - shown by the assertion
            errors.append(e)

    threads = [threading.Thread(target=assign, args=(m,)) for m in members]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    tasks = cache.graph.read("export_tasks")
    assert len(tasks) == 1 and tasks[0]["id"] == row["id"]
    held = cache.graph.read("task_holders", catalog=TEST_QUERIES)
    assert held == [{"id": row["id"], "holders": 1}]
    entries = web_accounts.entries(action="write task")
    assert len(entries) == len(members)
    assert tasks[0]["assigned_to"] == entries[0]["ids"][2]  # the last one written is the newest entry


# -- export, import, checks ------------------------------------------------------------------------------------


def test_tasks_export_and_import_exactly(live, tmp_path, graph):
    cache, service = live
    service.act_on_row("stalled", row_of(cache, "stalled", "rf2"),
                       {"action": "snooze", "until": LATER.isoformat()}, by=someone())
    service.act_on_row("lapsed", row_of(cache, "lapsed", "rf1"),
                       {"action": "done", "note": "=lunch, 'booked'; Ana"}, by=someone())
    service.act_on_row("key-person-risk", row_of(cache, "key-person-risk", "rf3"),
                       {"action": "assign", "to": "st2"}, by=someone())
    before = snapshot(graph, analysis=False)
    export_folder(graph, tmp_path / "one")
    text = (tmp_path / "one" / "tasks.csv").read_text()
    assert text.splitlines()[0] == "id,worklist,referrer_id,referral_id,status,assigned_to,snoozed_until,note,done_on"
    assert "'=lunch" in text  # a note a spreadsheet would run is written as text
    graph.write("wipe_graph", catalog=TEST_QUERIES)
    graph.write("practice_node", catalog=TEST_QUERIES)
    import_folder(graph, tmp_path / "one")
    assert snapshot(graph, analysis=False) == before
    export_folder(graph, tmp_path / "two")
    assert (tmp_path / "two" / "tasks.csv").read_bytes() == (tmp_path / "one" / "tasks.csv").read_bytes()


def test_an_import_checks_tasks_and_names_file_and_line(small, tmp_path):
    from tests.test_import import folder_like_small

    folder = folder_like_small(tmp_path, replace={"tasks.csv": (
        "id,worklist,referrer_id,referral_id,status,assigned_to,snoozed_until,note,done_on\n"
        "t1,stalled,rf2,,open,st1,2030-01-01,,\n"
        "t2,stalled,rf9,,open,,,,\n"
        "t3,follow-up,rf1,r3,open,,,,\n"
        "t4,lapsed,rf1,,done,,,,\n"
        "t5,busy,rf1,,open,zz,,,\n")})
    with pytest.raises(ImportRejected) as caught:
        import_folder(small, folder)
    problems = [p for p in caught.value.problems if p.startswith("tasks.csv")]
    assert problems == [
        "tasks.csv:3: unknown referrer_id 'rf9'",
        "tasks.csv:4: referral_id 'r3' is a referral of referrer 'rf2', not of 'rf1'",
        "tasks.csv:5: field 'done_on': is required when status is done",
        "tasks.csv:6: field 'worklist': must be one of 'new', 'stalled', 'ready', 'lapsed', 'follow-up', 'unseen' "
        "or 'key-person-risk' (got 'busy')",
    ]


# -- the JSON API --------------------------------------------------------------------------------------------


def test_the_api_lists_rows_with_the_pages_filters(app, small, as_role):
    api = as_role("analyst")
    answer = api.get("/api/worklists/key-person-risk")
    assert answer.status_code == 200
    body = answer.get_json()
    assert (body["worklist"], body["total"], body["page"], body["page_size"]) == ("key-person-risk", 3, 1, 3)
    assert [(r["referrer_id"], r["priority"], r["status"], r["assigned_to"], r["snoozed_until"])
            for r in body["rows"]] == [("rf2", 3.0, "open", None, None), ("rf3", 2.0, "open", None, None),
                                       ("rf1", 3.0, "open", None, None)]
    assert {"id", "why", "next_step"} <= set(body["rows"][0])
    one = api.get("/api/worklists/key-person-risk?point_person=cn2&sort=name&page_size=1&page=2").get_json()
    assert (one["total"], [r["referrer_id"] for r in one["rows"]]) == (2, ["rf3"])
    bad = api.get("/api/worklists/lapsed?status=due&show=later&sort=nope")
    assert bad.status_code == 400
    assert bad.get_json()["problems"] == [
        "query parameter 'status': is not a filter of the lapsed worklist (it takes q, stage, referrer_kind, "
        "point_person, assigned_to, reason)"]
    assert api.get("/api/worklists/lapsed?show=later").get_json()["problems"] == [
        "show must be one of open, snoozed, done, all; got 'later'"]
    assert api.get("/api/worklists/nope").status_code == 404
    assert api.get("/api/worklists/lapsed?page_size=0").status_code == 400


def test_the_api_acts_on_a_row_and_the_list_follows(app, small, as_role):
    manager = as_role("manager")
    rf1 = next(r for r in manager.get("/api/worklists/lapsed").get_json()["rows"] if r["referrer_id"] == "rf1")
    done = manager.post(f"/api/worklists/lapsed/{rf1['id']}", json={"action": "done", "note": "lunch in May"})
    assert done.status_code == 200, done.get_json()
    got = done.get_json()
    assert (got["id"], got["status"], got["task_status"], got["note"], got["done_on"]) == \
        (rf1["id"], "done", "done", "lunch in May", records.today().isoformat())
    listed = manager.get("/api/worklists/lapsed").get_json()
    assert [r["referrer_id"] for r in listed["rows"]] == [r["referrer_id"] for r in
                                                          manager.get("/api/worklists/lapsed?show=open")
                                                          .get_json()["rows"]] == ["rf2"]
    assert [r["id"] for r in manager.get("/api/worklists/lapsed?show=done").get_json()["rows"]] == [rf1["id"]]
    snoozed = manager.post(f"/api/worklists/lapsed/{rf1['id']}",
                           json={"action": "snooze", "until": LATER.isoformat()})
    assert (snoozed.status_code, snoozed.get_json()["status"], snoozed.get_json()["snoozed_until"]) == \
        (200, "snoozed", LATER.isoformat())


def test_the_api_refuses_as_the_rules_say(app, small, as_role, client):
    rows = {r["referrer_id"]: r["id"] for r in as_role("manager").get("/api/worklists/lapsed").get_json()["rows"]}
    clinician = as_role("clinician")  # cn1: rf1's point person, not rf2's
    assert clinician.post(f"/api/worklists/lapsed/{rows['rf1']}", json={"action": "assign", "to": "cn1"}) \
        .status_code == 200
    refused = clinician.post(f"/api/worklists/lapsed/{rows['rf2']}", json={"action": "assign", "to": "cn1"})
    assert refused.status_code == 403
    assert "point person of" in refused.get_json()["error"]
    for role in ("analyst", "intake"):
        assert as_role(role).post(f"/api/worklists/lapsed/{rows['rf1']}", json={"action": "reopen"}) \
            .status_code == 403
    manager = as_role("manager")
    bad = manager.post(f"/api/worklists/lapsed/{rows['rf1']}", json={"action": "snooze", "until": "tomorrow"})
    assert (bad.status_code, bad.get_json()["problems"]) == \
        (400, ["field 'until': must be a date in the form YYYY-MM-DD (got 'tomorrow')"])
    assert manager.post(f"/api/worklists/lapsed/{rows['rf1']}", json={"action": "assign", "to": "zz"}) \
        .status_code == 404
    assert manager.post("/api/worklists/lapsed/lap-0000000000000000", json={"action": "reopen"}).status_code == 404
    assert manager.post("/api/worklists/lapsed/%3Cscript%3E", json={"action": "reopen"}).status_code == 404
    assert manager.post(f"/api/worklists/lapsed/{rows['rf1']}", data="x" * 70_000,
                        content_type="application/json").status_code == 413
    # The session cookie of the web view is not enough to write.
    assert client.post(f"/api/worklists/lapsed/{rows['rf1']}", json={"action": "reopen"}).status_code == 401


# -- the pages: buttons that work without JavaScript ---------------------------------------------------------


def test_the_list_page_acts_on_a_row_and_sends_back_with_a_confirmation(app, small, client):
    page = client.get("/worklists/lapsed").get_data(as_text=True)
    assert page.count("Act on this row") == 2  # rf1 and rf2, both a manager's to act on
    rf1 = next(r for r in app.extensions["insights"].get().worklist("lapsed") if r["referrer"] == "rf1")
    assert f'action="/worklists/lapsed/{rf1["id"]}"' in page
    token = csrf_token_of(page)
    answer = client.post(f"/worklists/lapsed/{rf1['id']}", data={
        "csrf_token": token, "action": "done", "note": "visited; referrals promised", "to": "cn2",
        "until": "2030-01-01", "next": "/worklists/lapsed?stage=1"})
    # The other forms' fields are not this action's: left out, not refused.
    assert (answer.status_code, answer.headers["Location"]) == (303, "/worklists/lapsed?stage=1")
    after = client.get("/worklists/lapsed").get_data(as_text=True)
    assert "Lapsed and declining: Dr. Hale marked done; it has left the list." in html.unescape(after)
    assert after.count("Act on this row") == 1
    done = client.get("/worklists/lapsed?show=done").get_data(as_text=True)
    assert "visited; referrals promised" in done and "Reopen" in done


def test_row_actions_refuse_a_missing_token_another_role_and_a_foreign_next(app, small, client, client_as):
    rows = {r["referrer"]: r["id"] for r in app.extensions["insights"].get().worklist("lapsed")}
    before = snapshot(small)
    url = f"/worklists/lapsed/{rows['rf2']}"
    assert client.post(url, data={"action": "reopen"}).status_code == 400  # no CSRF token
    clinician = client_as("clinician")  # cn1: not rf2's point person
    token = csrf_token_of(clinician.get("/worklists/lapsed").get_data(as_text=True))
    page = clinician.get("/worklists/lapsed").get_data(as_text=True)
    assert page.count("Act on this row") == 1  # only rf1's
    assert clinician.post(url, data={"csrf_token": token, "action": "reopen"}).status_code == 403
    analyst = client_as("analyst")
    token = csrf_token_of(analyst.get("/worklists/lapsed").get_data(as_text=True))  # the layout's sign-out form
    assert analyst.post(url, data={"csrf_token": token, "action": "reopen"}).status_code == 403
    assert snapshot(small) == before
    token = csrf_token_of(client.get(url).get_data(as_text=True))
    for foreign in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"):
        answer = client.post(url, data={"csrf_token": token, "action": "assign", "to": "cn2", "next": foreign})
        assert (answer.status_code, answer.headers["Location"]) == (303, "/worklists/lapsed"), foreign


def test_a_refused_action_shows_the_row_again_with_what_was_typed(app, small, client):
    rows = {r["referrer"]: r["id"] for r in app.extensions["insights"].get().worklist("lapsed")}
    url = f"/worklists/lapsed/{rows['rf1']}"
    token = csrf_token_of(client.get(url).get_data(as_text=True))
    answer = client.post(url, data={"csrf_token": token, "action": "snooze", "until": "2001-01-01"})
    text = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert "field &#39;until&#39;: must be after today" in text and 'value="2001-01-01"' in text
    assert client.get("/worklists/lapsed/lap-0000000000000000").status_code == 404
    assert client.get("/worklists/nope/x").status_code == 404


def test_graphsvc_analyze_closes_the_open_tasks_whose_rows_went(live, cli, small):
    cache, service = live
    service.record_referral({"date": "2024-12-20", "referrer_id": "rf3", "client_id": "cl1",
                             "addressed_to": "cn2"}, by=someone())
    row = row_of(cache, "follow-up", "rf3")
    service.act_on_row("follow-up", row, {"action": "assign", "to": "cn2"}, by=someone())
    stalled = row_of(cache, "stalled", "rf2")
    service.act_on_row("stalled", stalled, {"action": "done", "note": "lunch booked"}, by=someone())
    service.record_contact({"date": "2024-12-27", "referrer_id": "rf3", "member_id": "cn2",
                            "kind": "follow_up"}, by=someone())  # rf3's follow-up row goes
    assert cache.get().gone_tasks() == [row["id"]]
    result = cli("analyze", "--as-of", "2024-12-31", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["tasks_closed"] == 1
    statuses = {t["id"]: t["status"] for t in small.read("export_tasks")}
    assert statuses == {row["id"]: "closed", stalled["id"]: "done"}  # the done one stays done
    assert json.loads(cli("analyze", "--as-of", "2024-12-31", "--json").output)["tasks_closed"] == 0
