"""``graphsvc db``: the local Neo4j server, and the schema of any Neo4j."""

from __future__ import annotations

import sys

import click

from ..config import Settings
from . import main
from .common import FriendlyGroup, emit, json_option, needs_graph


@main.group(cls=FriendlyGroup)
def db():
    """Manage the local Neo4j server, or the schema of any Neo4j."""


def _server(settings: Settings):
    from ..localdb import LocalServer

    return LocalServer(settings)


@db.command("install")
@click.pass_obj
def db_install(settings):
    """Fetch Neo4j Community from Maven Central into the cache (once)."""
    if not settings.manages_local_server:
        click.echo(f"NEO4J_URI is set ({settings.neo4j_uri}); nothing to install.")
        return
    server = _server(settings)
    server.install(echo=lambda m: click.echo(m, err=True))
    click.echo(f"Neo4j {settings.neo4j_version} is installed in {server.lib}")


@db.command("start")
@click.option("--timeout", default=180, show_default=True, help="Seconds to wait for Bolt.")
@json_option
@click.pass_obj
def db_start(settings, timeout, as_json):
    """Start the local Neo4j on 127.0.0.1 (installing it if needed) and create the schema."""
    from ..store.db import Graph
    from ..store.schema import init_schema

    status = _server(settings).start(timeout=timeout, echo=lambda m: click.echo(m, err=True))
    graph = Graph.connect(settings)
    try:
        init_schema(graph)
    finally:
        graph.close()
    emit(status.as_dict(), as_json, f"Neo4j is running at {status.uri} (pid {status.pid}); data in {status.data_dir}")


@db.command("stop")
@json_option
@click.pass_obj
def db_stop(settings, as_json):
    """Stop the local Neo4j."""
    stopped = _server(settings).stop()
    emit({"stopped": stopped}, as_json, "Neo4j stopped." if stopped else "Neo4j was not running.")


@db.command("status")
@json_option
@click.pass_obj
def db_status(settings, as_json):
    """Say whether the local Neo4j is running (exit 3 if not)."""
    if not settings.manages_local_server:
        from ..store.db import Graph

        Graph.connect(settings).close()
        emit({"running": True, "uri": settings.uri}, as_json, f"Neo4j answers at {settings.uri}")
        return
    status = _server(settings).status()
    text = (f"running at {status.uri} (pid {status.pid}); data in {status.data_dir}"
            if status.running else f"not running (would listen on {status.uri})")
    emit(status.as_dict(), as_json, text)
    if not status.running:
        sys.exit(3)


@db.command("init")
@needs_graph
def db_init(graph):
    """Create missing constraints and indexes (idempotent)."""
    from ..store.schema import init_schema

    init_schema(graph)
    click.echo(f"Schema is in place in database {graph.database!r} at {graph.settings.uri}")

