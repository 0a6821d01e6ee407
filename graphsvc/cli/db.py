"""``graphsvc db``: the local Neo4j server, and the schema of any Neo4j."""

from __future__ import annotations

import sys

import click

from ..config import Settings
from ..errors import GraphsvcError
from ..localdb.discovery import describe_server, running_local_servers
from .common import FriendlyGroup, emit, json_option, needs_graph
from .root import main


@main.group(cls=FriendlyGroup)
def db():
    """Manage the local Neo4j server, or the schema of any Neo4j."""


def _is_fresh(settings: Settings) -> bool:
    """No database has ever been created in the local server's data folder."""
    return not (settings.data_dir / "data" / "dbms").exists()


def _server(settings: Settings):
    from ..localdb import LocalServer

    return LocalServer(settings)


def _browser_line(settings: Settings, url: str | None) -> str:
    """A second line 'Neo4j Browser: <url> (user neo4j, password in <file>)', or '' if none is served."""
    if url is None:
        return ""
    if settings.neo4j_password:
        where = f"from {settings.source('neo4j_password')}"
    else:
        where = f"in {settings.password_file}"
    return f"\nNeo4j Browser: {url} (user {settings.neo4j_user}, password {where})"


@db.command("install")
@click.pass_obj
def db_install(settings):
    """Fetch Neo4j Community from Maven Central into the cache (once)."""
    if not settings.manages_local_server:
        click.echo(f"NEO4J_URI is set ({settings.neo4j_uri}); nothing to install.")
        return
    server = _server(settings)
    server.install(echo=lambda m: click.echo(m, err=True))
    from ..localdb.server import BROWSER_VERSION

    browser = f" with Neo4j Browser {BROWSER_VERSION}" if server.browser_jar.exists() else ""
    click.echo(f"Neo4j {settings.neo4j_version}{browser} is installed in {server.lib}")


@db.command("start")
@click.option("--timeout", default=180, show_default=True, help="Seconds to wait for Bolt.")
@click.option("--new", "allow_new", is_flag=True,
              help="Create a new, empty database even though another graphsvc Neo4j is running.")
@json_option
@click.pass_obj
def db_start(settings, timeout, allow_new, as_json):
    """Start the local Neo4j on 127.0.0.1 (installing it if needed) and create the schema.

    With the browser setting (GRAPHSVC_BROWSER, on by default) it also serves
    Neo4j Browser at http://127.0.0.1:<http_port>/browser/.

    The first start in a data folder creates a new, empty database. If a
    graphsvc Neo4j with its data elsewhere is already running, that is most
    likely the database meant: this refuses, naming it, unless --new.
    """
    from ..store.db import Graph
    from ..store.schema import init_schema

    server = _server(settings)
    if _is_fresh(settings) and server.pid() is None:
        others = [s for s in running_local_servers() if s["data_dir"] != settings.data_dir]
        if others and not allow_new:
            listed = "\n".join(describe_server(s) for s in others)
            raise GraphsvcError(
                f"There is no database in {settings.data_dir} (data_dir from {settings.source('data_dir')}).\n"
                f"{listed}\n"
                "Starting here would create a second, empty database. To use the running one, run "
                "graphsvc where its settings file is (or set GRAPHSVC_CONFIG to that file), or set data_dir "
                "(GRAPHSVC_DATA_DIR) and bolt_port (GRAPHSVC_BOLT_PORT) to match it. "
                "To create a new, empty database anyway: graphsvc db start --new")
        click.echo(f"No database in {settings.data_dir} yet: creating a new, empty one.", err=True)
    status = server.start(timeout=timeout, echo=lambda m: click.echo(m, err=True))
    graph = Graph.connect(settings)
    try:
        init_schema(graph)
    finally:
        graph.close()
    emit(status.as_dict(), as_json, f"Neo4j is running at {status.uri} (pid {status.pid}); data in {status.data_dir}"
         + _browser_line(settings, status.browser_url))


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
            + _browser_line(settings, status.browser_url)
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

