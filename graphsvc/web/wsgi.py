"""WSGI entry point for gunicorn: ``gunicorn graphsvc.web.wsgi:app``.

Without ``--preload``, each worker imports this after the fork, so each gets
its own Neo4j driver, as the driver manual asks.
"""

from . import create_app

app = create_app()
