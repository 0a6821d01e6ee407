"""Concurrent writes through the Python API, with threads against the real Neo4j.

Each scenario starts its callers together (``threading.Barrier``) and then
checks the graph: nothing lost or doubled, exactly one winner where only one
can win, no tenure history the importer would refuse, and the graph's own
export re-imports with zero problems into the same graph.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from datetime import date, timedelta

import pytest

from graphsvc.csvio.exporter import export_folder
from graphsvc.errors import InvalidInput
from graphsvc.store.reads import changes_since
from graphsvc.store.schema import init_schema
from tests.helpers import TEST_QUERIES, import_folder, service_of, snapshot, someone

# Threads writing thousands of records at once.
pytestmark = pytest.mark.slow


def race(*calls) -> list:
    """Run each call in its own thread, all released at once; return ("ok", result) or ("error", exc) each."""
    barrier = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def run(i, call):
        barrier.wait()
        try:
            outcomes[i] = ("ok", call())
        except Exception as e:  # noqa: BLE001 - the outcome is what the test judges
            outcomes[i] = ("error", e)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def counts(graph) -> tuple[Counter, Counter]:
    """Nodes per label set and relationships per type."""
    row = graph.read("graph_snapshot", catalog=TEST_QUERIES)[0]
    return (Counter(":".join(sorted(n["labels"])) for n in row["nodes"]),
            Counter(r["type"] for r in row["relationships"]))


def version(graph) -> int:
    return changes_since(graph).version


def tenures(graph) -> dict[str, list]:
    """Each referrer's tenures (since, until, holder), in date order."""
    row = graph.read("graph_snapshot", catalog=TEST_QUERIES)[0]
    out: dict[str, list] = {}
    for r in row["relationships"]:
        if r["type"] == "POINT_PERSON":
            out.setdefault(r["start"], []).append((r["props"]["since"], r["props"].get("until"), r["end"]))
    return {k: sorted(v, key=lambda t: t[0]) for k, v in out.items()}


def assert_round_trip(graph, folder) -> None:
    """export -> wipe -> import gives zero problems and the very same graph (but the stored analysis)."""
    before, before_counts = snapshot(graph, analysis=False), counts(graph)
    export_folder(graph, folder)
    graph.write("wipe_graph", catalog=TEST_QUERIES)
    init_schema(graph)
    report = import_folder(graph, folder)
    assert report.problems == []
    assert counts(graph) == before_counts
    assert snapshot(graph, analysis=False) == before


def test_eight_writers_lose_and_double_nothing(small, tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="neo4j")
    nodes_before, _ = counts(small)
    version_before = version(small)
    writers, each = 8, 200
    addressees = ["cn1", "cn2", "st1", "practice"]

    def writer(w):
        def write():
            for i in range(each):
                addressed = addressees[(w + i) % 4]
                assigned = {"assigned_to": "cn3"} if addressed in ("st1", "practice") else {}
                service_of(small).record_referral({
                    "id": f"w{w}-{i:03}", "date": date(2025, 1 + i % 12, 1 + w), "referrer_id": f"rf{1 + i % 3}",
                    "client_id": f"cl{1 + i % 6}", "addressed_to": addressed, **assigned}, by=someone())
            return each
        return write

    outcomes = race(*(writer(w) for w in range(writers)))
    assert outcomes == [("ok", each)] * writers
    # They took turns on the Practice node's lock: no deadlock, so the driver retried nothing.
    assert [r.getMessage() for r in caplog.records if r.name.startswith("neo4j")] == []
    nodes, _ = counts(small)
    assert nodes["Referral"] - nodes_before["Referral"] == writers * each == 1600
    # Every write bumped the change counter exactly once: no update of it was lost.
    assert version(small) - version_before == 1600
    # Each referral has exactly its four edges.
    per_referral = Counter()
    for r in small.read("graph_snapshot", catalog=TEST_QUERIES)[0]["relationships"]:
        for end in (r["start"], r["end"]):
            if isinstance(end, str) and end.startswith("w") and "-" in end:
                per_referral[(end, r["type"])] += 1
    assert len(per_referral) == 1600 * 4
    assert set(per_referral.values()) == {1}
    assert_round_trip(small, tmp_path / "export")


def test_same_id_pairs_have_exactly_one_winner(small, tmp_path):
    nodes_before, _ = counts(small)
    kinds = [
        ("Referral", lambda i, day: service_of(small).record_referral({"id": f"p{i}", "date": day, "referrer_id": "rf1",
                                                                       "client_id": "cl1",
                                                                       "addressed_to": "cn1"}, by=someone())),
        ("Introduction", lambda i, day: service_of(small).record_introduction({
            "id": f"p{i}", "date": day, "referrer_id": "rf3", "introduced_id": "cn1", "by_id": "cn2"}, by=someone())),
        ("Contact", lambda i, day: service_of(small).record_contact({"id": f"p{i}", "date": day, "referrer_id": "rf2",
                                                                     "member_id": "st1",
                                                                     "kind": "talk"}, by=someone())),
        ("ReferralOut", lambda i, day: service_of(small).record_referral_out({
            "id": f"p{i}", "date": day, "referrer_id": "rf2", "client_id": "cl6", "provider_id": "ep1",
            "niche": "inpatient_eating_disorders"}, by=someone())),
    ]
    made = Counter()
    for i in range(50):
        label, call = kinds[i % 4]
        # The two callers send different dates, so the stored one shows who won (each pair its own days: the
        # same introduction or contact on the same day under another id would be a duplicate).
        first = date(2024, 3, 1) + timedelta(days=2 * i)
        second = first + timedelta(days=1)
        outcomes = race(lambda call=call, i=i, day=first: call(i, day), lambda call=call, i=i, day=second: call(i, day))
        oks = [k for k, (status, _) in enumerate(outcomes) if status == "ok"]
        errors = [value for status, value in outcomes if status == "error"]
        assert len(oks) == 1 and len(errors) == 1, outcomes
        assert isinstance(errors[0], InvalidInput), repr(errors[0])
        assert errors[0].problems == [f"field 'id': {label} 'p{i}' already exists"]
        winner = outcomes[oks[0]][1]
        assert winner["date"] == (first, second)[oks[0]]
        made[label] += 1
    nodes, _ = counts(small)
    new = {label: nodes[label] - nodes_before[label] for label in made}
    assert new == dict(made) and sum(new.values()) == 50
    # The loser wrote nothing: each event has its winner's date and one set of edges.
    exported = {label: {r["id"]: r for r in small.read(name) if r["id"].startswith("p")}
                for label, name in (("Referral", "export_referrals"), ("Introduction", "export_introductions"),
                                    ("Contact", "export_contacts"), ("ReferralOut", "export_referrals_out"))}
    assert sum(len(v) for v in exported.values()) == 50
    assert_round_trip(small, tmp_path / "export")


def test_handoff_pairs_have_exactly_one_winner(small, tmp_path):
    referrers = [f"rh{i:02}" for i in range(30)]
    for rid in referrers:
        service_of(small).save("referrer", {"id": rid, "name": f"Dr. {rid}", "kind": "physician",
                                            "organization": "Clinic", "point_person_id": "cn1",
                                            "since": "2024-01-01"}, by=someone())
    for rid in referrers:
        outcomes = race(lambda rid=rid: service_of(small).hand_over({"referrer_id": rid, "to_clinician_id": "cn2",
                                                                      "date": "2025-01-01"}, by=someone()),
                        lambda rid=rid: service_of(small).hand_over({"referrer_id": rid, "to_clinician_id": "cn3",
                                                                      "date": "2025-01-01"}, by=someone()))
        statuses = sorted(status for status, _ in outcomes)
        assert statuses == ["error", "ok"], outcomes
        (error,) = [value for status, value in outcomes if status == "error"]
        assert isinstance(error, InvalidInput)
        assert error.problems == ["field 'date': 2025-01-01 is not after the current tenure's start 2025-01-01"]
    # Same clinician on different days: the later call sees the earlier one's tenure.
    for rid in referrers[:10]:
        outcomes = race(lambda rid=rid: service_of(small).hand_over({"referrer_id": rid, "to_clinician_id": "cn1",
                                                                      "date": "2025-06-01"}, by=someone()),
                        lambda rid=rid: service_of(small).hand_over({"referrer_id": rid, "to_clinician_id": "cn1",
                                                                      "date": "2025-07-01"}, by=someone()))
        assert sorted(status for status, _ in outcomes) == ["error", "ok"], outcomes
        (error,) = [value for status, value in outcomes if status == "error"]
        # The 07-01 handoff losing: cn1 holds the role. The 06-01 one losing: it also comes before 07-01.
        assert error.problems in (["field 'to_clinician_id': 'cn1' already holds the role"], [
            "field 'date': 2025-06-01 is not after the current tenure's start 2025-07-01",
            "field 'to_clinician_id': 'cn1' already holds the role"])
    history = tenures(small)
    for rid in referrers:
        held = history[rid]
        assert [until for _, until, _ in held].count(None) == 1, held
        assert held[-1][1] is None
        assert all(since < until for since, until, _ in held if until is not None), held
        assert all(a[1] == b[0] for a, b in zip(held, held[1:], strict=False)), held
        assert held[0][2] == "cn1" and str(held[1][0]) == "2025-01-01" and held[1][2] in ("cn2", "cn3")
    assert_round_trip(small, tmp_path / "export")


def test_pass_pairs_leave_one_assignee(small):
    ids = [f"q{i:02}" for i in range(20)]
    for rid in ids:
        service_of(small).record_referral({"id": rid, "date": "2025-02-01", "referrer_id": "rf1", "client_id": "cl1",
                                           "addressed_to": "cn1"}, by=someone())
    for rid in ids:
        outcomes = race(lambda rid=rid: service_of(small).pass_referral({"referral_id": rid, "to_clinician_id": "cn2",
                                                                          "reason": "scheduling"}, by=someone()),
                        lambda rid=rid: service_of(small).pass_referral({"referral_id": rid, "to_clinician_id": "cn3",
                                                                          "reason": "specialty"}, by=someone()))
        assert [status for status, _ in outcomes] == ["ok", "ok"], outcomes
        (parties,) = small.read("referral_parties", catalog=TEST_QUERIES, id=rid)
        # The later pass wins, whole: its assignee with its reason, and one ASSIGNED_TO edge.
        assert (parties["assigned_to"], parties["pass_reason"]) in (("cn2", "scheduling"), ("cn3", "specialty"))
    assigned = Counter(r["start"] for r in small.read("graph_snapshot", catalog=TEST_QUERIES)[0]["relationships"]
                       if r["type"] == "ASSIGNED_TO" and r["start"] in ids)
    assert assigned == {rid: 1 for rid in ids}
