"""A live analysis: one ``Insights`` per process, kept current change by change.

Neo4j -> ``projection`` -> ``Insights`` (built once, ``build``) -> the change
feed -> ``apply_change`` -> web and API.

Every write stamps the referrers it changed with the graph version it
produced (``graphsvc.store.writes``). ``InsightsCache`` holds an analysis at
some version v; ``update()`` asks for the referrers changed after v
(``changes_since``, one index seek), projects just those (with every member
and provider, a few hundred rows) and applies them in place
(``apply_change``). After a write of its own process, ``written()`` applies
the projection and analysis that write's transaction made, when the served
analysis is at the version just before it: nothing read or analysed twice. A full
projection happens only at start, after an import (imports write in
parallel batches and stamp nothing; they set ``bulk_version``), when asked
(``refresh``), on a new day (an analysis of today judges stalled, lapsed, due
and snoozed rows on its day), or when the database is another one or went
back in time; it
runs in a background thread while requests are served from the analysis
there is, which is then kept current meanwhile.

Readers and the updater take turns through a read-write lock: ``reading()``
(or ``acquire``/``release``, which the web holds for a whole request) lets
many requests read at once, and an update waits for them, then changes the
graph for a few milliseconds. A full rebuild never waits for readers: it
builds a new analysis aside and swaps it in; requests still holding the
old one finish with it.

Warm start. After each full build the projection and its suggestion index
are saved to ``snapshot_dir`` (one file per database, replaced atomically,
the folder readable by its owner only: it holds clients' matching
attributes). A process that starts loads the snapshot and applies the
changes made since its version, instead of re-reading the whole graph; a
snapshot older than the last import, of another database or another
format is ignored. Snapshots are pickles, loaded only from a folder owned by
this user and closed to others.

Neo4j down. ``update`` marks the cache unreachable and the last analysis
keeps being served (``unreachable_since`` says since when; pages say how
old their data is); it asks again at most every ``retry_down_seconds``.
With a background poller (``start``, as the web server runs it) requests
never wait on Neo4j at all; without one (tests, scripts) ``get`` checks
inline at most every ``check_seconds``.
"""

from __future__ import annotations

import ctypes
import gc
import logging
import os
import pickle
import tempfile
import threading
import time
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

from .analysis import referrer_metrics, stage_histories
from .analysis.graph import as_of as graph_as_of
from .config import AnalysisOptions
from .errors import Neo4jUnavailable
from .insights import Insights
from .store import projection
from .store.db import Graph
from .store.reads import NO_REFERRERS, Feed, changes_since

_log = logging.getLogger(__name__)

SNAPSHOT_FORMAT = 2  # 2: the projection's stored weights are G.graph["stored_weights"]


def build(db: Graph, options: AnalysisOptions, referrers=None) -> Insights:
    """An analysis of the graph as it is now (``referrers``: of just those, with every member and provider).

    The version is read before the projection, so changes made while it is
    read are applied by the next update, never missed.
    """
    feed = changes_since(db)
    insights = Insights(projection.project(db, referrers=referrers), options, feed.version)
    insights.instance = feed.instance
    return insights


class ReadWriteLock:
    """Many readers or one writer; a waiting writer goes before new readers.

    A thread that already reads may read again (re-entrant per thread), so a
    reader never waits behind a writer that waits for it.
    """

    def __init__(self):
        self._cond = threading.Condition()
        self._readers = 0
        self._writing = False
        self._writers_waiting = 0
        self._mine = threading.local()

    def acquire_read(self) -> None:
        held = getattr(self._mine, "count", 0)
        if held:
            self._mine.count = held + 1
            return
        with self._cond:
            while self._writing or self._writers_waiting:
                self._cond.wait()
            self._readers += 1
        self._mine.count = 1

    def release_read(self) -> None:
        self._mine.count -= 1
        if self._mine.count:
            return
        with self._cond:
            self._readers -= 1
            if not self._readers:
                self._cond.notify_all()

    @contextmanager
    def writing(self):
        with self._cond:
            self._writers_waiting += 1
            try:
                while self._writing or self._readers:
                    self._cond.wait()
            finally:
                self._writers_waiting -= 1
            self._writing = True
        try:
            yield
        finally:
            with self._cond:
                self._writing = False
                self._cond.notify_all()


class InsightsCache:
    """One live ``Insights`` per process (see the module docstring).

    ``get()`` returns the analysis to serve: built on the first call (from a
    snapshot when there is a usable one), then brought up to date by
    ``update()`` (inline at most every ``check_seconds``, or by the poller
    thread ``start()`` runs). ``get(refresh=True)`` starts a full rebuild in
    the background, at most once every ``refresh_seconds``.

    Counters for ``/api/status``: ``full_builds`` (snapshots loaded count
    as builds too, ``warm_starts`` says how many), ``incremental_updates``,
    ``last_build_at`` / ``last_build_seconds``, ``last_update_seconds``.
    None of them waits on a lock or on Neo4j.
    """

    def __init__(self, graph: Graph, options: AnalysisOptions, check_seconds: float = 2.0,
                 retry_down_seconds: float = 5.0, refresh_seconds: float = 30.0,
                 snapshot_dir: Path | str | None = None, max_incremental: int = 5_000):
        self.graph = graph
        self.options = options
        self.check_seconds = check_seconds
        self.retry_down_seconds = retry_down_seconds
        self.refresh_seconds = refresh_seconds
        # Snapshots hold the projection of today's practice; an as_of analysis is a cut of it.
        self.snapshot_dir = Path(snapshot_dir) if snapshot_dir is not None and self.options.as_of is None else None
        # Beyond this many changed referrers, one full projection is cheaper than reading each.
        self.max_incremental = max_incremental
        self.unreachable_since: datetime | None = None
        self._insights: Insights | None = None
        self._checked = 0.0
        self._failed: float | None = None  # monotonic time of the last failed check
        self._forced: float | None = None  # monotonic time of the last forced rebuild
        self._update_lock = threading.Lock()  # one updater or builder at a time
        self._rw = ReadWriteLock()  # readers of the served analysis vs in-place updates
        self._held = threading.local()  # per thread: how many results the analysis held when acquired
        self._rebuilding = threading.Event()
        self._rebuilt = threading.Condition()
        self._poller: threading.Thread | None = None
        self._snapshotting = False  # the served analysis is being pickled: updates wait their turn
        self._stop = threading.Event()
        self.full_builds = 0
        self.warm_starts = 0
        self.incremental_updates = 0
        self.last_build_at: datetime | None = None
        self.last_build_seconds: float | None = None
        self.last_update_seconds: float | None = None  # reading the change and applying it
        self.last_apply_seconds: float | None = None  # applying it to the graph in memory alone
        self.last_error: str | None = None

    # -- serving -------------------------------------------------------------

    @property
    def served(self) -> Insights | None:
        return self._insights

    @property
    def rebuilding(self) -> bool:
        """Whether a full rebuild is running in the background."""
        return self._rebuilding.is_set()

    @property
    def polling(self) -> bool:
        return self._poller is not None and self._poller.is_alive()

    def get(self, refresh: bool = False) -> Insights:
        """The analysis to serve (building the first one; ``Neo4jUnavailable`` if there is none and no Neo4j).

        The result is not protected from a concurrent ``update()``: a caller
        in a process where updates run in other threads (the web) uses
        ``reading()`` or ``acquire``/``release`` instead.
        """
        if self._insights is None:
            with self._update_lock:
                if self._insights is None:
                    self._first_build()
        if refresh:
            self.refresh()
        if not self.polling and time.monotonic() - self._checked >= self.check_seconds:
            self.update()
        return self._insights

    def acquire(self, refresh: bool = False) -> Insights:
        """``get()``, then hold a read lock on it until ``release()`` (no update changes it meanwhile)."""
        self.get(refresh)
        self._rw.acquire_read()
        if not getattr(self._held, "depth", 0):
            self._held.results = len(self._insights.__dict__)
        self._held.depth = getattr(self._held, "depth", 0) + 1
        return self._insights

    def release(self, error: BaseException | None = None) -> None:
        """Let go of the analysis ``acquire`` held; ``error``: the exception the request is ending with."""
        self._held.depth -= 1
        computed = not self._held.depth and len(self._insights.__dict__) > self._held.results
        self._rw.release_read()
        if computed:
            # A request computed a practice-wide result (worklists, monthly counts, ...): hundreds of
            # thousands of long-lived objects at 100,000 referrers. Frozen, as the analysis itself is
            # (``_publish``), so that full collections stop walking them (a 0.46 s pause every few
            # requests was measured). Frozen objects are never collected, so garbage must not be among
            # them: first a full collection (cheap: it skips what is frozen already), which frees what
            # earlier requests left in reference cycles, such as a failed request's traceback holding
            # every frame's locals; and not while an exception is still alive (the one this request ends
            # with, whose frames hold what it was computing): the next request freezes the result.
            # Freezing a failed request's garbage leaked ~6-10 MB per failing request after a write.
            gc.collect()
            if error is None:
                gc.freeze()

    @contextmanager
    def reading(self, refresh: bool = False):
        insights = self.acquire(refresh)
        try:
            yield insights
        finally:
            self.release()

    # -- keeping current -----------------------------------------------------

    def update(self) -> str:
        """Apply the changes made since the served version; returns what happened.

        ``"current"``, ``"applied"`` (an incremental update), ``"rebuilding"``
        (a full rebuild was started, or is running, in the background),
        ``"unreachable"`` (Neo4j did not answer; the last analysis stays),
        ``"busy"`` (the served analysis is being saved as a snapshot: next
        time) or ``"empty"`` (nothing built yet).
        """
        with self._update_lock:
            current = self._insights
            if current is None:
                return "empty"
            if self._snapshotting:
                return "busy"  # the served analysis is being saved; the next round applies the changes
            now = time.monotonic()
            if self._failed is not None and now - self._failed < self.retry_down_seconds:
                return "unreachable"  # it was away a moment ago: don't wait on it again
            try:
                feed = changes_since(self.graph, current.version)
                self._reached()
                self._checked = now
                outcome = self._catch_up(current, feed, publish=True)
            except Neo4jUnavailable as e:
                self._unreachable(e)
                return "unreachable"
            return outcome

    def written(self, write) -> str:
        """Bring the served analysis up to date after a write of this process (``store.writes.Written``).

        When the served analysis is at the version just before the write's,
        the write's own projection and analysis (made in its transaction,
        ``graphsvc.service``) are applied as they are: the referrers are read
        and analysed once, not again. Otherwise (another write came between,
        or the analysis is elsewhere) it is an ordinary ``update()``.
        """
        with self._update_lock:
            current = self._insights
            results = write.analysis.results if write.analysis is not None else None
            usable = (current is not None and not self._snapshotting and write.projected is not None
                      and current.version == write.version - 1 and results is not None
                      and results[0] == current.options)
            if usable:
                began = time.perf_counter()
                with self._rw.writing():
                    apply_change(current, write.projected, write.referrers, write.version, analysed=results[1:])
                    self.last_apply_seconds = time.perf_counter() - began
                current.data_as_of = datetime.now(UTC)
                self.incremental_updates += 1
                self.last_update_seconds = time.perf_counter() - began
                return "applied"
        return self.update()

    def _catch_up(self, insights: Insights, feed: Feed, publish: bool) -> str:
        """Bring ``insights`` to ``feed.version`` in place, or start a full rebuild when it can't be."""
        if insights.instance is None and feed.version >= insights.version:
            # Built before the database had an instance id (made by the first
            # write or schema run of this version of graphsvc): the same database.
            insights.instance = feed.instance
        new_day = insights.options.as_of is None and insights.judged_on != date.today()
        if (feed.instance != insights.instance or feed.version < insights.version
                or feed.bulk_version > insights.version or new_day):
            why = ("another database" if feed.instance != insights.instance else
                   "the graph's version went back" if feed.version < insights.version else
                   "an import" if feed.bulk_version > insights.version else
                   "a new day (stalled, lapsed, due and snoozed are judged on the day)")
            self._start_rebuild(why)
            return "rebuilding"
        if feed.version == insights.version:
            insights.data_as_of = datetime.now(UTC)
            return "current"
        if len(feed.referrers) > self.max_incremental:
            self._start_rebuild(f"{len(feed.referrers)} referrers changed")
            return "rebuilding"
        began = time.perf_counter()
        # One read transaction for the few small reads (not a session each).
        sub = self.graph.read_tx(lambda tx: projection.project(tx, referrers=feed.referrers))
        if publish:
            with self._rw.writing():
                applying = time.perf_counter()
                apply_change(insights, sub, feed.referrers, feed.version)
                self.last_apply_seconds = time.perf_counter() - applying
        else:
            applying = time.perf_counter()
            apply_change(insights, sub, feed.referrers, feed.version)
            self.last_apply_seconds = time.perf_counter() - applying
        insights.data_as_of = datetime.now(UTC)
        self.incremental_updates += 1
        self.last_update_seconds = time.perf_counter() - began
        _log.info("analysis: version %d applied, %d referrer(s) changed, in %.0f ms", feed.version,
                  len(feed.referrers), self.last_update_seconds * 1000)
        return "applied"

    def refresh(self) -> bool:
        """Start a full rebuild in the background, at most once every ``refresh_seconds``; whether it started."""
        now = time.monotonic()
        if self._forced is not None and now - self._forced < self.refresh_seconds:
            _log.info("analysis: refresh asked %.0fs after the last one; serving the current analysis",
                      now - self._forced)
            return False
        self._forced = now
        return self._start_rebuild("asked")

    def wait_for_rebuild(self, timeout: float | None = None) -> bool:
        """Wait until no full rebuild is running; whether none is."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._rebuilt:
            while self._rebuilding.is_set():
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._rebuilt.wait(left)
        return True

    def wait_idle(self, timeout: float = 120) -> bool:
        """Wait for a running full rebuild (and its snapshot); whether it finished."""
        return self.wait_for_rebuild(timeout)

    def start(self, poll_seconds: float = 1.0) -> None:
        """Poll for changes every ``poll_seconds`` in a daemon thread (once; after any fork)."""
        if self.polling:
            return
        self._stop.clear()

        def poll():
            while not self._stop.wait(poll_seconds):
                if self._insights is None:
                    continue  # the first request builds it
                try:
                    self.update()
                except Exception:  # keep polling; the next round may succeed
                    _log.exception("analysis: update failed")

        self._poller = threading.Thread(target=poll, name="graphsvc-analysis-poller", daemon=True)
        self._poller.start()

    def close(self) -> None:
        self._stop.set()
        if self._poller is not None:
            self._poller.join(timeout=5)
        self.wait_idle(timeout=60)

    # -- full builds ---------------------------------------------------------

    def _first_build(self) -> None:
        """The first analysis: from a snapshot plus the changes since, or a full projection."""
        try:
            fresh = self._from_snapshot()
            built = fresh is None
            if built:
                fresh = self._full_build()
        except Neo4jUnavailable as e:
            self._unreachable(e)
            raise
        if built:
            # Saved before anyone reads it (about 10 s at 100,000 referrers, on
            # top of a 27 s build): saved later, it would hold up the updates
            # of the first writes after the start for as long.
            self._save_snapshot(fresh)
        self._reached()
        self._checked = time.monotonic()
        self._publish(fresh)

    def _full_build(self) -> Insights:
        began, started_at = time.perf_counter(), datetime.now(UTC)
        fresh = build(self.graph, self.options)
        _ = fresh.index  # every request after this one reads it: computed now
        self.full_builds += 1
        self.last_build_at, self.last_build_seconds = started_at, time.perf_counter() - began
        _log.info("analysis: full build of version %d in %.1fs", fresh.version, self.last_build_seconds)
        return fresh

    def _start_rebuild(self, why: str) -> bool:
        with self._rebuilt:
            if self._rebuilding.is_set():
                return False
            self._rebuilding.set()
        _log.info("analysis: full rebuild in the background (%s); serving version %s meanwhile", why,
                  None if self._insights is None else self._insights.version)
        threading.Thread(target=self._rebuild, name="graphsvc-analysis-rebuild", daemon=True).start()
        return True

    def _rebuild(self) -> None:
        try:
            fresh = self._full_build()
            _ = fresh.histories, fresh.metrics  # computed aside, not in the first request after the swap
            self._save_snapshot(fresh)  # before anyone reads it: no lock needed
            with self._update_lock:
                # Catch up with writes made while it was built, then swap it in.
                feed = changes_since(self.graph, fresh.version)
                if feed.bulk_version <= fresh.version and feed.version >= fresh.version:
                    self._catch_up(fresh, feed, publish=False)
                self._publish(fresh)
        except Neo4jUnavailable as e:
            self._unreachable(e)
        except Exception:
            _log.exception("analysis: full rebuild failed; serving the analysis there was")
        finally:
            with self._rebuilt:
                self._rebuilding.clear()
                self._rebuilt.notify_all()

    def _publish(self, fresh: Insights) -> None:
        old, self._insights = self._insights, fresh
        if old is not None:
            # Frozen objects (below) are never collected: thaw, let the old
            # analysis go (its graph has reference cycles), collect.
            del old
            gc.unfreeze()
            gc.collect()
            _trim_heap()
        # Millions of long-lived graph objects would make every full garbage
        # collection walk them (a second or more at 100,000 referrers).
        gc.freeze()

    def _reached(self) -> None:
        if self.unreachable_since is not None:
            _log.info("analysis: Neo4j answers again (away since %s)",
                      self.unreachable_since.isoformat(timespec="seconds"))
        self._failed = self.unreachable_since = None

    def _unreachable(self, error: Exception) -> None:
        self._failed = time.monotonic()
        self.last_error = str(error)
        if self.unreachable_since is None:
            self.unreachable_since = datetime.now(UTC)
            served = self._insights
            _log.warning("analysis: %s; serving the analysis of %s", error,
                         None if served is None else served.data_as_of.isoformat(timespec="seconds"))

    # -- snapshots -----------------------------------------------------------

    def _snapshot_path(self, instance: str | None) -> Path | None:
        if self.snapshot_dir is None or not instance:
            return None
        return self.snapshot_dir / f"{instance}.pickle"

    def _save_snapshot(self, insights: Insights) -> None:
        """Save the projection and its index (not yet shared with readers, or held still by a read lock)."""
        path = self._snapshot_path(insights.instance)
        if path is None or insights.options.as_of is not None:
            return
        began = time.perf_counter()
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.chmod(path.parent, 0o700)
            with self._held_still(insights):
                fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".snapshot-", suffix=".tmp")
                try:
                    with os.fdopen(fd, "wb") as f:
                        pickle.dump({"format": SNAPSHOT_FORMAT, "instance": insights.instance,
                                     "version": insights.version, "G": insights.G, "index": insights.index},
                                    f, protocol=pickle.HIGHEST_PROTOCOL)
                    os.replace(tmp, path)  # readers see the old file or the new one, never half of one
                except BaseException:
                    Path(tmp).unlink(missing_ok=True)
                    raise
        except Exception as e:  # a snapshot only saves time later: never fail the build for it
            _log.warning("analysis: could not save a snapshot in %s: %s", path.parent, e)
            return
        _log.info("analysis: snapshot of version %d saved to %s in %.1fs", insights.version, path,
                  time.perf_counter() - began)

    @contextmanager
    def _held_still(self, insights: Insights):
        """Keep the analysis being served still while it is saved (seconds at 100,000 referrers).

        A read lock keeps updates out; ``_snapshotting`` makes ``update``
        skip its turn meanwhile instead of waiting for the write lock, since a
        waiting writer would hold up every new request behind it.
        """
        if insights is not self._insights:
            yield
            return
        with self._update_lock:  # set under the update lock: no update is between its check and its lock
            self._snapshotting = True
            self._rw.acquire_read()
        try:
            yield
        finally:
            self._rw.release_read()
            self._snapshotting = False

    def _from_snapshot(self) -> Insights | None:
        """The analysis from this database's snapshot plus the changes since, or None to build in full."""
        if self.snapshot_dir is None:
            return None
        feed = changes_since(self.graph, NO_REFERRERS)
        path = self._snapshot_path(feed.instance)
        if path is None or not path.exists():
            return None
        began, started_at = time.perf_counter(), datetime.now(UTC)
        if not _private(path):
            _log.warning("analysis: ignoring snapshot %s: its folder or file is open to other users", path)
            return None
        try:
            gc.disable()  # millions of new objects: no collections while they arrive
            try:
                with open(path, "rb") as f:
                    saved = pickle.load(f)
            finally:
                gc.enable()
        except Exception as e:  # a damaged or foreign file: build in full instead
            _log.warning("analysis: ignoring unreadable snapshot %s: %s", path, e)
            return None
        if (not isinstance(saved, dict) or saved.get("format") != SNAPSHOT_FORMAT
                or saved.get("instance") != feed.instance):
            _log.info("analysis: ignoring snapshot %s (another format or database)", path)
            return None
        version = saved["version"]
        if version > feed.version or feed.bulk_version > version:
            _log.info("analysis: snapshot %s of version %d is out of date (now %d, last import %d)",
                      path, version, feed.version, feed.bulk_version)
            return None
        since = changes_since(self.graph, version)
        if len(since.referrers) > self.max_incremental or since.bulk_version > version:
            _log.info("analysis: snapshot %s of version %d is too far behind (%d referrers changed since)",
                      path, version, len(since.referrers))
            return None
        insights = Insights(saved["G"], self.options, version)
        insights.instance = feed.instance
        insights.__dict__["index"] = saved["index"]
        self._catch_up(insights, since, publish=False)
        self.full_builds += 1
        self.warm_starts += 1
        self.last_build_at, self.last_build_seconds = started_at, time.perf_counter() - began
        _log.info("analysis: warm start from snapshot of version %d, at version %d in %.1fs", version,
                  insights.version, self.last_build_seconds)
        return insights


def _trim_heap() -> None:
    """Give the freed heap back to the system (glibc keeps it otherwise), so a worker
    that built a new analysis beside the old one does not stay at twice the size."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to do
        pass


def _private(path: Path) -> bool:
    """Whether ``path`` and its folder belong to this user, the folder closed to others, the file not writable
    by them."""
    folder, file = path.parent.stat(), path.stat()
    return (folder.st_uid == file.st_uid == os.getuid() and not folder.st_mode & 0o077
            and not file.st_mode & 0o022)


def apply_change(insights: Insights, sub, referrer_ids, version: int | None, analysed=None) -> None:
    """Bring ``insights`` up to date with changes to some referrers, in place.

    ``sub`` is ``projection.project(graph, referrers=referrer_ids)``: those
    referrers as the database holds them now, with every member and
    provider. Each referrer's node and events in ``G`` are replaced by
    ``sub``'s (a referrer missing from ``sub`` is gone), members and
    providers take ``sub``'s attributes, and only these referrers' histories,
    metrics and suggestion-index entries are computed again (or taken from
    ``analysed``: ``(histories, metrics)`` computed on ``sub`` with the same
    options, as a write's transaction did, ``insights.stored_analysis``); the
    practice-wide results made of per-referrer parts (the worklists, the
    follow-up counts, the conversion outcomes: ``Insights.refresh``) get
    just these referrers' parts made again, and the other practice-wide
    results (``Insights.AGGREGATES``) are dropped, to be computed when next
    asked. The result equals a full rebuild at
    ``version`` (a test checks it, write after write). The caller makes sure
    nobody reads the analysis meanwhile (``InsightsCache``'s write lock).
    """
    ids = sorted(set(referrer_ids))
    _keep_layout(insights, ids)
    if insights.options.as_of is not None:
        sub = graph_as_of(sub, insights.options.as_of)
    G = insights.G
    index = insights.__dict__.get("index")
    members_changed = False  # a name or a staff role every row may show: the worklists are made again
    for n, attrs in sub.nodes(data=True):
        if attrs.get("kind") in ("clinician", "staff", "provider"):
            if n in G:
                members_changed = members_changed or G.nodes[n] != attrs
                # In place: the index and any reader hold these very dicts.
                G.nodes[n].clear()
                G.nodes[n].update(attrs)
            else:
                members_changed = True
                G.add_node(n, **attrs)
                if index is not None and attrs["kind"] != "provider":
                    index.members[n] = G.nodes[n]
    staff_before = _staff_counts(index)
    _replace_referrers(G, sub, ids, index)
    present = [r for r in ids if r in G and G.nodes[r].get("kind") == "referrer"]
    o = insights.options
    histories, metrics = analysed if analysed is not None else (None, None)
    if "histories" in insights.__dict__:
        for r in ids:
            insights.histories.pop(r, None)
        if present:
            insights.histories.update({r: histories[r] for r in present} if histories is not None else
                                      stage_histories(G, present, window=o.window, stall_days=o.stall_days,
                                                      lapse_days=o.lapse_days, as_of=o.day()))
    if "metrics" in insights.__dict__:
        for r in ids:
            insights.metrics.pop(r, None)
        if present:
            insights.metrics.update({r: metrics[r] for r in present} if metrics is not None else referrer_metrics(
                G, present, window=o.window, as_of=o.day()))
    # Which staff member a ready row introduces depends on how many referrals each was addressed.
    whole = members_changed or index is None or _staff_counts(index) != staff_before
    kept = insights.refresh(ids, whole=whole)
    for name in Insights.AGGREGATES:
        if name not in kept:
            insights.__dict__.pop(name, None)
    insights.version = version


def _staff_counts(index) -> dict | None:
    """The referrals addressed to each staff member (``Index.addressed_counts``), or None without an index."""
    if index is None:
        return None
    return {m: index.addressed_counts.get(m, 0) for m, a in index.members.items() if a.get("kind") == "staff"}


def _keep_layout(insights: Insights, ids: list[str]) -> None:
    """Keep the /network picture's positions: the next layout moves only these referrers."""
    layout = insights.__dict__.pop("layout", None)
    if layout is not None:
        insights._layout_before, insights._layout_changed = layout, set(ids)
    elif getattr(insights, "_layout_before", None) is not None:
        insights._layout_changed |= set(ids)


def _replace_referrers(G, sub, ids: list[str], index) -> None:
    """Each referrer's node and events in ``G`` replaced by ``sub``'s (gone if ``sub`` has none)."""
    not_started = G.graph.get("not_started")
    for r in ids:
        if r in G and G.nodes[r].get("kind") == "referrer":
            if index is not None:
                index.forget(r)
            G.remove_node(r)
        if not_started is not None:
            not_started.pop(r, None)
        if r in sub and sub.nodes[r].get("kind") == "referrer":
            G.add_node(r, **sub.nodes[r])
            G.add_edges_from(sub.out_edges(r, keys=True, data=True))
            if index is not None:
                index.learn(r)
        elif not_started is not None and r in sub.graph.get("not_started", {}):
            not_started[r] = sub.graph["not_started"][r]
