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
import socket
import threading
from collections.abc import Callable
from contextlib import contextmanager
from time import monotonic
from typing import Any

from neo4j import READ_ACCESS, WRITE_ACCESS, GraphDatabase
from neo4j.exceptions import (
    AuthError,
    ClientError,
    DatabaseUnavailable,
    DriverError,
    Neo4jError,
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

    def __init__(self, settings: Settings, driver, *, wait_seconds: float | None = None):
        self.settings = settings
        self.driver = driver
        self.database = settings.neo4j_database
        self.wait_seconds = wait_seconds

    @classmethod
    def connect(cls, settings: Settings | None = None, *, retry_seconds: float = 15,
                wait_seconds: float | None = None) -> Graph:
        """Open the driver and check that Neo4j answers; raise ``Neo4jUnavailable`` if not.

        ``retry_seconds`` bounds how long a managed transaction is retried on
        a transient failure (a deadlock, a leader switch, a server that went
        away). A command can wait; a web page should fail fast and say so.

        ``wait_seconds`` (the web's) bounds a whole managed write transaction,
        its retries included: connecting, waiting for a pooled connection and
        every statement. Reads are not bounded so: the live analysis reads the
        whole graph through the same driver. A server that is restarting accepts connections and
        then answers each message a second or more late, so a bound on
        retries alone let a write wait 12-15 s; past ``wait_seconds`` the
        transaction is rolled back before its next statement and the caller
        gets ``Neo4jUnavailable`` (a 503), nothing written.
        """
        settings = settings or Settings.load()
        uri = settings.uri
        bounded = {}
        if wait_seconds is not None:
            retry_seconds = min(retry_seconds, wait_seconds)
            bounded = {"connection_acquisition_timeout": wait_seconds, "initial_retry_delay": 0.2,
                       "retry_delay_multiplier": 1.5}
        with translate_errors(settings):
            password = discovery.password(settings)
            driver = GraphDatabase.driver(
                uri,
                auth=(settings.neo4j_user, password),
                connection_timeout=10 if wait_seconds is None else min(10.0, wait_seconds / 2),
                max_transaction_retry_time=retry_seconds,
                # Benign planner notes (e.g. "property key does not exist" on an
                # empty graph) would otherwise be logged on every query.
                notifications_min_severity="OFF",
                **bounded,
            )
            try:
                driver.verify_connectivity()
            except Exception:
                driver.close()
                raise
        graph = cls(settings, driver, wait_seconds=wait_seconds)
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
            return s.execute_write(self._bounded(work), *args, **kwargs)

    def read_tx(self, work: Callable, *args, fetch_size: int | None = None, **kwargs):
        """Run ``work(tx, ...)`` as one managed read; ``fetch_size`` for bulk reads."""
        config = {"fetch_size": fetch_size} if fetch_size else {}
        with self.session(**config) as s:
            return s.execute_read(work, *args, **kwargs)

    def _bounded(self, work: Callable) -> Callable:
        """``work`` under ``wait_seconds``: every attempt, and every statement in it, starts only before the
        deadline; past it, the transaction is rolled back (never committed) and ``Neo4jUnavailable`` said."""
        if self.wait_seconds is None:
            return work
        deadline = monotonic() + self.wait_seconds

        late = Neo4jUnavailable(f"Neo4j at {self.settings.uri} did not answer within {self.wait_seconds:g} s (it "
                                "is busy, restarting or not serving the database yet); nothing was written: try "
                                "again in a moment")

        def too_late() -> None:
            if monotonic() > deadline:
                raise late

        def bounded(tx, *args, **kwargs):
            too_late()
            watchdog = _Watchdog(tx, deadline + CUT_AFTER_SECONDS)
            try:
                return work(_DeadlineTransaction(tx, too_late), *args, **kwargs)
            except (DriverError, Neo4jError):
                if watchdog.cut:  # its statement was cut off: said as the deadline, not retried
                    raise late from None
                raise
            finally:
                watchdog.disarm()  # before the driver sends COMMIT: a commit is never cut off

        return bounded


# A statement still unanswered this long past a web write's deadline has its connection shut (``_Watchdog``): a
# starting server can hold one several seconds, so the deadline alone let a write take 4 s.
CUT_AFTER_SECONDS = 0.8


def shut_connection_of(holder) -> None:
    """Shut the socket of the connection a driver session or transaction holds (nothing if it holds none):
    a read waiting on it ends at once, and the server sees its client leave and rolls back what was not
    committed. The driver has no public way to do it: if a driver release renames ``_connection``,
    ``socket`` or ``_socket``, this does nothing, and the tests that cut a run off fail."""
    connection = getattr(holder, "_connection", None)
    bolt_socket = getattr(connection, "socket", None)
    raw = getattr(bolt_socket, "_socket", bolt_socket)
    try:
        raw.shutdown(socket.SHUT_RDWR)
    except (OSError, AttributeError):
        pass


class _Watchdog:
    """Shuts a transaction's connection at ``when`` (monotonic) unless disarmed first.

    Disarmed when the transaction function returns, before the driver sends COMMIT, and the two take one lock:
    so a connection is only ever shut while statements run, never while a commit is on its way, and the
    transaction it cuts is rolled back by the server (a client that left commits nothing).
    """

    def __init__(self, tx, when: float):
        self._tx, self._lock, self._armed, self.cut = tx, threading.Lock(), True, False
        self._timer = threading.Timer(max(0.0, when - monotonic()), self._shut)
        self._timer.daemon = True
        self._timer.start()

    def _shut(self) -> None:
        with self._lock:
            if not self._armed:
                return
            self.cut = True
            shut_connection_of(self._tx)

    def disarm(self) -> None:
        with self._lock:
            self._armed = False
        self._timer.cancel()


class _DeadlineTransaction:
    """A managed transaction whose every ``run`` first checks a deadline (``Graph._bounded``)."""

    def __init__(self, tx, too_late: Callable[[], None]):
        self._tx = tx
        self._too_late = too_late

    def run(self, *args, **kwargs):
        self._too_late()
        return self._tx.run(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._tx, name)


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
