"""What every request shares: the graph and the cached analysis.

``create_app`` calls ``init_app``, which keeps them in ``app.extensions``
(``"graph"`` and ``"insights"``, an ``InsightsCache``); views reach them
through ``graph()`` and ``insights()``.
"""

from __future__ import annotations

from flask import Flask, current_app, g

from ..insights import AnalysisOptions, Insights, InsightsCache
from ..store.db import Graph


def init_app(app: Flask, graph: Graph, options: AnalysisOptions) -> None:
    app.extensions["graph"] = graph
    app.extensions["insights"] = InsightsCache(graph, options)


def graph() -> Graph:
    """The graph of the current app."""
    return current_app.extensions["graph"]


def insights(refresh: bool = False) -> Insights:
    """The current analysis (rebuilt only when the graph changed, or on ``refresh``).

    Kept as ``g.analysis`` too: a page answered from it says, in its layout,
    when it is the last analysis served while Neo4j is unreachable
    (``graphsvc.web.stale_notice``).
    """
    g.analysis = current_app.extensions["insights"].get(refresh=refresh)
    return g.analysis
