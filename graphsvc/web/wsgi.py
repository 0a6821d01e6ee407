"""WSGI entry point for gunicorn: ``gunicorn graphsvc.web.wsgi:app``.

Without ``--preload``, each worker imports this after the fork, so each gets
its own Neo4j driver, as the driver manual asks. Settings come from
``graphsvc.toml`` (or ``$GRAPHSVC_CONFIG``) and the environment, and the log
goes where they say, as for the CLI.
"""

from ..config import Settings
from ..logs import configure_logging
from . import create_app

settings = Settings.load()
configure_logging(settings)
app = create_app(settings=settings)
