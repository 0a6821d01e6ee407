"""One Neo4j driver per process, and the few ways graphsvc talks to it.

Follows the driver manual: the driver is created once (after any fork),
checked with ``verify_connectivity()``, and closed at process exit. Each unit
of work gets its own session on the named database; transaction functions
return plain data and are safe to retry.
"""

from __future__ import annotations

import atexit
import logging
import re
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

from neo4j import READ_ACCESS, WRITE_ACCESS, GraphDatabase
from neo4j.exceptions import (
    AuthError,
    ClientError,
    DatabaseUnavailable,
    ServiceUnavailable,
    SessionExpired,
)

from ..config import Settings
from ..errors import Neo4jUnavailable
from ..localdb import discovery
from .catalog import APP, Catalog

log = logging.getLogger(__name__)

# The driver logs a warning through the ``neo4j`` logger each time it retries
# a transaction (a deadlock, a leader switch). It belongs in the log, where
# ``graphsvc.logs`` sends it; where no logging is configured (graphsvc used as
# a library), this handler keeps Python's last-resort handler from printing it
# on the terminal. Records still reach any handler configured on the root.
logging.getLogger("neo4j").addHandler(logging.NullHandler())


class Graph:
    """A connection to the referral graph in one Neo4j database."""

    def __init__(self, settings: Settings, driver):
        self.settings = settings
        self.driver = driver
        self.database = settings.neo4j_database

    @classmethod
    def connect(cls, settings: Settings | None = None, *, retry_seconds: float = 15) -> Graph:
        """Open the driver and check that Neo4j answers; raise ``Neo4jUnavailable`` if not.

        ``retry_seconds`` bounds how long a managed transaction is retried on
        a transient failure (a deadlock, a leader switch, a server that went
        away). A command can wait; a web page should fail fast and say so.
        """
        settings = settings or Settings.load()
        uri = settings.uri
        with translate_errors(settings):
            password = discovery.password(settings)
            driver = GraphDatabase.driver(
                uri,
                auth=(settings.neo4j_user, password),
                connection_timeout=10,
                max_transaction_retry_time=retry_seconds,
                # Benign planner notes (e.g. "property key does not exist" on an
                # empty graph) would otherwise be logged on every query.
                notifications_min_severity="OFF",
            )
            try:
                driver.verify_connectivity()
            except Exception:
                driver.close()
                raise
        graph = cls(settings, driver)
        atexit.register(graph.close)
        log.debug("connected to Neo4j at %s, database %r", uri, settings.neo4j_database)
        return graph

    def close(self) -> None:
        self.driver.close()

    # -- units of work -----------------------------------------------------

    @contextmanager
    def session(self, write: bool = False, **config):
        mode = WRITE_ACCESS if write else READ_ACCESS
        with translate_errors(self.settings):
            with self.driver.session(database=self.database, default_access_mode=mode, **config) as s:
                yield s

    def read(self, name: str, *, catalog: Catalog = APP, **params) -> list[dict[str, Any]]:
        """Run the catalog statement ``name`` as a read; return its rows as dicts."""
        text = catalog.query(name)
        with self.session() as s:
            return s.execute_read(lambda tx: tx.run(text, params).data())

    def write(self, name: str, *, catalog: Catalog = APP, **params) -> list[dict[str, Any]]:
        """Run the catalog statement ``name`` in one write transaction."""
        text = catalog.query(name)
        with self.session(write=True) as s:
            return s.execute_write(lambda tx: tx.run(text, params).data())

    def write_tx(self, work: Callable, *args, **kwargs):
        """Run ``work(tx, ...)`` as one managed (retryable) write transaction."""
        with self.session(write=True) as s:
            return s.execute_write(work, *args, **kwargs)

    def read_tx(self, work: Callable, *args, fetch_size: int | None = None, **kwargs):
        """Run ``work(tx, ...)`` as one managed read; ``fetch_size`` for bulk reads."""
        config = {"fetch_size": fetch_size} if fetch_size else {}
        with self.session(**config) as s:
            return s.execute_read(work, *args, **kwargs)


@contextmanager
def translate_errors(settings: Settings):
    """Turn connection failures into one clear message naming the URI."""
    uri = settings.uri
    if settings.manages_local_server:
        hint = f"start it with `graphsvc db start` (its data is in {settings.data_dir})"
    elif settings.source("neo4j_uri").startswith("file "):
        hint = f"check uri under [neo4j] in {settings.config_file} and that the server is running"
    else:
        hint = "check NEO4J_URI and that the server is running"
    try:
        yield
    except AuthError as e:
        raise Neo4jUnavailable(
            f"Neo4j at {uri} rejected user {settings.neo4j_user!r}: {e.message}"
        ) from None
    except (ServiceUnavailable, SessionExpired) as e:
        raise Neo4jUnavailable(f"Cannot reach Neo4j at {uri} ({_reason(e)}); {hint}") from None
    except DatabaseUnavailable as e:
        raise Neo4jUnavailable(
            f"Database {settings.neo4j_database!r} at {uri} is unavailable: {e.message}"
        ) from None
    except ClientError as e:
        if e.code == "Neo.ClientError.Database.DatabaseNotFound":
            raise Neo4jUnavailable(
                f"Neo4j at {uri} has no database named {settings.neo4j_database!r} "
                "(set NEO4J_DATABASE)"
            ) from None
        raise


def _reason(error: Exception) -> str:
    text = str(error).strip() or type(error).__name__
    # The driver nests the socket error as "... (reason [Errno 111] Connection refused)".
    found = re.search(r"reason (?:\[Errno \d+\] )?([^)\n]+)", text)
    return found.group(1).strip() if found else text.splitlines()[0].rstrip(":")
