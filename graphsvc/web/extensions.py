"""What every request shares: the graph and the live analysis.

``create_app`` calls ``init_app``, which keeps them in ``app.extensions``
(``"graph"`` and ``"insights"``, a ``graphsvc.live.InsightsCache``); views
reach them through ``graph()`` and ``insights()``.
"""

from __future__ import annotations

from flask import Flask, current_app, g

from ..insights import AnalysisOptions, Insights
from ..live import InsightsCache
from ..store.db import Graph


def init_app(app: Flask, graph: Graph, options: AnalysisOptions, *, poll_seconds: int = 0,
             snapshot_dir=None) -> None:
    """Keep the graph and a live analysis on ``app``.

    With ``poll_seconds`` a background thread reads the change feed that
    often, started by the first request (so in each worker, after any
    fork); without it each request reads it (at most every 2 s).
    """
    cache = InsightsCache(graph, options, snapshot_dir=snapshot_dir)
    app.extensions["graph"] = graph
    app.extensions["insights"] = cache

    @app.before_request
    def start_polling():
        if poll_seconds and not cache.polling:
            cache.start(poll_seconds)

    @app.teardown_request
    def release_analysis(_error=None):
        if g.pop("analysis_held", False):
            cache.release()


def graph() -> Graph:
    """The graph of the current app."""
    return current_app.extensions["graph"]


def insights(refresh: bool = False) -> Insights:
    """The current analysis, held still for the rest of the request.

    The first call in a request takes a read lock on it (released when the
    request ends): the live analysis is updated in place between requests,
    never under one. ``refresh`` starts a full rebuild in the background (at
    most every 30 s); this request is answered from the analysis there is.
    Kept as ``g.analysis`` too: a page answered from it says, in its layout,
    when it is the last analysis served while Neo4j is unreachable
    (``graphsvc.web.stale_notice``).
    """
    if g.get("analysis_held"):
        return g.analysis
    g.analysis = current_app.extensions["insights"].acquire(refresh=refresh)
    g.analysis_held = True
    return g.analysis
