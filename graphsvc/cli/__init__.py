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

from . import accounts, analysis, backup, config, data, db, query, serve  # noqa: F401  (each registers its commands)
from .root import main

__all__ = ["main"]

if __name__ == "__main__":  # pragma: no cover
    main()
