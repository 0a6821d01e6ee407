"""Live analysis benchmark (``make bench``): writes applied in place against full rebuilds.

At two scales, the demo practice (generated and imported into a fresh Neo4j)
and the large one (100,000 referrers, 1,000,000 referrals: the import
benchmark's database), this measures:

1. **Applying one write** in one process: a referral or contact is written
   (``graphsvc.store.writes``), then ``InsightsCache.update()`` reads the
   change feed, projects the one referrer and applies it in place. p50/p95/max
   over ``--writes`` writes to seeded random referrers, with the stages and
   metrics checked against a one-referrer analysis. Beside it, the naive way:
   one full build of the analysis (what every write cost before).
2. **Another process's write served by a web worker**: ``graphsvc serve``
   runs as its own process (its poller reads the change feed every second);
   this process writes a referral, then asks ``/api/referrers/<id>`` every
   20 ms until the new count shows. p50/p95/max over ``--served`` writes,
   and ``/api/status`` must still say one full build.
3. **Warm start**: the server is stopped and started again over the same
   snapshot folder (with a few writes made in between); time from starting
   the process to its first answer, against the first server's cold start.

Prints a table and writes ``.bench/live.json``. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import date
from pathlib import Path

from graphsvc.accounts import Accounts
from graphsvc.insights import Insights
from graphsvc.live import InsightsCache
from graphsvc.procinfo import peak_rss_mb
from graphsvc.store.projection import project
from tests.benchmarks.server import running_neo4j
from tests.helpers import TEST_QUERIES, free_port, service_of, someone

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / ".bench"))
    ap.add_argument("--writes", type=int, default=200)
    ap.add_argument("--served", type=int, default=20)
    ap.add_argument("--skip-large", action="store_true")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results = {}
    work = Path(tempfile.mkdtemp(prefix="graphsvc-bench-live-"))
    try:
        from graphsvc.store.schema import init_schema
        from seed.generate import generate
        from tests.helpers import import_folder

        generate(work / "demo", seed=42)
        with running_neo4j(work / "neo4j", "1g", "256m") as neo4j:
            init_schema(neo4j.graph)
            import_folder(neo4j.graph, work / "demo")
            results["demo"] = scenario(neo4j, work / "demo-snapshots", args)
        large = out / "neo4j"
        if not args.skip_large:
            if not (large / "data").exists():
                sys.exit(f"{large} holds no database: run the import benchmark first")
            with running_neo4j(large, "4g", "2g") as neo4j:
                results["large"] = scenario(neo4j, work / "large-snapshots", args)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    (out / "live.json").write_text(json.dumps(results, indent=2))
    print_table(results)


def scenario(neo4j, snapshots: Path, args) -> dict:
    graph = neo4j.graph
    rng = random.Random(7)
    cache = InsightsCache(graph, graph.settings.analysis, check_seconds=3600)
    began = time.perf_counter()
    live = cache.get()
    full_build = time.perf_counter() - began
    _ = live.histories, live.metrics  # computed, so each update recomputes its referrers' too
    # Writes through the service without a live analysis: the update below reads the change feed, as a
    # web worker's poller does for another process's write.
    service = service_of(graph)
    referrers = sorted(live.histories)
    clinicians = sorted(m for m, a in live.index.members.items() if a["kind"] == "clinician")
    client = graph.read("first_client", catalog=TEST_QUERIES)[0]["id"]
    today = date.today()
    tag = f"{int(time.time())}"

    # 1. One write, then its update in this process.
    timings, in_memory, checked = [], [], 0
    for i in range(args.writes):
        r = rng.choice(referrers)
        if i % 2:
            service.record_referral({"id": f"bl{tag}-{i}", "date": today, "referrer_id": r, "client_id": client,
                                     "addressed_to": rng.choice(clinicians)}, by=someone())
        else:
            service.record_contact({"id": f"bc{tag}-{i}", "date": today, "referrer_id": r,
                                    "member_id": rng.choice(clinicians), "kind": "lunch"}, by=someone())
        t = time.perf_counter()
        assert cache.update() == "applied"
        timings.append((time.perf_counter() - t) * 1000)
        in_memory.append(cache.last_apply_seconds * 1000)
        if i % 20 == 0:  # the in-place result equals the referrer analysed on its own
            alone = Insights(project(graph, referrers=[r]), cache.options)
            assert (live.histories[r], live.metrics[r]) == (alone.histories[r], alone.metrics[r]), r
            checked += 1
    assert cache.full_builds == 1
    apply = _quantiles(timings)
    del cache, live

    # 2. and 3. A web worker in its own process.
    port = free_port()
    accounts_db = snapshots.parent / f"accounts-{port}.sqlite3"
    accounts = Accounts(accounts_db)
    accounts.add_user("bench", "analyst", secrets.token_urlsafe(16))
    global TOKEN
    TOKEN = accounts.create_token("bench", "bench_live")[1]
    env = {**neo4j.env, "GRAPHSVC_CONFIG": os.devnull, "GRAPHSVC_SNAPSHOT_DIR": str(snapshots),
           "GRAPHSVC_ACCOUNTS_DB": str(accounts_db), "GRAPHSVC_WEB_POLL_SECONDS": "1",
           "GRAPHSVC_LOG_FILE": str(snapshots.parent / f"serve-{port}.log")}
    probe = rng.choice(referrers)
    server, cold_start = start_server(env, port, probe)
    try:
        served = []
        for i in range(args.served):
            r = rng.choice(referrers)
            before = get_json(port, f"/api/referrers/{r}")["metrics"]["referrals"]
            service.record_referral({"id": f"bs{tag}-{i}", "date": today, "referrer_id": r, "client_id": client,
                                     "addressed_to": rng.choice(clinicians)}, by=someone())
            t = time.perf_counter()
            while get_json(port, f"/api/referrers/{r}")["metrics"]["referrals"] != before + 1:
                if time.perf_counter() - t > 30:
                    raise SystemExit(f"the web worker did not show the write to {r} within 30 s")
                time.sleep(0.02)
            served.append((time.perf_counter() - t) * 1000)
        status = get_json(port, "/api/status")
        wait_for_snapshot(snapshots)
    finally:
        stop_server(server)
    for i in range(5):  # changes the warm start must catch up with
        service.record_contact({"id": f"bw{tag}-{i}", "date": today, "referrer_id": rng.choice(referrers),
                                "member_id": rng.choice(clinicians), "kind": "talk"}, by=someone())
    server, warm_start = start_server(env, port, probe)
    try:
        warm_status = get_json(port, "/api/status")
    finally:
        stop_server(server)
    return {
        "referrers": len(referrers),
        "full_build_seconds": round(full_build, 2),
        "apply_one_write_ms": apply,
        "apply_in_memory_ms": _quantiles(in_memory),
        "checked_against_one_referrer_analysis": checked,
        "served_by_web_worker_ms": _quantiles(served),
        "web_worker": {"full_builds": status["full_builds"], "incremental_updates": status["incremental_updates"],
                       "rss_mb": status["rss_mb"]},
        "cold_start_seconds": round(cold_start, 2),
        "warm_start_seconds": round(warm_start, 2),
        "warm_start": {"warm_starts": warm_status["warm_starts"], "full_builds": warm_status["full_builds"],
                       "incremental_updates": warm_status["incremental_updates"],
                       "build_seconds": warm_status["last_build_seconds"]},
        "bench_peak_rss_mb": peak_rss_mb(),
    }


def start_server(env: dict, port: int, probe: str) -> tuple[subprocess.Popen, float]:
    """``graphsvc serve`` in its own process; seconds from starting it to its first answer about ``probe``."""
    began = time.perf_counter()
    server = subprocess.Popen([sys.executable, "-m", "graphsvc", "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    while True:
        if server.poll() is not None:
            raise SystemExit(f"graphsvc serve exited with {server.returncode}; see {env['GRAPHSVC_LOG_FILE']}")
        try:
            get_json(port, f"/api/referrers/{probe}", timeout=300)
            return server, time.perf_counter() - began
        except urllib.error.HTTPError:
            stop_server(server)
            raise
        except OSError:  # not listening yet
            time.sleep(0.1)
        if time.perf_counter() - began > 600:
            stop_server(server)
            raise SystemExit("graphsvc serve did not answer within 10 minutes")


def stop_server(server: subprocess.Popen) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


TOKEN = ""  # an analyst's API token, made in the server's accounts file (scenario)


def get_json(port: int, path: str, timeout: float = 30) -> dict:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(request, timeout=timeout) as answer:
        return json.load(answer)


def wait_for_snapshot(folder: Path, timeout: float = 300) -> None:
    """The first server saves its snapshot after its first answer: wait until it is there."""
    began = time.perf_counter()
    while not any(folder.glob("*.pickle")):
        if time.perf_counter() - began > timeout:
            raise SystemExit(f"no snapshot in {folder} after {timeout} s")
        time.sleep(0.2)


def _quantiles(ms: list[float]) -> dict:
    ms = sorted(ms)
    return {"p50": round(statistics.median(ms), 1), "p95": round(ms[int(0.95 * (len(ms) - 1))], 1),
            "max": round(ms[-1], 1), "n": len(ms)}


def print_table(results: dict) -> None:
    print()
    print("| | " + " | ".join(f"{name} ({r['referrers']:,} referrers)" for name, r in results.items()) + " |")
    print("| --- |" + " ---: |" * len(results))
    rows = [
        ("apply one write in place (read feed, project, apply): p50 / p95 / max",
         lambda r: "{p50} / {p95} / {max} ms".format(**r["apply_one_write_ms"])),
        ("of which applying it to the analysis in memory: p50 / p95 / max",
         lambda r: "{p50} / {p95} / {max} ms".format(**r["apply_in_memory_ms"])),
        ("naive: a full build per write", lambda r: f"{r['full_build_seconds']} s"),
        ("another process's write served by the web worker: p50 / p95 / max",
         lambda r: "{p50} / {p95} / {max} ms".format(**r["served_by_web_worker_ms"])),
        ("web worker's full builds after those writes", lambda r: str(r["web_worker"]["full_builds"])),
        ("web worker: cold start to first answer", lambda r: f"{r['cold_start_seconds']} s"),
        ("web worker: warm start (snapshot + changes since) to first answer",
         lambda r: f"{r['warm_start_seconds']} s (load and catch up {r['warm_start']['build_seconds']} s)"),
        ("web worker memory", lambda r: f"{r['web_worker']['rss_mb']:,.0f} MB"),
    ]
    for label, cell in rows:
        print(f"| {label} | " + " | ".join(cell(r) for r in results.values()) + " |")


if __name__ == "__main__":
    main()
