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

``project`` reads through a ``Graph`` (each statement its own managed read)
or through an open transaction (``tx``, e.g. a write transaction of
``graphsvc.store.writes``, whose own uncommitted writes it then sees): the
same statements and the same builders either way.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Callable, Iterable

import networkx as nx

from ..analysis.graph import (add_contact, add_introduction, add_member, add_provider, add_referral,
                              add_referral_out, add_referrer, new_graph)
from ..errors import GraphsvcError
from .catalog import query
from .db import Graph


# -- from Neo4j ------------------------------------------------------------------


def project(graph: Graph | Any, referrers: Iterable[str] | None = None) -> nx.MultiDiGraph:
    """Read the referral graph from Neo4j (seven queries, one read each).

    ``graph`` is a ``Graph``, or an open transaction to read in (anything
    with ``run(text, params)``). With ``referrers`` (ids), only those
    referrers and their events; unknown ids are left out.
    """
    ids = None if referrers is None else sorted(set(referrers))
    read, stream = _readers(graph)
    G = new_graph()
    for m in read("project_members"):
        add_member(G, m["id"], kind=m["kind"], name=m["name"], specialties=m["specialties"],
                   populations=m["populations"], insurances=m["insurances"], schedule=m["schedule"],
                   accepting_new=m["accepting_new"] if m["accepting_new"] is not None else True,
                   role=m["role"])
    for p in read("project_providers"):
        add_provider(G, p["id"], name=p["name"], niches=p["niches"])
    clashes = []
    rows = read("project_referrers") if ids is None else read("project_referrers_of", ids=ids)
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
        stream(query("project_referrals"), referrals)
        stream(query("project_introductions"), introductions)
        stream(query("project_contacts"), contacts)
        stream(query("project_referrals_out"), referrals_out)
    else:
        stream(query("project_referrals_of"), referrals, ids=ids)
        stream(query("project_introductions_of"), introductions, ids=ids)
        stream(query("project_contacts_of"), contacts, ids=ids)
        stream(query("project_referrals_out_of"), referrals_out, ids=ids)
    return G


def _readers(source: Graph | Any) -> tuple[Callable, Callable]:
    """``read(name, **params)`` (rows as dicts) and ``stream(text, add, **params)`` over ``source``.

    ``stream`` feeds each ``(referrer, events)`` row of a bulk read to ``add``
    as it arrives. Through a ``Graph`` each call is its own managed read;
    adding a keyed edge twice leaves one edge, so a retried read builds the
    same graph. Through a transaction, the caller's transaction is the unit
    that is retried (and rebuilds the graph from scratch).
    """
    if isinstance(source, Graph):
        def stream(text: str, add, **params) -> None:
            def work(tx) -> None:
                for referrer, events in tx.run(text, params):
                    add(referrer, events)

            source.read_tx(work, fetch_size=10_000)

        return source.read, stream

    def read(name: str, **params) -> list[dict]:
        return source.run(query(name), params).data()

    def stream(text: str, add, **params) -> None:
        for referrer, events in source.run(text, params):
            add(referrer, events)

    return read, stream


def _day(value):
    return value.to_native() if value is not None and hasattr(value, "to_native") else value
