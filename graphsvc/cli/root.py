"""The ``graphsvc`` group itself: settings and logging, before any command runs.

The commands register themselves on ``main`` (``@main.command``) in their
own modules, which ``graphsvc.cli`` imports.
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
    NEO4J_PASSWORD, GRAPHSVC_DATA_DIR, ...; see docs/configuration.md), then command
    options. `graphsvc config show` prints them and where each came from.
    """
    settings = Settings.load()
    if verbose:
        settings = settings.with_(log_echo=True, **({"log_level": "DEBUG"} if verbose > 1 else {}))
    configure_logging(settings)
    logging.getLogger("graphsvc.cli").info("graphsvc %s (settings file: %s)", ctx.invoked_subcommand,
                                           settings.config_file or "none")
    ctx.obj = settings
