"""Positions and elements of the /network page on small hand-built graphs (no database)."""

from __future__ import annotations

import json
import math
from datetime import date as d

import pytest

from graphsvc.analysis import graph as p
from graphsvc.analysis import stage_histories
from graphsvc.analysis.layout import network_elements, network_layout

AS_OF = d(2024, 12, 31)


def build(order=1):
    """Three clinicians, a staff member, five referrers (one not referring yet), a provider.

    ``order=-1`` adds the same nodes and events in the reverse order.
    """
    G = p.new_graph()
    steps = [
        lambda: p.add_member(G, "ana", name="Ana"),
        lambda: p.add_member(G, "ben", name="Ben"),
        lambda: p.add_member(G, "cai", name="Cai"),
        lambda: p.add_member(G, "dee", kind="staff", name="Dee", role="intake_coordinator"),
        lambda: p.add_provider(G, "ep1", name="Summit", niches=["tms"]),
        lambda: p.add_referrer(G, "x", name="Dr. X", point_person="ana", since=d(2024, 1, 1),
                               referrer_kind="physician"),
        lambda: p.add_referrer(G, "y", name="Ms. Y", referrer_kind="school_counselor",
                               tenures=[(d(2024, 1, 1), d(2024, 6, 1), "ana"), (d(2024, 6, 1), None, "ben")]),
        lambda: p.add_referrer(G, "z", point_person="cai", since=d(2024, 2, 1), referrer_kind="physician"),
        lambda: p.add_referrer(G, "q", point_person="cai", since=d(2024, 2, 1), referrer_kind="physician"),
        lambda: p.add_referrer(G, "new", point_person="ben", since=d(2024, 11, 1), referrer_kind="clergy"),
    ]
    events = [
        lambda: p.add_referral(G, "x", "x1", d(2024, 2, 1), "ana"),
        lambda: p.add_referral(G, "x", "x2", d(2024, 3, 1), "ana", "ben", pass_reason="scheduling"),
        lambda: p.add_introduction(G, "x", "i1", d(2024, 2, 15), "ben", by="ana"),
        lambda: p.add_referral(G, "y", "y1", d(2024, 4, 1), "dee", "cai"),
        lambda: p.add_referral(G, "y", "y2", d(2024, 7, 1), "practice", "ana"),
        lambda: p.add_referral(G, "z", "z1", d(2024, 5, 1), "cai"),
        lambda: p.add_referral(G, "q", "q1", d(2024, 5, 2), "cai"),
        lambda: p.add_contact(G, "new", "k1", d(2024, 11, 5), "ben"),
        lambda: p.add_referral_out(G, "x", "o1", d(2024, 8, 1), "ep1", "tms"),
    ]
    for step in steps[::order] + events[::order]:
        step()
    return G


def finite(pos):
    return all(math.isfinite(c) for xy in pos.values() for c in xy)


def test_layout_places_members_and_referrers_deterministically():
    G = build()
    pos = network_layout(G, seed=3)
    assert sorted(pos) == ["ana", "ben", "cai", "dee", "new", "q", "x", "y", "z"]
    assert finite(pos)
    assert pos == network_layout(G, seed=3)
    assert pos == network_layout(build(order=-1), seed=3)   # the order nodes were added in does not matter
    assert pos != network_layout(G, seed=4)
    # The linked nodes fill [-1, 1]; the ring of unlinked ones lies just outside them.
    assert max(abs(c) for n, xy in pos.items() if n != "new" for c in xy) == 1.0


def test_layout_puts_nodes_without_links_on_a_ring_outside():
    pos = network_layout(build(), seed=3)
    # "new" has only a contact: no referral or introduction links it.
    linked = [math.hypot(*pos[n]) for n in pos if n != "new"]
    assert math.hypot(*pos["new"]) == pytest.approx(1.1 * max(linked), abs=1e-5)   # rounded to 5 places


def test_layout_with_providers():
    pos = network_layout(build(), seed=3, providers=True)
    assert "ep1" in pos and finite(pos)
    assert "ep1" not in network_layout(build(), seed=3)


def test_layout_keeps_previous_positions_and_places_only_new_nodes():
    G = build()
    before = network_layout(G, seed=3)
    p.add_referrer(G, "r2", point_person="ana", since=d(2024, 12, 1))
    p.add_referral(G, "r2", "r2a", d(2024, 12, 2), "ana")
    p.add_referrer(G, "r3", point_person="ana", since=d(2024, 12, 1))   # no link: onto the ring
    after = network_layout(G, seed=3, previous=before)
    assert {n: after[n] for n in before} == before
    assert {"r2", "r3"} <= set(after) and finite(after)
    assert after == network_layout(G, seed=3, previous=before)
    # r2 starts at ana's position and is pushed off it, but stays in the picture.
    assert 0 < math.dist(after["r2"], after["ana"]) < 2


def test_layout_moves_changed_nodes_and_drops_removed_ones():
    G = build()
    before = network_layout(G, seed=3)
    p.add_referral(G, "z", "z2", d(2024, 6, 1), "ana")
    G.remove_node("q")
    after = network_layout(G, seed=3, previous=before, changed=["z"])
    assert "q" not in after
    assert after["z"] != before["z"]
    assert all(after[n] == before[n] for n in after if n != "z")


def test_layout_of_an_empty_practice():
    assert network_layout(p.new_graph()) == {}


def test_elements_full_mode_fields():
    G = build()
    h = stage_histories(G, as_of=AS_OF)
    positions = network_layout(G, seed=3)
    net = network_elements(G, h, positions)
    assert net["mode"] == "full" and net["referrers"] == 5
    nodes = {n["id"]: n for n in net["nodes"]}
    assert [n["id"] for n in net["nodes"]] == ["ana", "ben", "cai", "dee", "new", "q", "x", "y", "z"]
    assert all((n["x"], n["y"]) == positions[n["id"]] for n in net["nodes"])
    y = dict(nodes["y"])
    del y["x"], y["y"], y["size"]
    assert y == {"id": "y", "label": "Ms. Y", "kind": "referrer", "stage": 3, "referrer_kind": "school_counselor",
                 "point_person": "ben", "first_referral": d(2024, 4, 1), "last_referral": d(2024, 7, 1),
                 "referrals": 2, "count": 1}
    assert (nodes["new"]["stage"], nodes["new"]["referrals"], nodes["new"]["first_referral"]) == (0, 0, None)
    # ana: x1 (assigned), x2 (addressed), y2 (assigned) -> 3; dee: y1 addressed to it.
    assert [(nodes[m]["kind"], nodes[m]["referrals"], nodes[m]["first_referral"], nodes[m]["last_referral"])
            for m in ("ana", "dee")] == [("clinician", 3, d(2024, 2, 1), d(2024, 7, 1)),
                                         ("staff", 1, d(2024, 4, 1), d(2024, 4, 1))]
    assert nodes["ana"]["stage"] is nodes["ana"]["point_person"] is None
    # ana and cai have the most referrals (3): the largest size; z's 1 of 3 is sqrt(1/3) of the way.
    assert nodes["ana"]["size"] == nodes["cai"]["size"] == 10.0
    assert nodes["z"]["size"] == round(1 + 9 * math.sqrt(1 / 3), 2) and nodes["new"]["size"] == 1.0
    edges = {e["id"]: e for e in net["edges"]}
    assert sorted(edges) == ["q->cai", "x->ana", "x->ben", "y->ana", "y->cai", "y->dee", "z->cai"]
    assert edges["x->ben"] == {"id": "x->ben", "source": "x", "target": "ben", "referrals": 1, "introductions": 1,
                               "weight": 2, "first": d(2024, 2, 15), "last": d(2024, 3, 1)}
    assert edges["x->ana"]["referrals"] == 2   # x1 assigned to ana, x2 addressed to her
    assert json.loads(json.dumps(net, default=str))["nodes"][0]["id"] == "ana"


def test_elements_with_providers():
    G = build()
    net = network_elements(G, stage_histories(G, as_of=AS_OF), providers=True)
    ep1 = next(n for n in net["nodes"] if n["id"] == "ep1")
    assert (ep1["kind"], ep1["referrals"], ep1["first_referral"]) == ("provider", 1, d(2024, 8, 1))
    assert any(e["id"] == "x->ep1" and e["referrals"] == 1 for e in net["edges"])


def test_elements_lays_out_when_positions_are_missing():
    G = build()
    h = stage_histories(G, as_of=AS_OF)
    positions = network_layout(G, seed=3)
    del positions["x"]
    net = network_elements(G, h, positions, seed=3)
    got = {n["id"]: (n["x"], n["y"]) for n in net["nodes"]}
    assert all(got[n] == positions[n] for n in positions)   # the others kept, x placed against them
    assert math.isfinite(got["x"][0]) and math.isfinite(got["x"][1])
    assert network_elements(G, h, seed=3)["nodes"] == network_elements(G, h, network_layout(G, seed=3))["nodes"]


def test_elements_aggregate_mode_above_max_nodes():
    G = build()
    h = stage_histories(G, as_of=AS_OF)
    assert {r: h[r]["stage"] for r in h} == {"x": 1, "y": 3, "z": 1, "q": 1, "new": 0}
    net = network_elements(G, h, max_nodes=4)
    assert net["mode"] == "aggregate" and net["referrers"] == 5
    groups = {n["id"]: n for n in net["nodes"] if n["kind"] == "group"}
    assert {g: (n["referrer_kind"], n["stage"], n["count"], n["referrals"]) for g, n in groups.items()} == {
        "group:clergy:0": ("clergy", 0, 1, 0),
        "group:physician:1": ("physician", 1, 3, 4),
        "group:school_counselor:3": ("school_counselor", 3, 1, 2),
    }
    assert (groups["group:physician:1"]["first_referral"], groups["group:physician:1"]["last_referral"]) == (
        d(2024, 2, 1), d(2024, 5, 2))
    assert [n["id"] for n in net["nodes"] if n["kind"] != "group"] == ["ana", "ben", "cai", "dee"]
    assert {e["id"]: (e["referrals"], e["introductions"], e["weight"]) for e in net["edges"]} == {
        "group:physician:1->ana": (2, 0, 2),   # x1 assigned to ana, x2 addressed to her
        "group:physician:1->ben": (1, 1, 2),   # x2 passed to ben, and ben introduced to x
        "group:physician:1->cai": (2, 0, 2),   # z1 and q1
        "group:school_counselor:3->ana": (1, 0, 1),
        "group:school_counselor:3->cai": (1, 0, 1),
        "group:school_counselor:3->dee": (1, 0, 1),
    }
    assert all(math.isfinite(n["x"]) and math.isfinite(n["y"]) for n in net["nodes"])
    # Groups are sized among groups by their count: physician stage 1 (3 referrers) is the largest.
    assert groups["group:physician:1"]["size"] == 10.0
    assert groups["group:clergy:0"]["size"] == round(1 + 9 * math.sqrt(1 / 3), 2)
    assert net == network_elements(G, h, max_nodes=4)


def test_elements_full_mode_at_exactly_max_nodes():
    G = build()
    assert network_elements(G, stage_histories(G, as_of=AS_OF), max_nodes=5)["mode"] == "full"


def test_elements_draw_only_the_referrers_of_the_histories():
    G = build()
    h = stage_histories(G, ["x", "y"], as_of=AS_OF)
    net = network_elements(G, h)
    assert [n["id"] for n in net["nodes"] if n["kind"] == "referrer"] == ["x", "y"]
    assert {e["source"] for e in net["edges"]} == {"x", "y"}
