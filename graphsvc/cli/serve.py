"""``graphsvc serve``: the web view, served by gunicorn (Flask's development server only with ``--dev``)."""

from __future__ import annotations

import click
from werkzeug.serving import WSGIRequestHandler

from .root import main

DEFAULT_WORKERS = 2
DEFAULT_THREADS = 4
# A worker that answers nothing for this long is restarted. A console query stops at its own timeout, and
# an analysis is built in a thread of its own, so no request should come near it; it is generous because a
# worker's first start at 100,000 referrers reads its snapshot for several seconds.
WORKER_TIMEOUT = 120


class RequestHandler(WSGIRequestHandler):
    """Werkzeug's handler without its ``Server: Werkzeug/x Python/y`` banner (``--dev`` only).

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


def gunicorn_application(settings, *, bind: str, workers: int, threads: int):
    """A gunicorn application that makes the Flask app in each worker, after the fork.

    Not preloaded: each worker calls ``create_app`` itself, so each has its
    own Neo4j driver (the driver manual: created after any fork) and its own
    live analysis following the change feed.
    """
    from gunicorn.app.base import BaseApplication

    class GraphsvcApplication(BaseApplication):
        def load_config(self):
            for key, value in {"bind": [bind], "workers": workers, "threads": threads,
                               "worker_class": "gthread" if threads > 1 else "sync",
                               "timeout": WORKER_TIMEOUT, "graceful_timeout": 30,
                               "proc_name": "graphsvc", "preload_app": False,
                               # gunicorn's control socket sits at one path per user (~/.gunicorn): two
                               # instances on one host would take each other's. graphsvc uses none.
                               "control_socket_disable": True}.items():
                self.cfg.set(key, value)

        def load(self):
            from ..logs import configure_logging
            from ..web import create_app

            configure_logging(settings)
            return create_app(settings=settings)

    return GraphsvcApplication()


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=DEFAULT_WORKERS, show_default=True, type=click.IntRange(1, 64),
              envvar="GRAPHSVC_WEB_WORKERS", help="gunicorn worker processes ($GRAPHSVC_WEB_WORKERS).")
@click.option("--threads", default=DEFAULT_THREADS, show_default=True, type=click.IntRange(1, 64),
              envvar="GRAPHSVC_WEB_THREADS", help="Threads per worker ($GRAPHSVC_WEB_THREADS).")
@click.option("--dev", is_flag=True, help="Flask's development server instead (one process; for development).")
@click.option("--debug", is_flag=True, help="Flask debug mode with auto-reload (implies --dev).")
@click.pass_obj
def serve(settings, host, port, workers, threads, dev, debug):
    """Serve the web view with gunicorn (--dev: Flask's development server).

    With NEO4J_URI set it uses that Neo4j and starts none. Before any worker starts, it makes the
    first manager that web.initial_manager names ($GRAPHSVC_INITIAL_MANAGER, its password read from
    the file $GRAPHSVC_INITIAL_MANAGER_PASSWORD_FILE) when there is no account yet.
    """
    from ..accounts import Accounts, initial_manager

    accounts = Accounts.open(settings)
    # Here, once, before gunicorn forks: the workers never race to make it (and the accounts database
    # makes it at most once anyway).
    made = initial_manager(settings, accounts)
    if made is not None:
        click.echo(f"Added the first manager, {made.username} (web.initial_manager).", err=True)
    elif settings.web_initial_manager and accounts.users():
        click.echo("web.initial_manager (GRAPHSVC_INITIAL_MANAGER) is not used: there are accounts already "
                   "(its password file may be emptied or removed).", err=True)
    if not accounts.users():
        click.echo("No accounts yet, so nobody can sign in: add the first manager with "
                   "`graphsvc user add NAME --role manager` (with Docker: `docker compose exec app graphsvc "
                   "user add NAME --role manager`), or set GRAPHSVC_INITIAL_MANAGER and "
                   "GRAPHSVC_INITIAL_MANAGER_PASSWORD_FILE.", err=True)
    if dev or debug:
        from ..web import create_app

        app = create_app(settings=settings)
        click.echo(f"Serving graphsvc on http://{host}:{port}/ with Flask's development server "
                   f"(Neo4j at {settings.uri})", err=True)
        app.run(host=host, port=port, debug=debug, use_reloader=debug, request_handler=RequestHandler)
        return
    # Checked once here, so that a Neo4j that is down is one clear message, not one traceback per worker.
    from ..store.db import Graph

    Graph.connect(settings, retry_seconds=1).close()
    click.echo(f"Serving graphsvc on http://{host}:{port}/ with gunicorn, {workers} worker(s) of {threads} "
               f"thread(s) (Neo4j at {settings.uri})", err=True)
    gunicorn_application(settings, bind=f"{host}:{port}", workers=workers, threads=threads).run()
