"""The ``graphsvc`` command: a thin click layer over the library.

Every command that prints a result takes ``--json`` for scripting. Errors
meant for people (bad input, Neo4j down) print one clear message and exit 1;
only real bugs show a traceback. One module per area: ``db``, ``data``
(import, export), ``analysis`` (analyze, stage, suggest, match, evaluate),
``config``, ``serve``, ``accounts`` (user, token, audit).

Settings are loaded once here (``graphsvc.toml`` or ``$GRAPHSVC_CONFIG``,
then the environment) and logging is set up before any command runs, so
library warnings (the Neo4j driver's among them) go to the log file rather
than the terminal.
"""

from __future__ import annotations

import logging

import click

from ..config import Settings
from ..logs import configure_logging
from .common import FriendlyGroup


@click.group(cls=FriendlyGroup)
@click.version_option(package_name="graphsvc")
@click.option("-v", "--verbose", count=True,
              help="Also print the log on stderr (-vv: at debug level).")
@click.pass_context
def main(ctx, verbose):
    """graphsvc: the referral-relationship graph of a group practice.

    Settings come from graphsvc.toml in the working directory (or the file
    $GRAPHSVC_CONFIG names), then environment variables (NEO4J_URI,
    NEO4J_PASSWORD, GRAPHSVC_DATA_DIR, ...; see the README), then command
    options. `graphsvc config show` prints them and where each came from.
    """
    settings = Settings.load()
    if verbose:
        settings = settings.with_(log_echo=True, **({"log_level": "DEBUG"} if verbose > 1 else {}))
    configure_logging(settings)
    logging.getLogger("graphsvc.cli").info("graphsvc %s (settings file: %s)", ctx.invoked_subcommand,
                                           settings.config_file or "none")
    ctx.obj = settings


from . import (  # noqa: E402,F401  (registers the commands)
    accounts,
    analysis,
    config,
    data,
    db,
    query,  # noqa: E402,F401  (graphsvc query)
    serve,
)

if __name__ == "__main__":  # pragma: no cover
    main()
