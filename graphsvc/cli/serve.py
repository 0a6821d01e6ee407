"""``graphsvc serve``: the web view."""

from __future__ import annotations

import click
from werkzeug.serving import WSGIRequestHandler

from .root import main


class RequestHandler(WSGIRequestHandler):
    """Werkzeug's handler without its ``Server: Werkzeug/x Python/y`` banner.

    The app sets ``Server: graphsvc`` on every response it makes; what the
    handler answers by itself (a malformed request line) carries no Server
    header, and nothing names the software or its version.
    """

    def version_string(self) -> str:
        from ..web import SERVER

        return SERVER

    def send_response(self, code, message=None):
        # http.server's own adds "Server: <version_string()>" beside the app's; only the app's is sent.
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())


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
    if not app.extensions["accounts"].users():
        click.echo("No accounts yet, so nobody can sign in: add the first manager with "
                   "`graphsvc user add NAME --role manager`.", err=True)
    app.run(host=host, port=port, debug=debug, use_reloader=debug, request_handler=RequestHandler)
