"""``graphsvc serve``: the web view."""

from __future__ import annotations

import click

from . import main


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--debug", is_flag=True, help="Flask debug mode (auto-reload).")
@click.pass_obj
def serve(settings, host, port, debug):
    """Serve the web view (Flask's server; use gunicorn in production)."""
    from ..web import create_app

    app = create_app(settings=settings)
    click.echo(f"Serving graphsvc on http://{host}:{port}/ (Neo4j at {settings.uri})", err=True)
    app.run(host=host, port=port, debug=debug, use_reloader=debug)
