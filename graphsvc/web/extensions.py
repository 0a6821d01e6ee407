"""What every request shares: the graph, the live analysis and the service that writes.

``create_app`` calls ``init_app``, which keeps them in ``app.extensions``
(``"graph"``, ``"insights"``, a ``graphsvc.live.InsightsCache``, and
``"service"``, the ``graphsvc.service.Service`` every form and API write goes
through); views reach them through ``graph()``, ``insights()`` and
``service()``, and name who writes with ``actor()``.
"""

from __future__ import annotations

from flask import Flask, current_app, g, request
from flask_login import current_user

from ..accounts import Accounts
from ..config import AnalysisOptions
from ..insights import Insights
from ..live import InsightsCache
from ..service import Actor, Service
from ..store.db import Graph


def init_app(app: Flask, graph: Graph, options: AnalysisOptions, accounts: Accounts, *, poll_seconds: int = 0,
             snapshot_dir=None) -> None:
    """Keep the graph, a live analysis and the write service on ``app``.

    With ``poll_seconds`` a background thread reads the change feed that
    often, started by the first request (so in each worker, after any
    fork); without it each request reads it (at most every 2 s).
    """
    cache = InsightsCache(graph, options, snapshot_dir=snapshot_dir)
    app.extensions["graph"] = graph
    app.extensions["insights"] = cache
    app.extensions["service"] = Service(graph, options, audit=accounts, live=cache)

    @app.before_request
    def start_polling():
        if poll_seconds and not cache.polling:
            cache.start(poll_seconds)

    @app.teardown_request
    def release_analysis(error=None):
        if g.pop("analysis_held", False):
            cache.release(error)


def graph() -> Graph:
    """The graph of the current app."""
    return current_app.extensions["graph"]


def service() -> Service:
    """The service every write of the current app goes through."""
    return current_app.extensions["service"]


def actor() -> Actor:
    """Who is writing: the signed-in user (its role and clinician), from the request's address."""
    return Actor(current_user.username, current_user.role, current_user.clinician_id, request.remote_addr)


def insights(refresh: bool = False) -> Insights:
    """The current analysis, held still for the rest of the request.

    The first call in a request takes a read lock on it (released when the
    request ends): the live analysis is updated in place between requests,
    never under one. ``refresh`` starts a full rebuild in the background (at
    most every 30 s); this request is answered from the analysis there is.
    Kept as ``g.analysis`` too: a page answered from it says, in its layout,
    when it is the last analysis served while Neo4j is unreachable
    (``graphsvc.web.stale_notice``).

    A POST that writes must not hold it before its write: the service's update
    after the write takes the analysis' write lock, which would wait for this
    very request (``reading`` holds it just for a look-up).
    """
    if g.get("analysis_held"):
        return g.analysis
    g.analysis = current_app.extensions["insights"].acquire(refresh=refresh)
    g.analysis_held = True
    return g.analysis


def reading():
    """The analysis for a look-up only (``with extensions.reading() as insights``), released at the end of the
    ``with``: what a POST uses before its write (see ``insights``)."""
    return current_app.extensions["insights"].reading()
