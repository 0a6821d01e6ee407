"""Read the referral graph from Neo4j once, into NetworkX (``graphsvc.analysis.graph``).

Seven bulk reads: members, providers, referrers with their tenures, then each
kind of event streamed as one row per referrer with its events collected.
Every node and edge is added with the builders of ``graphsvc.analysis.graph``,
so a projected graph has the same schema as a hand-built one.

``project(graph, referrers=[...])`` reads only those referrers and their
events (``project_*_of`` statements, by id through the unique index), plus all
members and providers (a few hundred at most): what ``graphsvc stage`` needs
to analyse one referrer without reading the whole graph. Per-referrer
analysis (stages, metrics) gives the same answer on it as on the whole graph.
"""

from __future__ import annotations

from datetime import date
from typing import Iterable

import networkx as nx

from ..analysis.graph import (add_contact, add_introduction, add_member, add_provider, add_referral,
                              add_referral_out, add_referrer, new_graph)
from ..errors import GraphsvcError
from .catalog import query
from .db import Graph


# -- from Neo4j ------------------------------------------------------------------


def project(graph: Graph, referrers: Iterable[str] | None = None) -> nx.MultiDiGraph:
    """Read the referral graph from Neo4j (seven queries, one read each).

    With ``referrers`` (ids), only those referrers and their events; unknown
    ids are left out.
    """
    ids = None if referrers is None else sorted(set(referrers))
    G = new_graph()
    for m in graph.read("project_members"):
        add_member(G, m["id"], kind=m["kind"], name=m["name"], specialties=m["specialties"],
                   populations=m["populations"], insurances=m["insurances"], schedule=m["schedule"],
                   accepting_new=m["accepting_new"] if m["accepting_new"] is not None else True,
                   role=m["role"])
    for p in graph.read("project_providers"):
        add_provider(G, p["id"], name=p["name"], niches=p["niches"])
    clashes = []
    rows = graph.read("project_referrers") if ids is None else graph.read("project_referrers_of", ids=ids)
    for r in rows:
        if r["id"] in G:
            clashes.append(r["id"])
            continue
        add_referrer(G, r["id"], name=r["name"], referrer_kind=r["kind"], organization=r["organization"] or "",
                     since=_day(r["since"]),
                     tenures=[(_day(s), _day(u), c) for s, u, c in r["tenures"]])
    if clashes:
        raise GraphsvcError("Referrer ids that are also member or provider ids cannot be analysed: "
                            + ", ".join(sorted(clashes)[:20]))
    day = date.fromisoformat

    # Each event goes through the same builder the tests and examples use, so
    # a projected graph and a hand-built one have one edge schema.
    def referrals(referrer, events):
        for key, on, addressed, assigned, reason, needs, population, insurance, schedule in events:
            add_referral(G, referrer, key, day(on), addressed, assigned, pass_reason=reason, needs=needs,
                         population=population, insurance=insurance, schedule=schedule)

    def introductions(referrer, events):
        for key, on, member, by in events:
            add_introduction(G, referrer, key, day(on), member, by)

    def contacts(referrer, events):
        for key, on, member, kind in events:
            add_contact(G, referrer, key, day(on), member, kind)

    def referrals_out(referrer, events):
        for key, on, provider, niche in events:
            add_referral_out(G, referrer, key, day(on), provider, niche)

    if ids is None:
        _stream(graph, query("project_referrals"), referrals)
        _stream(graph, query("project_introductions"), introductions)
        _stream(graph, query("project_contacts"), contacts)
        _stream(graph, query("project_referrals_out"), referrals_out)
    else:
        _stream(graph, query("project_referrals_of"), referrals, ids=ids)
        _stream(graph, query("project_introductions_of"), introductions, ids=ids)
        _stream(graph, query("project_contacts_of"), contacts, ids=ids)
        _stream(graph, query("project_referrals_out_of"), referrals_out, ids=ids)
    return G


def _stream(graph: Graph, text: str, add, **params) -> None:
    """Feed each ``(referrer, events)`` row of a bulk read to ``add`` as it arrives.

    Adding a keyed edge twice leaves one edge, so a retried transaction
    builds the same graph.
    """

    def work(tx) -> None:
        for referrer, events in tx.run(text, params):
            add(referrer, events)

    graph.read_tx(work, fetch_size=10_000)


def _day(value):
    return value.to_native() if value is not None and hasattr(value, "to_native") else value
