"""The referral graph as one NetworkX ``MultiDiGraph``, read from Neo4j once.

The analysis (``graphsvc.analysis``) never touches the database: it takes the
graph this module builds. The same builder functions make small graphs by
hand for tests and examples.

Nodes, keyed by id, each with a ``kind``:

* ``"practice"`` (the node ``PRACTICE``), ``"clinician"``, ``"staff"``
  (``name``, ``specialties``, ``populations``, ``insurances``, ``schedule``,
  ``accepting_new``, ``role``), ``"provider"`` (``name``, ``niches``);
* ``"referrer"``: ``name``, ``referrer_kind``, ``organization``, ``since`` and
  ``tenures``, the point-person history as ``[(since, until, clinician), ...]``
  oldest first (``until`` is None for the current one).

Edges all leave a referrer, keyed by the event's id, with ``type`` and ``date``:

* ``"referral"`` to the assigned clinician: ``addressed_to`` (a member id or
  ``"practice"``), ``pass_reason``, and the client's ``needs``,
  ``population``, ``insurance``, ``schedule``;
* ``"introduction"`` to the introduced member: ``by``;
* ``"contact"`` to the member: ``contact_kind``;
* ``"referral_out"`` to the provider: ``niche``.
"""

from __future__ import annotations

from datetime import date

import networkx as nx

from .catalog import query
from .db import Graph
from .errors import GraphsvcError
from .vocabulary import PRACTICE

# -- builders (no database) ------------------------------------------------------


def new_graph() -> nx.MultiDiGraph:
    G = nx.MultiDiGraph()
    G.add_node(PRACTICE, kind="practice", name="The practice")
    return G


def add_member(G, member_id: str, *, kind: str = "clinician", name: str | None = None,
               specialties=(), populations=(), insurances=(), schedule=(),
               accepting_new: bool = True, role: str | None = None) -> None:
    G.add_node(member_id, kind=kind, name=name or member_id, specialties=frozenset(specialties or ()),
               populations=frozenset(populations or ()), insurances=frozenset(insurances or ()),
               schedule=frozenset(schedule or ()), accepting_new=bool(accepting_new), role=role)


def add_referrer(G, referrer_id: str, *, point_person: str | None = None, since: date | None = None,
                 tenures=None, name: str | None = None, referrer_kind: str = "other",
                 organization: str = "") -> None:
    """A referrer; give ``point_person`` and ``since`` or the full ``tenures`` list."""
    if tenures is None:
        tenures = [(since, None, point_person)] if point_person else []
    tenures = sorted(tenures, key=lambda t: t[0])
    G.add_node(referrer_id, kind="referrer", name=name or referrer_id, referrer_kind=referrer_kind,
               organization=organization, since=since or (tenures[0][0] if tenures else None),
               tenures=[tuple(t) for t in tenures])


def add_referral(G, referrer: str, referral_id: str, day: date, addressed_to: str,
                 assigned_to: str | None = None, *, pass_reason: str | None = None, needs=(),
                 population: str | None = None, insurance: str | None = None,
                 schedule: str | None = None) -> None:
    assigned_to = assigned_to or addressed_to
    G.add_edge(referrer, assigned_to, key=referral_id, type="referral", date=day,
               addressed_to=addressed_to, pass_reason=pass_reason, needs=tuple(needs or ()),
               population=population, insurance=insurance, schedule=schedule)


def add_introduction(G, referrer: str, intro_id: str, day: date, member: str, by: str) -> None:
    G.add_edge(referrer, member, key=intro_id, type="introduction", date=day, by=by)


def add_contact(G, referrer: str, contact_id: str, day: date, member: str, kind: str = "lunch") -> None:
    G.add_edge(referrer, member, key=contact_id, type="contact", date=day, contact_kind=kind)


def add_provider(G, provider_id: str, *, name: str | None = None, niches=()) -> None:
    G.add_node(provider_id, kind="provider", name=name or provider_id, niches=frozenset(niches or ()))


def add_referral_out(G, referrer: str, out_id: str, day: date, provider: str, niche: str) -> None:
    G.add_edge(referrer, provider, key=out_id, type="referral_out", date=day, niche=niche)


# -- from Neo4j ------------------------------------------------------------------


def project(graph: Graph) -> nx.MultiDiGraph:
    """Read the whole referral graph from Neo4j (seven queries, one read each)."""
    G = new_graph()
    for m in graph.read("project_members"):
        add_member(G, m["id"], kind=m["kind"], name=m["name"], specialties=m["specialties"],
                   populations=m["populations"], insurances=m["insurances"], schedule=m["schedule"],
                   accepting_new=m["accepting_new"] if m["accepting_new"] is not None else True,
                   role=m["role"])
    for p in graph.read("project_providers"):
        add_provider(G, p["id"], name=p["name"], niches=p["niches"])
    clashes = []
    for r in graph.read("project_referrers"):
        if r["id"] in G:
            clashes.append(r["id"])
            continue
        add_referrer(G, r["id"], name=r["name"], referrer_kind=r["kind"], organization=r["organization"] or "",
                     since=_day(r["since"]),
                     tenures=[(_day(s), _day(u), c) for s, u, c in r["tenures"]])
    if clashes:
        raise GraphsvcError("Referrer ids that are also member or provider ids cannot be analysed: "
                            + ", ".join(sorted(clashes)[:20]))
    add_edge, day = G.add_edge, date.fromisoformat

    def referrals(referrer, events):
        for key, on, addressed, assigned, reason, needs, population, insurance, schedule in events:
            add_edge(referrer, assigned, key=key, type="referral", date=day(on), addressed_to=addressed,
                     pass_reason=reason, needs=tuple(needs or ()), population=population,
                     insurance=insurance, schedule=schedule)

    def introductions(referrer, events):
        for key, on, member, by in events:
            add_edge(referrer, member, key=key, type="introduction", date=day(on), by=by)

    def contacts(referrer, events):
        for key, on, member, kind in events:
            add_edge(referrer, member, key=key, type="contact", date=day(on), contact_kind=kind)

    def referrals_out(referrer, events):
        for key, on, provider, niche in events:
            add_edge(referrer, provider, key=key, type="referral_out", date=day(on), niche=niche)

    _stream(graph, "project_referrals", referrals)
    _stream(graph, "project_introductions", introductions)
    _stream(graph, "project_contacts", contacts)
    _stream(graph, "project_referrals_out", referrals_out)
    return G


def _stream(graph: Graph, name: str, add) -> None:
    """Feed each ``(referrer, events)`` row of a bulk read to ``add`` as it arrives.

    Adding a keyed edge twice leaves one edge, so a retried transaction
    builds the same graph.
    """
    text = query(name)

    def work(tx) -> None:
        for referrer, events in tx.run(text):
            add(referrer, events)

    graph.read_tx(work, fetch_size=10_000)


def _day(value):
    return value.to_native() if value is not None and hasattr(value, "to_native") else value
