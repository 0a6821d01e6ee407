"""The analysis on the small fixture practice, without a database.

``small_graph`` is the fixture folder built by hand; tests/test_store.py
checks that projecting the imported folder gives exactly this graph, so these
answers are the ones the service gives for that folder.
"""

from __future__ import annotations

from datetime import date as d

from graphsvc.analysis import referrer_metrics, stage_counts, stage_histories
from graphsvc.analysis.practice import clinician_sharing, key_person_risk

AS_OF = d(2024, 12, 31)


def test_stages_of_the_small_practice(small_graph):
    h = stage_histories(small_graph, as_of=AS_OF)
    assert stage_counts(h) == {0: 0, 1: 2, 2: 0, 3: 1}
    assert h["rf1"]["history"] == [{"stage": 1, "date": d(2023, 2, 1), "referral": "r1"}]
    # rf2: cn1 was point person until 2024-01-15, so r4 to cn2 (its point person
    # by then) is not a colleague tried; r6 went to the intake coordinator.
    assert [(c["stage"], c["referral"]) for c in h["rf2"]["history"]] == [(1, "r3")]
    assert (h["rf3"]["stage"], h["rf3"]["jumped"], h["rf3"]["days_to_stage_3"]) == (3, True, 0)


def test_metrics_of_the_small_practice(small_graph):
    m = referrer_metrics(small_graph, as_of=AS_OF)
    assert (m["rf1"]["referrals"], m["rf1"]["breadth"], m["rf1"]["concentration"], m["rf1"]["passes_total"],
            m["rf1"]["point_person"]) == (2, 2, 0.5, 1, "cn1")
    assert (m["rf2"]["point_person"], m["rf2"]["practice_share"], m["rf2"]["point_person_share"]) == (
        "cn2", 0.3333, 0.6667)


def test_sharing_and_key_person_risk_of_the_small_practice(small_graph):
    sharing = clinician_sharing(small_graph)
    assert (sharing["cn1"]["introductions_made"], sharing["cn1"]["passes_made"],
            sharing["cn3"]["passes_received"]) == (2, 1, 1)
    histories = stage_histories(small_graph, as_of=AS_OF)
    risk = key_person_risk(small_graph, histories, as_of=AS_OF)
    assert {c: r["referrers"] for c, r in risk.items()} == {"cn1": ["rf1"], "cn2": ["rf2", "rf3"], "cn3": []}
