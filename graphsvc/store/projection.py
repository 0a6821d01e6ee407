"""Read the referral graph from Neo4j once, into NetworkX (``graphsvc.analysis.graph``).

Members and providers, then referrers with their tenures (one row each,
streamed), then their events: ``project_events_of`` gives one row per
referrer with each kind of event collected, for a chunk of the referrers just
read. Through a ``Graph`` those chunks are read ``_WORKERS`` at a time while
the referrers are still arriving, so Neo4j works on several cores while
Python builds the graph. Every node and edge is added with the builders of
``graphsvc.analysis.graph``, so a projected graph has the same schema as a
hand-built one, and in the same order as one read after another would
(referrers in the order read; each referrer's referrals, introductions,
contacts, then referrals out).

``project(graph, referrers=[...])`` reads only those referrers and their
events (by id through the unique index), plus all members and providers (a
few hundred at most): what ``graphsvc stage`` needs to analyse one referrer
without reading the whole graph. Per-referrer analysis (stages, metrics)
gives the same answer on it as on the whole graph.

``project`` reads through a ``Graph`` (each statement its own managed read)
or through an open transaction (``tx``, e.g. a write transaction of
``graphsvc.store.writes``, whose own uncommitted writes it then sees): the
same statements and the same builders either way.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from datetime import date
from typing import Any

import networkx as nx

from ..analysis.graph import (
    add_contact,
    add_introduction,
    add_member,
    add_provider,
    add_referral,
    add_referral_out,
    add_referrer,
    add_task,
    new_graph,
)
from ..errors import GraphsvcError
from ..vocabulary import RECORDED_STATUSES
from .catalog import query
from .db import Graph
from .weights import stored_weights

_CHUNK = 25_000     # referrers per events read (fewer, larger reads measured faster)
_WORKERS = 2        # events reads at a time (Neo4j runs each on its own core)
_FETCH = 10_000     # records per fetch


# -- from Neo4j ------------------------------------------------------------------


def project(graph: Graph | Any, referrers: Iterable[str] | None = None) -> nx.MultiDiGraph:
    """Read the referral graph from Neo4j.

    ``graph`` is a ``Graph``, or an open transaction to read in (anything
    with ``run(text, params)``). With ``referrers`` (ids), only those
    referrers and their events; unknown ids are left out.
    """
    ids = None if referrers is None else sorted(set(referrers))
    G = new_graph()
    day = _days()
    lock = threading.Lock()      # events chunks are added from the readers' threads
    ready = threading.Event()    # set once every referrer node is in

    def add_events(rows) -> None:
        if not ready.is_set():
            rows = list(rows)  # decode while waiting: a referrer's edges follow its node
            ready.wait()
        for referrer, referrals, introductions, contacts, referrals_out, tasks in rows:
            with lock:
                for (key, on, addressed, assigned, reason, needs, population, insurance, schedule, consent,
                     reached) in referrals:
                    add_referral(G, referrer, key, day(on), addressed, assigned, pass_reason=reason, needs=needs,
                                 population=population, insurance=insurance, schedule=schedule,
                                 consent=consent or "unknown", statuses=_statuses(reached, day))
                for key, on, member, by in introductions:
                    add_introduction(G, referrer, key, day(on), member, by)
                for key, on, member, kind, covers in contacts:
                    add_contact(G, referrer, key, day(on), member, kind, covers=covers)
                for key, on, provider, niche in referrals_out:
                    add_referral_out(G, referrer, key, day(on), provider, niche)
                _add_tasks(G, referrer, tasks, day)

    def read_referrers(rows) -> list[tuple]:
        """The referrers' rows, dates parsed; their events asked for a chunk at a time meanwhile."""
        out, chunk = [], []
        for rid, name, kind, organization, since, tenures, npi in rows:
            out.append((rid, name, kind, organization, day(since) if since is not None else None,
                        [(day(s), day(u) if u is not None else None, c) for s, u, c in tenures], npi))
            chunk.append(rid)
            if len(chunk) == _CHUNK:
                reader.events(chunk)
                chunk = []
        if chunk:
            reader.events(chunk)
        return out

    # Millions of new edge dicts would set off full garbage collections over
    # the whole growing graph, again and again (half the build time).
    # (Only for the whole graph: a few referrers' projection is small, and a
    # full collection in a process holding a live analysis would cost far more.)
    with _gc_paused() if ids is None else nullcontext(), _reader(graph, add_events, ready) as reader:
        clashes = _members_and_providers(G, reader)
        if ids is None:
            # The suggestion weights tuned on this practice, if any (analysis.tuning.in_force): a
            # change of them is a bulk change, so only a whole-graph projection needs to read them.
            G.graph["stored_weights"] = stored_weights(graph)
            rows = reader.stream("project_referrers", read_referrers)
        else:
            rows = reader.stream("project_referrers_of", read_referrers, ids=ids)
        clashes += [(row[0], G.nodes[row[0]]["kind"], "referrer") for row in rows if row[0] in G]
        if clashes:
            raise GraphsvcError(_clash_message(clashes))
        # Oldest first point person first (no tenure last), as before the
        # events were read by chunk; a stable sort keeps Neo4j's order on ties.
        rows.sort(key=lambda row: (not row[5], row[5][0][0] if row[5] else None))
        with lock:
            for rid, name, kind, organization, since, tenures, npi in rows:
                add_referrer(G, rid, name=name, referrer_kind=kind, organization=organization or "",
                             since=since, tenures=tenures, npi=npi)
        ready.set()
        reader.flush()
    return G


def _statuses(reached: list, day) -> dict:
    """A referral's recorded statuses (``project_events_of``'s list, in ``RECORDED_STATUSES``'s order)."""
    return {status: day(on) for status, on in zip(RECORDED_STATUSES, reached, strict=True) if on is not None}


def _add_tasks(G, referrer: str, tasks: list, day) -> None:
    for key, worklist, referral, status, assigned, snoozed, note, done in tasks:
        add_task(G, referrer, key, worklist=worklist, referral=referral, status=status, assigned_to=assigned,
                 snoozed_until=day(snoozed) if snoozed else None, note=note or "",
                 done_on=day(done) if done else None)


def _clash_message(clashes: list[tuple[str, str, str]]) -> str:
    """Parties of two kinds with one id (stored before graphsvc refused them): the analysis keys every
    party by its id, so it cannot tell them apart."""
    kinds = {"clinician": "clinician", "staff": "staff member", "provider": "outside provider"}
    listed = ", ".join(f"{i!r} ({kinds.get(a, a)} and {b})" for i, a, b in sorted(clashes)[:20])
    return (f"The graph cannot be analysed: {len(clashes)} id(s) name two kinds of party: {listed}. "
            "Give one of each pair an id of its own (in Cypher, then run `graphsvc db init`).")


def _members_and_providers(G, reader) -> list[tuple[str, str, str]]:
    """Every member and outside provider into ``G``; the providers whose id a member holds, left out."""
    for m in reader.read("project_members"):
        add_member(G, m["id"], kind=m["kind"], name=m["name"], specialties=m["specialties"],
                   populations=m["populations"], insurances=m["insurances"], schedule=m["schedule"],
                   accepting_new=m["accepting_new"] if m["accepting_new"] is not None else True,
                   role=m["role"], npi=m["npi"])
    clashes = []
    for p in reader.read("project_providers"):
        if p["id"] in G:
            clashes.append((p["id"], G.nodes[p["id"]]["kind"], "outside provider"))
            continue
        add_provider(G, p["id"], name=p["name"], niches=p["niches"])
    return clashes


@contextmanager
def _reader(source: Graph | Any, add_events, ready: threading.Event):
    reader = _GraphReader(source, add_events) if isinstance(source, Graph) else _TxReader(source, add_events)
    try:
        yield reader
    except BaseException:
        ready.set()  # let waiting chunks go (into a graph nobody gets), or closing would wait for ever
        reader.close(cancel=True)
        raise
    reader.close()


class _GraphReader:
    """Each statement its own managed read; the events chunks on ``_WORKERS`` threads.

    Adding a node or a keyed edge twice leaves one, so a retried read (or an
    events chunk read again by a retried referrers read) builds the same graph.
    """

    def __init__(self, graph: Graph, add_events):
        self.graph = graph
        self.add_events = add_events
        self.pool = ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="project")
        self.pending = []

    def read(self, name: str, **params) -> list[dict]:
        return self.graph.read(name, **params)

    def stream(self, name: str, add, **params):
        """``add(records)`` over the statement's records as they arrive; returns what ``add`` returns."""
        text = query(name)
        return self.graph.read_tx(lambda tx: add(tx.run(text, params)), fetch_size=_FETCH)

    def events(self, ids: list[str]) -> None:
        self.pending.append(self.pool.submit(self.stream, "project_events_of", self.add_events, ids=ids))

    def flush(self) -> None:
        pass  # the chunks are on their way already

    def close(self, cancel: bool = False) -> None:
        self.pool.shutdown(wait=True, cancel_futures=cancel)
        if not cancel:
            for future in self.pending:
                future.result()  # re-raises a failed read's error


class _TxReader:
    """Every statement in the caller's transaction, one after another (it is the unit retried)."""

    def __init__(self, tx, add_events):
        self.tx = tx
        self.add_events = add_events
        self.chunks = []

    def read(self, name: str, **params) -> list[dict]:
        return self.tx.run(query(name), params).data()

    def stream(self, name: str, add, **params):
        return add(self.tx.run(query(name), params))

    def events(self, ids: list[str]) -> None:
        self.chunks.append(ids)  # read by flush, once the referrer nodes are in

    def flush(self) -> None:
        for ids in self.chunks:
            self.stream("project_events_of", self.add_events, ids=ids)

    def close(self, cancel: bool = False) -> None:
        pass


def _days():
    """ISO text -> ``date``, each distinct day parsed once (a few thousand days for millions of events)."""
    seen: dict[str, date] = {}

    def day(text: str) -> date:
        d = seen.get(text)
        if d is None:
            d = seen[text] = date.fromisoformat(text)
        return d

    return day


@contextmanager
def _gc_paused():
    """No garbage collection inside; one full collection after.

    The one collection moves the new graph to the oldest generation at once,
    where it would otherwise be walked again by each younger collection first.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.collect()
            gc.enable()
