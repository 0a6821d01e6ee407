"""Closing the loop with referrers (issue 17): where each referral stands (statuses, forward, each once,
dated in order), whether its client agreed that the referrer be told, and the referrer's update, printed and
sent, which closes the follow-up rows it covers.

On the small fixture (judged on ``AS_OF``, 2024-12-31) the tests add recent referrals of rf3 Rev. Stone
(point person cn2 Ben Okafor): r20 on 2024-12-10 (consent yes), r21 on 2024-12-12 (no), r22 on 2024-12-15
(yes), each addressed to cn2.
"""

from __future__ import annotations

import html
import re
import threading
from datetime import date

import pytest

from graphsvc.errors import Forbidden, InvalidInput, NotFound
from graphsvc.live import InsightsCache
from graphsvc.service import Actor, Service
from graphsvc.store.library import get
from tests.conftest import AS_OF, csrf_token_of
from tests.helpers import TEST_QUERIES, import_folder, snapshot, someone


def recent(service):
    for rid, day, consent in (("r20", "2024-12-10", "yes"), ("r21", "2024-12-12", "no"), ("r22", "2024-12-15", "yes")):
        service.record_referral({"id": rid, "date": day, "referrer_id": "rf3", "client_id": "cl1",
                                 "addressed_to": "cn2", "consent_to_update": consent}, by=someone())


@pytest.fixture
def live(small):
    options = small.settings.with_(analysis={"as_of": AS_OF}).analysis
    cache = InsightsCache(small, options)
    cache.get()
    service = Service(small, options, live=cache)
    recent(service)
    return cache, service


def text(answer) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html.unescape(answer.get_data(as_text=True))))


# -- statuses --------------------------------------------------------------------------------------------------


def test_a_referral_moves_forward_and_each_status_is_dated_in_order(live):
    cache, service = live
    assert service.record_status("r20", {"status": "contacted", "date": "2024-12-11"}, by=someone()) == {
        "referral_id": "r20", "referrer_id": "rf3", "status": "contacted", "date": date(2024, 12, 11),
        "statuses": {"contacted": date(2024, 12, 11)}}
    service.record_status("r20", {"status": "first_visit", "date": "2024-12-20"}, by=someone())  # scheduling skipped
    refusals = {
        ("r20", "scheduled", "2024-12-21"): "field 'status': the referral is first_visit already (since 2024-12-20); "
                                            "scheduled comes before that",
        ("r20", "no_show", "2024-12-21"): "field 'status': the referral had its first visit already (2024-12-20); "
                                          "it can no longer end as no_show",
        ("r22", "contacted", "2024-12-14"): "field 'date': 2024-12-14 is before the referral (2024-12-15)",
        ("r22", "received", "2024-12-16"): "field 'status': must be one of 'contacted', 'scheduled', 'first_visit', "
                                           "'declined', 'no_show' or 'referred_out' (got 'received')",
    }
    before = snapshot(cache.graph)
    for (referral, status, day), message in refusals.items():
        with pytest.raises(InvalidInput) as refused:
            service.record_status(referral, {"status": status, "date": day}, by=someone())
        assert refused.value.problems == [message]
    service.record_status("r22", {"status": "scheduled", "date": "2024-12-18"}, by=someone())
    with pytest.raises(InvalidInput, match=r"field 'date': 2024-12-17 is before the referral's last status "
                                           r"\(scheduled on 2024-12-18\)"):
        service.record_status("r22", {"status": "no_show", "date": "2024-12-17"}, by=someone())
    with pytest.raises(NotFound, match="unknown referral 'r99'"):
        service.record_status("r99", {"status": "contacted", "date": "2024-12-17"}, by=someone())
    assert snapshot(cache.graph) != before  # r22 scheduled; nothing else
    rows = {r["id"]: (r["status"], r["status_on"]) for r in cache.get().recent_referrals("rf3")}
    assert (rows["r20"], rows["r21"], rows["r22"]) == (
        ("first_visit", date(2024, 12, 20)), ("received", date(2024, 12, 12)), ("scheduled", date(2024, 12, 18)))


def test_a_clinician_records_statuses_of_its_own_referrals_only(live):
    _, service = live
    ana, ben = Actor("ana", "clinician", "cn1"), Actor("ben", "clinician", "cn2")
    assert service.record_status("r20", {"status": "contacted", "date": "2024-12-11"}, by=ben)["status"] == "contacted"
    with pytest.raises(Forbidden, match="record statuses only of referrals assigned to it"):
        service.record_status("r22", {"status": "contacted", "date": "2024-12-16"}, by=ana)
    assert service.record_status("r22", {"status": "contacted", "date": "2024-12-16"},
                                 by=Actor("desk", "intake"))["status"] == "contacted"


def test_two_statuses_of_one_referral_at_once_take_turns(live):
    _, service = live
    barrier, results = threading.Barrier(2), []

    def record(status):
        barrier.wait()
        try:
            row = service.record_status("r20", {"status": status, "date": "2024-12-11"}, by=someone())
            results.append(row["status"])
        except InvalidInput as e:
            results.append(str(e))

    threads = [threading.Thread(target=record, args=(s,)) for s in ("first_visit", "declined")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # One of them came first; the other found the referral ended or seen, and was refused.
    assert sorted(r in ("first_visit", "declined") for r in results) == [False, True]


# -- the update -------------------------------------------------------------------------------------------------


def test_the_update_lists_only_consenting_recent_referrals_and_sending_closes_their_rows(live):
    cache, service = live
    service.record_status("r20", {"status": "scheduled", "date": "2024-12-13"}, by=someone())
    assert cache.get().update_for("rf3") == [
        {"id": "r20", "date": date(2024, 12, 10), "clinician": "cn2", "clinician_name": "Ben Okafor",
         "status": "scheduled", "status_on": date(2024, 12, 13)},
        {"id": "r22", "date": date(2024, 12, 15), "clinician": "cn2", "clinician_name": "Ben Okafor",
         "status": "received", "status_on": date(2024, 12, 15)}]
    follow_ups = {r["referral"] for r in cache.get().worklist("follow-up") if r["referrer"] == "rf3"}
    assert follow_ups == {"r20", "r21", "r22"}
    sent = service.send_update("rf3", by=someone(), day=AS_OF)
    assert (sent["kind"], sent["member_id"], sent["covers"], sent["date"]) == ("update_sent", "cn2", ["r20", "r22"],
                                                                              AS_OF)
    # The update closed the loops it covered; r21's client did not agree: its row stays.
    assert {r["referral"] for r in cache.get().worklist("follow-up", "all") if r["referrer"] == "rf3"} == {"r21"}
    assert cache.get().follow_up_figures["late"] == 2  # 21 and 16 days on: after their 14
    contacts = [r for r in cache.graph.read("export_contacts") if r["kind"] == "update_sent"]
    assert [(r["referrer_id"], r["covers"]) for r in contacts] == [("rf3", ["r20", "r22"])]
    # The analysts' follow-ups query agrees.
    query = get("follow_ups_due")
    due = cache.graph.read_tx(lambda tx: tx.run(query.cypher, query.bind({"as_of": AS_OF.isoformat()})).data())
    assert [r["referral"] for r in due if r["referrer"] == "rf3"] == ["r21"]


def test_nothing_to_send_and_who_may_send(live, small):
    _, service = live
    with pytest.raises(InvalidInput, match="nothing to send: no referral of the last 90 days"):
        service.send_update("rf1", by=someone(), day=AS_OF)
    with pytest.raises(Forbidden, match="send updates only to referrers it is the point person of"):
        service.send_update("rf3", by=Actor("ana", "clinician", "cn1"), day=AS_OF)
    assert service.send_update("rf3", by=Actor("ben", "clinician", "cn2"), day=AS_OF)["member_id"] == "cn2"
    with pytest.raises(NotFound):
        service.send_update("nobody", by=someone(), day=AS_OF)


# -- pages and API -----------------------------------------------------------------------------------------------


def test_the_pages_record_a_status_print_and_send_the_update(small, app, client):
    recent(Service(small, app.extensions["service"].options, live=app.extensions["insights"]))
    page = client.get("/referrers/rf3").get_data(as_text=True)
    assert "rf3's update" not in page and "Rev. Stone's update" in html.unescape(page)
    form = client.get("/referrals/r20/status?next=/referrers/rf3")
    answer = client.post("/referrals/r20/status", data={"csrf_token": csrf_token_of(form.get_data(as_text=True)),
                                                        "status": "contacted", "date": "2024-12-12",
                                                        "next": "/referrers/rf3"})
    assert (answer.status_code, answer.headers["Location"]) == (303, "/referrers/rf3")
    refused = client.post("/referrals/r20/status", data={"csrf_token": csrf_token_of(form.get_data(as_text=True)),
                                                         "status": "scheduled", "date": "2024-12-01"})
    assert refused.status_code == 400 and "2024-12-01 is before the referral (2024-12-10)" in text(refused)
    assert 'value="2024-12-01"' in refused.get_data(as_text=True)  # what was typed stays
    update = text(client.get("/referrers/rf3/update"))
    assert "2024-12-10 Ben Okafor contacted (2024-12-12)" in update
    assert "2024-12-15 Ben Okafor received (2024-12-15)" in update and "2024-12-12 Ben" not in update
    assert "cl1" not in update  # nothing about the client
    pdf = client.get("/referrers/rf3/update?format=pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert client.get("/referrers/rf3/update?format=doc").status_code == 400
    token = csrf_token_of(client.get("/referrers/rf3/update").get_data(as_text=True))
    sent = client.post("/referrers/rf3/update", data={"csrf_token": token})
    assert (sent.status_code, sent.headers["Location"]) == (303, "/referrers/rf3")
    assert "Update sent to Rev. Stone: 2 referrals; their follow-up rows are closed." in \
        text(client.get("/referrers/rf3"))


def test_the_api_records_statuses_and_sends_updates(small, app, as_role):
    recent(Service(small, app.extensions["service"].options, live=app.extensions["insights"]))
    api = as_role("manager")
    answer = api.post("/api/referrals/r22/status", json={"status": "scheduled", "date": "2024-12-16"})
    assert (answer.status_code, answer.get_json()["statuses"]) == (201, {"scheduled": "2024-12-16"})
    bad = api.post("/api/referrals/r22/status", json={"status": "contacted", "date": "2024-12-17"})
    assert (bad.status_code, bad.get_json()["problems"]) == (
        400, ["field 'status': the referral is scheduled already (since 2024-12-16); contacted comes before that"])
    assert api.post("/api/referrals/r99/status", json={"status": "contacted", "date": "2024-12-17"}).status_code == 404
    body = api.get("/api/referrers/rf3/update").get_json()
    assert [(r["id"], r["status"]) for r in body["referrals"]] == [("r20", "received"), ("r22", "scheduled")]
    sent = api.post("/api/referrers/rf3/update")
    assert (sent.status_code, sent.get_json()["covers"], sent.get_json()["kind"]) == \
        (201, ["r20", "r22"], "update_sent")
    referral = api.post("/api/referrals", json={"date": "2024-12-20", "referrer_id": "rf3", "client_id": "cl1",
                                                "addressed_to": "cn2", "consent_to_update": "maybe"})
    assert referral.status_code == 400 and "consent_to_update" in referral.get_json()["problems"][0]


def test_statuses_consent_and_updates_export_and_import_exactly(live, tmp_path, graph):
    from graphsvc.csvio.exporter import export_folder

    cache, service = live
    service.record_status("r20", {"status": "contacted", "date": "2024-12-11"}, by=someone())
    service.record_status("r20", {"status": "no_show", "date": "2024-12-19"}, by=someone())
    service.record_status("r22", {"status": "declined", "date": "2024-12-16"}, by=someone())
    service.send_update("rf3", by=someone(), day=AS_OF)
    before = snapshot(graph, analysis=False)
    export_folder(graph, tmp_path / "one")
    assert (tmp_path / "one" / "referral_statuses.csv").read_text() == (
        "referral_id,status,date\nr20,contacted,2024-12-11\nr20,no_show,2024-12-19\nr22,declined,2024-12-16\n")
    graph.write("wipe_graph", catalog=TEST_QUERIES)
    graph.write("practice_node", catalog=TEST_QUERIES)
    import_folder(graph, tmp_path / "one")
    assert snapshot(graph, analysis=False) == before
    import_folder(graph, tmp_path / "one")  # again: nothing changes (a restated status is accepted)
    assert snapshot(graph, analysis=False) == before


# -- conversion and leakage --------------------------------------------------------------------------------------


def test_conversion_per_referrer_kind_and_practice(live, small, app, client):
    cache, service = live
    service.record_status("r20", {"status": "first_visit", "date": "2024-12-22"}, by=someone())  # 12 days
    service.record_status("r5", {"status": "contacted", "date": "2024-04-02"}, by=someone())
    service.record_status("r5", {"status": "first_visit", "date": "2024-04-20"}, by=someone())  # 19 days
    service.record_status("r6", {"status": "declined", "date": "2024-05-03"}, by=someone())
    # Judged on 2024-12-31: the referrals of 2024 up to 2024-12-10 (21 days before): r4, r5, r6 and r20.
    conversion = cache.get().conversion
    assert conversion["practice"] == {"referrals": 4, "first_visits": 2, "share": 0.5, "median_days": 15.5,
                                      "ended": 1, "waiting": 1}
    assert conversion["by_kind"] == {
        "clergy": {"referrals": 2, "first_visits": 2, "share": 1.0, "median_days": 15.5, "ended": 0, "waiting": 0},
        "pediatrician": {"referrals": 0, "first_visits": 0, "share": None, "median_days": None, "ended": 0,
                         "waiting": 0},
        "school_counselor": {"referrals": 2, "first_visits": 0, "share": 0.0, "median_days": None, "ended": 1,
                             "waiting": 1}}
    assert cache.get().referrer("rf3")["conversion"] == conversion["by_kind"]["clergy"]
    # The same in the web view's analysis (another live analysis of the same graph).
    assert client.get("/api/practice/summary").get_json()["conversion"]["practice"]["median_days"] == 15.5
    assert client.get("/api/referrers/rf2").get_json()["conversion"]["ended"] == 1
    assert "2 of 2 referrals (100%), median 16 days to the first visit" in text(client.get("/referrers/rf3"))
    dashboard = text(client.get("/dashboard"))
    assert "The practice 4 2 50% 15.5 1 1" in dashboard and "school counselor 2 0 0% — 1 1" in dashboard
