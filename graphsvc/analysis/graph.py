"""The referral graph as NetworkX sees it: one ``MultiDiGraph`` and its builders.

``graphsvc.store.projection`` fills it from Neo4j with these builders, and
tests and examples build small graphs by hand with the same ones, so there is
one schema for nodes and edges. Nothing here touches the database.

Nodes, keyed by id, each with a ``kind``:

* ``"practice"`` (the node ``PRACTICE``), ``"clinician"``, ``"staff"``
  (``name``, ``specialties``, ``populations``, ``insurances``, ``schedule``,
  ``accepting_new``, ``role``, and ``npi`` only when it has one), ``"provider"`` (``name``, ``niches``);
* ``"referrer"``: ``name``, ``referrer_kind``, ``organization``, ``npi`` (only when it has one), ``since`` and
  ``tenures``, the point-person history as ``[(since, until, clinician), ...]``
  oldest first (``until`` is None for the current one); and ``tasks``,
  the work done on its worklist rows, by row id (``add_task``).

Edges all leave a referrer, keyed by the event's id, with ``type`` and ``date``:

* ``"referral"`` to the assigned clinician: ``addressed_to`` (a member id or
  ``"practice"``), ``pass_reason``, the client's ``needs``,
  ``population``, ``insurance``, ``schedule``, ``consent`` (to an update)
  and ``statuses`` (``{status: date}`` after being received);
* ``"introduction"`` to the introduced member: ``by``;
* ``"contact"`` to the member: ``contact_kind``, ``covers`` (an update's referrals);
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
               accepting_new: bool = True, role: str | None = None, npi: str | None = None) -> None:
    G.add_node(member_id, kind=kind, name=name or member_id, specialties=frozenset(specialties or ()),
               populations=frozenset(populations or ()), insurances=frozenset(insurances or ()),
               schedule=frozenset(schedule or ()), accepting_new=bool(accepting_new), role=role)
    if npi:  # only when it has one (most have none): ``node.get("npi")``
        G.nodes[member_id]["npi"] = npi


def add_referrer(G, referrer_id: str, *, point_person: str | None = None, since: date | None = None,
                 tenures=None, name: str | None = None, referrer_kind: str = "other",
                 organization: str = "", npi: str | None = None) -> None:
    """A referrer; give ``point_person`` and ``since`` or the full ``tenures`` list (``npi``: its NPI, if any)."""
    if tenures is None:
        tenures = [(since, None, point_person)] if point_person else []
    tenures = sorted(tenures, key=lambda t: t[0])
    G.add_node(referrer_id, kind="referrer", name=name or referrer_id, referrer_kind=referrer_kind,
               organization=organization, since=since or (tenures[0][0] if tenures else None),
               tenures=[tuple(t) for t in tenures])
    if npi:  # only when it has one (most have none): ``node.get("npi")``
        G.nodes[referrer_id]["npi"] = npi


def add_referral(G, referrer: str, referral_id: str, day: date, addressed_to: str,
                 assigned_to: str | None = None, *, pass_reason: str | None = None, needs=(),
                 population: str | None = None, insurance: str | None = None,
                 schedule: str | None = None, consent: str = "unknown", statuses: dict | None = None) -> None:
    """A referral; ``statuses``: where it went after being received, ``{status: date}``
    (``rules.status_problem``), and ``consent`` whether its client agreed that the referrer be told."""
    assigned_to = assigned_to or addressed_to
    G.add_edge(referrer, assigned_to, key=referral_id, type="referral", date=day,
               addressed_to=addressed_to, pass_reason=pass_reason, needs=tuple(needs or ()),
               population=population, insurance=insurance, schedule=schedule, consent=consent,
               statuses=dict(statuses or {}))


def add_introduction(G, referrer: str, intro_id: str, day: date, member: str, by: str) -> None:
    G.add_edge(referrer, member, key=intro_id, type="introduction", date=day, by=by)


def add_contact(G, referrer: str, contact_id: str, day: date, member: str, kind: str = "lunch",
                covers=()) -> None:
    """A contact; an ``update_sent`` one ``covers`` the referrals whose status it told the referrer."""
    G.add_edge(referrer, member, key=contact_id, type="contact", date=day, contact_kind=kind,
               covers=tuple(covers or ()))


def add_task(G, referrer: str, task_id: str, *, worklist: str, referral: str | None = None,
             status: str = "open", assigned_to: str | None = None, snoozed_until: date | None = None,
             note: str = "", done_on: date | None = None) -> None:
    """The work done on one of the referrer's worklist rows (``graphsvc.records.Task``), by the row's id.

    Kept on the referrer's node (``tasks``), so that a change of the referrer,
    its tasks included, replaces it whole in a live analysis.
    """
    G.nodes[referrer].setdefault("tasks", {})[task_id] = {
        "id": task_id, "worklist": worklist, "referral_id": referral, "status": status,
        "assigned_to": assigned_to, "snoozed_until": snoozed_until, "note": note, "done_on": done_on}


def add_provider(G, provider_id: str, *, name: str | None = None, niches=()) -> None:
    G.add_node(provider_id, kind="provider", name=name or provider_id, niches=frozenset(niches or ()))


def add_referral_out(G, referrer: str, out_id: str, day: date, provider: str, niche: str) -> None:
    G.add_edge(referrer, provider, key=out_id, type="referral_out", date=day, niche=niche)


def as_of(G, day: date) -> nx.MultiDiGraph:
    """The practice as it stood at the end of ``day``: a new graph, ``G`` untouched.

    * Events (referrals, introductions, contacts, referrals out) dated after
      ``day`` are left out; those dated on ``day`` count.
    * A referrer whose relationship had not started by ``day`` (``since``
      after it and no event on or before it) is left out; the ids left out
      are kept in ``graph["not_started"]`` (id -> ``since``).
    * Point-person tenures are trimmed to ``day``: a tenure beginning after it
      (a handoff that has not happened yet) is dropped, and the tenure
      current on ``day`` is open again (``until`` None). A referrer with an
      event before its first tenure keeps that first point person.

    Members and providers are kept as they are (the graph has no dates for
    them). ``graph["as_of"]`` is ``day``.

    Parameters
    ----------
    G : networkx.MultiDiGraph
        A referral graph (this module's schema).
    day : date
        The last day whose events count.

    Returns
    -------
    networkx.MultiDiGraph
        A copy: node and edge attribute dicts are new, so changing it never
        changes ``G``.

    Examples
    --------
    >>> from datetime import date
    >>> from graphsvc.analysis import graph as p
    >>> G = p.new_graph()
    >>> p.add_member(G, "ana"); p.add_member(G, "ben")
    >>> p.add_referrer(G, "drx", tenures=[(date(2024, 1, 1), date(2024, 6, 1), "ana"),
    ...                                   (date(2024, 6, 1), None, "ben")])
    >>> p.add_referral(G, "drx", "r1", date(2024, 2, 1), "ana")
    >>> p.add_referral(G, "drx", "r2", date(2024, 7, 1), "ben")
    >>> p.add_referrer(G, "dry", point_person="ben", since=date(2024, 5, 1))
    >>> H = p.as_of(G, date(2024, 3, 31))
    >>> sorted(k for _, _, k in H.edges(keys=True)), H.nodes["drx"]["tenures"]
    (['r1'], [(datetime.date(2024, 1, 1), None, 'ana')])
    >>> "dry" in H, H.graph["not_started"]
    (False, {'dry': datetime.date(2024, 5, 1)})
    >>> G.number_of_edges(), G.nodes["drx"]["tenures"][0][1]   # G itself is unchanged
    (2, datetime.date(2024, 6, 1))
    """
    H = nx.MultiDiGraph()
    H.graph.update(G.graph)
    H.graph["as_of"] = day
    not_started = {}
    for node, data in G.nodes(data=True):
        if data.get("kind") != "referrer":
            H.add_node(node, **data)
            continue
        since = data["since"]
        started = since is None or since <= day or any(e["date"] <= day for _, _, e in G.out_edges(node, data=True))
        if not started:
            not_started[node] = since
            continue
        H.add_node(node, **{**data, "tenures": _tenures_as_of(data["tenures"], day)})
    H.graph["not_started"] = not_started
    H.add_edges_from((u, v, k, dict(e)) for u, v, k, e in G.edges(keys=True, data=True)
                     if e["date"] <= day and u in H)
    return H


def _tenures_as_of(tenures, day: date) -> list[tuple]:
    """The tenures begun by ``day`` (at least the first), the last one open."""
    kept = [t for t in tenures if t[0] <= day] or list(tenures[:1])
    if kept and kept[-1][1] is not None and kept[-1][1] > day:
        since, _, clinician = kept[-1]
        kept[-1] = (since, None, clinician)
    return kept
