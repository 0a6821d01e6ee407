"""Every write that changes a referrer's analysis stores it on the referrer, in the same transaction.

The stored properties must equal what a full ``Service.store_analysis`` (``graphsvc
analyze``) stores for that referrer, so analysts' Cypher never reads a stale count.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import pytest

from graphsvc.errors import NotFound
from graphsvc.live import build
from graphsvc.store.db import Graph
from tests.helpers import service_of, someone

AS_OF = date(2024, 12, 31)  # a fixed "today": stalls, lapses and trends stay reproducible


@pytest.fixture
def small(small):
    """The shared small practice (conftest), with the analysis judged on AS_OF."""
    return Graph(small.settings.with_(analysis={"as_of": AS_OF}), small.driver)


def stored(graph, rid: str) -> dict:
    with graph.session() as s:
        return s.run("MATCH (r:Referrer {id: $id}) RETURN properties(r) AS p", id=rid).single()["p"]


def without_stamp(props: dict) -> dict:
    return {k: v for k, v in props.items() if k != "analysed_at"}


def assert_as_full_write_back(graph, *ids: str) -> None:
    """The stored properties of ``ids`` are what ``graphsvc analyze`` would store now."""
    after_write = {r: without_stamp(stored(graph, r)) for r in ids}
    service_of(graph).store_analysis(build(graph, graph.settings.analysis))
    assert after_write == {r: without_stamp(stored(graph, r)) for r in ids}


def test_record_referral_stores_the_new_count_and_stage(small):
    assert "stage" not in stored(small, "rf1")  # never analysed
    began = datetime.now(UTC)
    service_of(small).record_referral({"id": "r20", "date": "2024-07-01", "referrer_id": "rf1", "client_id": "cl1",
                                       "addressed_to": "cn1"}, by=someone())
    with small.session() as s:
        row = s.run("MATCH (r:Referrer {id:'rf1'}) RETURN r.referrals, r.stage, r.analysed_at").single()
    assert row["r.referrals"] == 3 and row["r.stage"] == 1
    assert row["r.analysed_at"].to_native() >= began
    props = stored(small, "rf1")
    assert (props["last_referral"].to_native(), props["point_person_share"], props["analysis_as_of"].to_native(),
            props["analysis_window"], props["analysis_stall_days"], props["analysis_lapse_days"]) == (
        date(2024, 7, 1), 1.0, AS_OF, 5, 180, 180)
    assert "stage" not in stored(small, "rf2")  # only the referrer the write touched
    assert_as_full_write_back(small, "rf1")


def test_after_analyze_one_write_moves_the_stored_count(small):
    service_of(small).store_analysis(build(small, small.settings.analysis))
    analysed = stored(small, "rf1")
    assert analysed["referrals"] == 2
    service_of(small).record_referral({"id": "r20", "date": "2024-07-01", "referrer_id": "rf1", "client_id": "cl1",
                                       "addressed_to": "cn1"}, by=someone())
    fresh = stored(small, "rf1")
    assert fresh["referrals"] == 3 and fresh["analysed_at"] > analysed["analysed_at"]
    assert_as_full_write_back(small, "rf1")


def test_hand_over_stores_the_point_person_share_and_stage(small):
    service_of(small).store_analysis(build(small, small.settings.analysis))
    before = stored(small, "rf1")
    assert (before["point_person_share"], before["stage"]) == (1.0, 1)
    # From 2023-03-01 cn2 holds the role: r2 (2023-05-02, addressed to cn1) is no longer to the point person.
    service_of(small).hand_over({"referrer_id": "rf1", "to_clinician_id": "cn2", "date": "2023-03-01"}, by=someone())
    after = stored(small, "rf1")
    assert (after["point_person_share"], after["stage"], after["stage_2_on"].to_native()) == (0.5, 2, date(2023, 5, 2))
    assert_as_full_write_back(small, "rf1", "rf2", "rf3")


def test_pass_and_every_event_store_their_referrers_analysis(small):
    service_of(small).store_analysis(build(small, small.settings.analysis))
    assert stored(small, "rf1")["passes"] == 1 and stored(small, "rf3")["contacts"] == 1
    service_of(small).pass_referral({"referral_id": "r1", "to_clinician_id": "cn2",
                                     "reason": "scheduling"}, by=someone())  # r1 was sent by rf1
    assert (stored(small, "rf1")["passes"], stored(small, "rf1")["passes_scheduling"]) == (2, 1)
    service_of(small).record_introduction({"id": "i9", "date": "2024-08-01", "referrer_id": "rf3",
                                           "introduced_id": "cn1", "by_id": "cn2"}, by=someone())
    service_of(small).record_contact({"id": "k9", "date": "2024-08-02", "referrer_id": "rf3", "member_id": "cn1",
                                      "kind": "case_consult"}, by=someone())
    service_of(small).record_referral_out({"id": "o9", "date": "2024-08-03", "referrer_id": "rf3", "client_id": "cl3",
                                           "provider_id": "ep2", "niche": "forensic_evaluation"}, by=someone())
    rf3 = stored(small, "rf3")
    assert (rf3["introductions"], rf3["contacts"], rf3["last_contact"].to_native()) == (1, 2, date(2024, 8, 2))
    assert_as_full_write_back(small, "rf1", "rf2", "rf3")


def test_save_referrer_stores_its_analysis_and_one_not_started_has_none(small):
    service_of(small).save("referrer", {"name": "Ms. Vega", "kind": "school_counselor", "organization": "Lincoln High",
                                        "point_person_id": "cn1", "since": "2023-03-01"}, by=someone(), record_id="rf2")
    assert (stored(small, "rf2")["referrals"], stored(small, "rf2")["stage"]) == (3, 1)
    # Begun after the day analysed: stamped with the options, no stage or metrics (as write_back does).
    service_of(small).save("referrer", {"id": "rf9", "name": "Dr. Ode", "kind": "physician",
                                        "organization": "Ode Family Medicine", "point_person_id": "cn1",
                                        "since": "2025-03-01"}, by=someone())
    rf9 = stored(small, "rf9")
    assert "stage" not in rf9 and "referrals" not in rf9 and rf9["analysis_as_of"].to_native() == AS_OF
    service_of(small).save("referrer", {"id": "rf8", "name": "Dr. New", "kind": "physician",
                                        "organization": "New Clinic", "point_person_id": "cn2",
                                        "since": "2024-06-01"}, by=someone())
    assert (stored(small, "rf8")["stage"], stored(small, "rf8")["referrals"]) == (0, 0)
    assert_as_full_write_back(small, "rf2", "rf8", "rf9")


def test_a_refused_write_stores_nothing(small):
    service_of(small).store_analysis(build(small, small.settings.analysis))
    before = stored(small, "rf1")
    with pytest.raises(NotFound):
        service_of(small).record_referral({"id": "r20", "date": "2024-07-01", "referrer_id": "rf1", "client_id": "nope",
                                           "addressed_to": "cn1"}, by=someone())
    assert stored(small, "rf1") == before


def test_concurrent_writes_leave_the_last_count_stored(small):
    def write(n: int) -> None:
        for i in range(10):
            service_of(small).record_referral({"id": f"r{n}_{i}", "date": "2024-07-01", "referrer_id": "rf1",
                                               "client_id": "cl1", "addressed_to": "cn1"}, by=someone())

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert stored(small, "rf1")["referrals"] == 2 + 40
    assert_as_full_write_back(small, "rf1")
