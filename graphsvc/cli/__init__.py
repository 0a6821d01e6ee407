"""The ``graphsvc`` command: a thin click layer over the library.

Every command that prints a result takes ``--json`` for scripting. Errors
meant for people (bad input, Neo4j down) print one clear message and exit 1;
only real bugs show a traceback. One module per area: ``db``, ``data``
(import, export), ``analysis`` (analyze, stage, suggest, match, evaluate),
``serve``.
"""

from __future__ import annotations

import click

from ..config import Settings
from .common import FriendlyGroup

@click.group(cls=FriendlyGroup)
@click.version_option(package_name="graphsvc")
@click.pass_context
def main(ctx):
    """graphsvc: the referral-relationship graph of a group practice.

    Configuration comes from environment variables (see the README):
    NEO4J_URI, NEO4J_USER, NEO4J_PASSWORD, NEO4J_DATABASE, GRAPHSVC_BOLT_PORT,
    GRAPHSVC_DATA_DIR, GRAPHSVC_CACHE_DIR, ...
    """
    ctx.obj = Settings.load()


from . import analysis, data, db, serve  # noqa: E402,F401  (registers the commands)

if __name__ == "__main__":  # pragma: no cover
    main()
