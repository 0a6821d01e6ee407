"""Memory under failing requests after writes (``make bench``): the current release against the old one.

Issue 19. The live analysis freezes (``gc.freeze()``) what a request computed
so that full collections stop walking it. The old ``InsightsCache.release``
did ``gc.collect(1); gc.freeze()`` whenever a request had computed a
result, failed or not: a failed request's traceback holds every frame's
locals in a reference cycle, a generation-1 collection does not reach it,
and freezing put it where the collector never looks again, about 10 MB per
failing request after a write. The current one collects fully first and
freezes nothing while the request's exception is alive.

A Neo4j of its own (``tests.benchmarks.server``) holds the small fixture
practice. Each variant runs in a fresh interpreter (so that what one froze
is not the other's baseline), with an app made by ``create_app`` (the web's
graph) answering as in production (``testing`` off, a 500 page, the error
logged to a handler that lets the record go), as
``tests/test_memory_under_errors.py`` does: a route that marks a
practice-wide result as computed by this request, builds ``--rows`` small
lists (20,000: about 2 MB) and fails in a nested call; before each failure
an API write (a contact, 201), so that the next request computes again.
After 20 warm-up rounds and a full collection, the process's resident memory
(``VmRSS``) is read, ``--failing`` rounds run, a full collection, and it is
read again.

* **current**: ``InsightsCache.release`` as it is;
* **old**: ``InsightsCache.release`` replaced by the old body
  (``gc.collect(1); gc.freeze()`` whenever a result was computed).
  It keeps about the payload per failing request (2.3 MB measured), so
  500 rounds grow it by about 1.2 GB: it runs ``--old-failing`` rounds (500
  by default, as many as the current one) with the same payload.

Reported per variant: MB grown, MB per failing request, the objects
``gc.freeze`` holds at the end, how many of the failed requests' payloads
are still alive, and the seconds per round. Prints a table, writes
``.bench/errors.json``. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WARM_UP = 20
VARIANTS = ("current", "old")
MEMBER = {"current": "cn1", "old": "cn2"}  # a contact a day for each: none is a duplicate of the other's


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--failing", type=int, default=500, help="failing requests after writes, current (default 500)")
    ap.add_argument("--old-failing", type=int, default=500,
                    help="failing requests after writes, the old way (default 500: each keeps ~2.3 MB)")
    ap.add_argument("--rows", type=int, default=20_000, help="small lists a failing request builds (default 20000)")
    ap.add_argument("--out", default=str(ROOT / ".bench"))
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results = measure(args)
    (out / "errors.json").write_text(json.dumps(results, indent=2))
    print_table(results)


def log(message: str) -> None:
    print(f"[errors] {message}", flush=True)


def measure(args) -> dict:
    from tests.benchmarks.server import small_practice

    load_at_start = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="graphsvc-bench-errors-"))
    try:
        with small_practice(work) as (neo4j, settings):
            results = {"rows": args.rows, "warm_up": WARM_UP, "load_average_at_start": load_at_start}
            for way in VARIANTS:
                failing = args.failing if way == "current" else args.old_failing
                log(f"{way}: {WARM_UP} warm-up rounds, then {failing} failing requests after writes")
                with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
                    results[way] = pool.submit(one_variant, settings, work, way, failing, args.rows).result()
                log(f"{way}: {results[way]}")
            results["load_average"] = os.getloadavg()
            return results
    finally:
        shutil.rmtree(work, ignore_errors=True)


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        return int(status.read().split("VmRSS:")[1].split()[0]) / 1024


def old_release(self, error=None) -> None:
    """``InsightsCache.release`` before issue 19's fix: a generation-1 collection, then freeze, error or not."""
    import gc

    self._held.depth -= 1
    computed = not self._held.depth and len(self._insights.__dict__) > self._held.results
    self._rw.release_read()
    if computed:
        gc.collect(1)
        gc.freeze()


def one_variant(settings, work: Path, way: str, failing: int, rows: int) -> dict:
    """In a fresh interpreter: ``WARM_UP`` rounds, then ``failing`` (a write, then a failing request)."""
    import gc
    import logging
    import secrets
    import weakref
    from datetime import date, timedelta

    from argon2 import PasswordHasher

    from graphsvc.accounts import Accounts
    from graphsvc.live import InsightsCache
    from graphsvc.web import create_app, extensions
    from tests.conftest import FAST_HASHER, PASSWORD

    if way == "old":
        InsightsCache.release = old_release
    accounts = Accounts(work / f"accounts-{way}.sqlite3", hasher=PasswordHasher(**FAST_HASHER))
    accounts.add_user("manager", "manager", PASSWORD)
    # The web's graph (create_app connects it), answered as in production: a 500 page, the error logged to a
    # handler that writes the record and lets it go.
    app = create_app({"TESTING": True, "SECRET_KEY": secrets.token_hex(16)}, settings=settings, accounts=accounts)
    app.testing = False
    app.config["PROPAGATE_EXCEPTIONS"] = False
    devnull = open(os.devnull, "w")  # noqa: SIM115  (open for the process's life)
    app.logger.handlers = [logging.StreamHandler(devnull)]
    app.logger.propagate = False

    class Partial(list):
        """What a failing computation held, weakly referable."""

    left: list[weakref.ref] = []

    @app.get("/api/fails-while-computing")
    def fails_while_computing():
        insights = extensions.insights()
        insights.__dict__["_computed_by_this_request"] = True  # as a practice-wide result computed here
        partial = Partial([i] for i in range(rows))
        left.append(weakref.ref(partial))

        def deeper():
            raise KeyError(f"failed after {len(partial)} rows")

        deeper()

    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {accounts.create_token('manager', 'bench')[1]}"
    cache = app.extensions["insights"]

    retried = []

    def once(n: int) -> None:
        for _ in range(5):  # a write that met the web's 1 s bound on a busy machine wrote nothing: again
            written = client.post("/api/contacts", json={"date": str(date(2024, 9, 1) + timedelta(n)),
                                                         "referrer_id": "rf3", "member_id": MEMBER[way],
                                                         "kind": "talk"})
            if written.status_code != 503:
                break
            retried.append(n)
        assert written.status_code == 201, written.get_data(as_text=True)
        failed = client.get("/api/fails-while-computing")
        assert failed.status_code == 500, failed.get_data(as_text=True)
        cache.served.__dict__.pop("_computed_by_this_request", None)

    for n in range(WARM_UP):  # the analysis built, the first results computed and frozen
        once(n)
    gc.collect()
    before, frozen_before = rss_mb(), gc.get_freeze_count()
    began = time.perf_counter()
    for n in range(WARM_UP, WARM_UP + failing):
        once(n)
    seconds = time.perf_counter() - began
    gc.collect()
    after = rss_mb()
    cache.close()
    return {"failing": failing, "rss_before_mb": round(before, 1), "rss_after_mb": round(after, 1),
            "grown_mb": round(after - before, 1), "mb_per_failing_request": round((after - before) / failing, 3),
            "frozen_objects_added": gc.get_freeze_count() - frozen_before,
            "payloads_alive": sum(ref() is not None for ref in left[WARM_UP:]),
            "seconds_per_round": round(seconds / failing, 4), "writes_retried_after_a_503": len(retried)}


def print_table(results: dict) -> None:
    print()
    print("Load average (1, 5, 15 min) at the start / end: "
          f"{', '.join(f'{x:.2f}' for x in results['load_average_at_start'])} / "
          f"{', '.join(f'{x:.2f}' for x in results['load_average'])}")
    print(f"| failing requests after writes ({results['rows']:,} small lists each) | current | old |")
    print("| --- | ---: | ---: |")
    cur, old = results["current"], results["old"]
    rows = [("failing requests measured", "failing", "{:,}"),
            ("RSS before, MB", "rss_before_mb", "{:,.1f}"),
            ("RSS after, MB", "rss_after_mb", "{:,.1f}"),
            ("grown, MB", "grown_mb", "{:,.1f}"),
            ("MB per failing request", "mb_per_failing_request", "{:.3f}"),
            ("objects frozen meanwhile", "frozen_objects_added", "{:,}"),
            ("failed requests' payloads still alive", "payloads_alive", "{:,}"),
            ("seconds per round (a write, a failure)", "seconds_per_round", "{:.3f}")]
    for label, key, form in rows:
        print(f"| {label} | {form.format(cur[key])} | {form.format(old[key])} |")


if __name__ == "__main__":
    main()
