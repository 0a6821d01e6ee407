"""The referral graph as NetworkX sees it: one ``MultiDiGraph`` and its builders.

``graphsvc.store.projection`` fills it from Neo4j with these builders, and
tests and examples build small graphs by hand with the same ones, so there is
one schema for nodes and edges. Nothing here touches the database.

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

from ..vocabulary import PRACTICE


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
