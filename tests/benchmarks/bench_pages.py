"""Web pages benchmark (``make bench``): server time per page, first paint in Chromium, memory.

At two scales, the demo practice (``seed.generate``, 1,000 referrers, imported
into a fresh Neo4j) and the large one (100,000 referrers, 1,000,000
referrals: the import benchmark's database in ``.bench/neo4j``, reused, never
rebuilt), each in a process of its own (so that its peak memory is its own),
this measures:

1. **Server time per page**, in process: ``create_app`` over the benchmark's
   Neo4j (the analysis poller running every second, as under ``graphsvc
   serve``), Flask's test client signed in through ``/login`` as a manager
   (a clinician for ``/my-referrers``). The first request (``/``) builds the
   analysis: reported on its own, with the build alone
   (``InsightsCache.last_build_seconds``). Then every URL gets one warm-up
   request (its "first" time: the aggregates a page needs are computed once,
   on first use) and ``--requests`` timed ones; p50/p95/max in ms. Pages
   about one referrer or clinician cycle over ``SAMPLED`` of them, drawn with
   a fixed seed. Every answer must be a 200.

   The network is two pages: ``/network``, one point person's group (the
   point person of the most referrers, for a manager), its picture's data
   in the page itself; and ``/network?whole=1``, the whole network, a page
   whose picture's data is fetched from ``/api/network`` (timed on its own).

   Beside them, the naive way, for what the cached analysis buys: the
   stalled worklist with the worklists computed again for every request
   (``Insights.worklists`` dropped before each, so ``analysis.worklists``
   runs per request, as before it was cached), and ``/api/network`` with
   its layout recomputed per request (``Insights.layout`` and
   ``Insights.network`` dropped: ``network_layout`` from scratch plus
   ``network_elements``; at 100,000 referrers, the aggregate).
2. **First paint in headless Chromium** (Playwright, the system's Chromium
   as the browser tests find it): the same app served over HTTP by
   Werkzeug in a thread, signed in through the login form, then the time
   from ``page.goto`` to the picture drawn, median of ``--paints`` loads
   after one warm-up load: ``/network`` (the group, drawn from the page
   without a fetch) and ``/network?whole=1`` (the whole network, drawn
   after its ``/api/network`` fetch, whose arrival is reported too) each
   until its Cytoscape container has ``data-drawn``
   (``static/js/network.js``; the value is the number of nodes drawn), and
   the dashboard until every ``canvas[data-chart]`` has ``data-drawn="1"``
   (``static/js/charts.js``). The whole network's mode (``full`` or
   ``aggregate``) comes from ``/api/network``; at 100,000 referrers it must
   be the aggregate.
3. **Memory**: the scale's process's peak resident memory
   (``graphsvc.procinfo.peak_rss_mb``) at the end.

Targets (issue 9): every page's p95 at most 200 ms at demo size and 500 ms at
100,000 referrers; the network's first paint at most 2 s at demo size (both
network pages are held to it).

Prints a table and writes ``.bench/pages.json``. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import secrets
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from multiprocessing import get_context
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCALES = ("demo", "large")
TARGET_P95_MS = {"demo": 200, "large": 500}
TARGET_NETWORK_PAINT_S = {"demo": 2.0}
SAMPLED = 5  # referrers and clinicians each page about one of them cycles over
SEED = 9
# When the whole network's page had its data: the rest of its first paint is the browser drawing it.
API_NETWORK_LOADED = ("() => performance.getEntriesByType('resource')"
                      ".filter(e => e.name.endsWith('/api/network'))[0].responseEnd")
CHART_DRAWN = ("() => { const c = document.querySelectorAll('canvas[data-chart]');"
               " return c.length > 0 && Array.from(c).every(e => e.getAttribute('data-drawn') === '1'); }")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scales", default=",".join(SCALES), help="comma-separated: demo, large (default: both)")
    ap.add_argument("--requests", type=int, default=30, help="timed requests per page (default 30)")
    ap.add_argument("--naive-requests", type=int, default=10,
                    help="timed requests per naive comparison (default 10)")
    ap.add_argument("--paints", type=int, default=5, help="browser loads per page, after a warm-up (default 5)")
    ap.add_argument("--out", default=str(ROOT / ".bench"))
    args = ap.parse_args()
    results = run_scales(ap, args, measure, "pages.json")
    print_table(results)


def run_scales(ap, args, measure, name: str) -> dict:
    """Each of ``--scales`` measured by ``measure`` in a fresh interpreter (so that its peak memory is
    that scale's alone); the results, also written to ``--out``/``name``."""
    scales = [s.strip() for s in args.scales.split(",") if s.strip()]
    if not scales or set(scales) - set(SCALES):
        ap.error(f"--scales takes {', '.join(SCALES)}; got {args.scales!r}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if "large" in scales and not (out / "neo4j" / "data").exists():
        sys.exit(f"{out / 'neo4j'} holds no database: run the import benchmark first")
    results = {}
    for scale in scales:
        with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
            results[scale] = pool.submit(run_scale, scale, vars(args), measure).result()
    (out / name).write_text(json.dumps(results, indent=2))
    return results


def run_scale(scale: str, options: dict, measure=None) -> dict:
    """Start the scale's Neo4j (the demo imported afresh, or the large one reused), ``measure(graph, work,
    args, scale)`` (this module's by default), stop it; the scale's results."""
    from tests.benchmarks.server import running_neo4j

    measure = measure or globals()["measure"]
    args = argparse.Namespace(**options)
    work = Path(tempfile.mkdtemp(prefix=f"graphsvc-bench-{scale}-"))
    try:
        if scale == "demo":
            from graphsvc.store.schema import init_schema
            from seed.generate import generate
            from tests.helpers import import_folder

            generate(work / "demo", seed=42)
            with running_neo4j(work / "neo4j", "1g", "256m") as neo4j:
                init_schema(neo4j.graph)
                import_folder(neo4j.graph, work / "demo")
                return measure(neo4j.graph, work, args, scale)
        with running_neo4j(Path(args.out) / "neo4j", "4g", "2g") as neo4j:
            return measure(neo4j.graph, work, args, scale)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def measure(graph, work: Path, args, scale: str) -> dict:
    from argon2 import PasswordHasher

    from graphsvc.accounts import Accounts
    from graphsvc.procinfo import peak_rss_mb
    from graphsvc.web import create_app
    from tests.conftest import FAST_HASHER, PASSWORD, sign_in_client

    accounts = Accounts(work / "accounts.sqlite3", hasher=PasswordHasher(**FAST_HASHER))
    accounts.add_user("manager", "manager", PASSWORD)
    # No snapshots (a warm start is bench_live's), the poller as `graphsvc serve` runs it.
    app = create_app({"SECRET_KEY": secrets.token_hex(16)}, graph=graph, settings=graph.settings.with_(
        web_poll_seconds=1), accounts=accounts)
    cache = app.extensions["insights"]
    cache.snapshot_dir = None
    try:
        manager = sign_in_client(app, "manager")
        log(scale, "first request: building the analysis")
        first_ms = timed(manager, "/")
        insights = cache.served
        rng = random.Random(SEED)
        referrers = rng.sample(sorted(insights.histories), SAMPLED)
        clinicians = sorted(m for m, a in insights.index.members.items() if a["kind"] == "clinician")
        sampled_clinicians = rng.sample(clinicians, min(SAMPLED, len(clinicians)))
        # /my-referrers for the clinician with the most referrers: the longest such page. (Counted
        # here rather than read from Insights.member_activity, which a page's first request computes.)
        referrers_of = Counter(row["point_person_id"] for row in insights.referrer_rows)
        busiest = max(clinicians, key=lambda m: (referrers_of[m], m))
        accounts.add_user("clinician", "clinician", PASSWORD, busiest)
        clinician = sign_in_client(app, "clinician")

        pages = [
            ("dashboard", manager, ["/"]),
            ("referrer list", manager, ["/referrers"]),
            ("referrer page", manager, [f"/referrers/{r}" for r in referrers]),
            ("worklist: stalled", manager, ["/worklists/stalled"]),
            ("worklist: follow-up", manager, ["/worklists/follow-up"]),
            ("worklist: new, by name", manager, ["/worklists/new?sort=name"]),
            ("worklist: stalled, CSV download", manager, ["/worklists/stalled?format=csv"]),
            ("clinician page", manager, [f"/clinicians/{c}" for c in sampled_clinicians]),
            ("my referrers (busiest clinician)", clinician, ["/my-referrers"]),
            ("network page: one point person's group", manager, ["/network"]),
            ("network page: the whole network (?whole=1)", manager, ["/network?whole=1"]),
            ("network data (/api/network, for ?whole=1)", manager, ["/api/network"]),
            ("outreach", manager, ["/outreach"]),
            ("coverage", manager, ["/coverage"]),
            ("practice", manager, ["/practice"]),
            ("suggestions (API)", manager, [f"/api/referrers/{r}/suggestions" for r in referrers]),
        ]
        timings = {}
        for label, client, urls in pages:
            first = [timed(client, url) for url in urls]
            ms = [timed(client, urls[i % len(urls)]) for i in range(args.requests)]
            timings[label] = {"urls": urls, "first_ms": round(max(first), 1), **quantiles(ms)}
            log(scale, f"{label}: {timings[label]}")

        # The naive way: the same requests with the cached result dropped before each.
        naive = {
            "naive: worklist: stalled, the worklists computed per request":
                (manager, "/worklists/stalled", ("worklists",)),
            "naive: network data, its layout computed per request":
                (manager, "/api/network", ("layout", "network")),
        }
        for label, (client, url, dropped) in naive.items():
            ms = []
            for _ in range(args.naive_requests):
                for name in dropped:
                    cache.served.__dict__.pop(name, None)
                ms.append(timed(client, url))
            timings[label] = {"urls": [url], "naive": True, **quantiles(ms)}
            log(scale, f"{label}: {timings[label]}")

        network = manager.get("/api/network").get_json()
        if scale == "large" and network["mode"] != "aggregate":
            raise SystemExit(f"/api/network is in {network['mode']} mode at {len(insights.histories):,} referrers")
        with serving(app) as base_url:
            paints = first_paints(base_url, args.paints)
        log(scale, f"first paint: {paints}")
        worklist_rows = {name: len(rows) for name, rows in cache.served.worklists.items()}
        return {
            "referrers": len(insights.histories),
            "members": len(insights.index.members),
            "first_request_ms": round(first_ms, 1),
            "analysis_build_seconds": round(cache.last_build_seconds, 2),
            "pages": timings,
            "network": {"mode": network["mode"], "nodes": len(network["nodes"]), "edges": len(network["edges"]),
                        "drawn_nodes": paints["network_whole"]["drawn_nodes"],
                        "group_drawn_nodes": paints["network"]["drawn_nodes"]},
            "first_paint": paints,
            "worklist_rows": worklist_rows,
            "peak_rss_mb": peak_rss_mb(),
            "requests": args.requests,
            "target_p95_ms": TARGET_P95_MS[scale],
        }
    finally:
        cache.close()


def timed(client, url: str) -> float:
    """One GET through the test client, in ms; it must answer 200."""
    began = time.perf_counter()
    answer = client.get(url)
    answer.get_data()  # a streamed body (a CSV download) is produced here
    took = (time.perf_counter() - began) * 1000
    if answer.status_code != 200:
        raise SystemExit(f"GET {url} answered {answer.status_code}: {answer.get_data(as_text=True)[:500]}")
    return took


@contextmanager
def serving(app):
    """``app`` over HTTP on 127.0.0.1 (a free port), as tests/browser's ``live_server``; its base URL."""
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="bench_pages", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def first_paints(base_url: str, loads: int) -> dict:
    """Seconds from ``page.goto`` to each network page's picture drawn (``network``: one point person's
    group; ``network_whole``: ``?whole=1``, with when its ``/api/network`` data arrived), and to the
    dashboard's charts drawn (median of ``loads``)."""
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM, NO_CHROMIUM, sign_in_through_form

    if CHROMIUM is None:
        raise SystemExit(f"no browser for the first-paint measurement: {NO_CHROMIUM}")
    launch_args = ["--disable-dev-shm-usage"] + (["--no-sandbox"] if os.geteuid() == 0 else [])
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=launch_args)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.on("weberror", lambda e: errors.append(str(e.error)))
            page = context.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            sign_in_through_form(page, base_url, "manager")

            def network() -> tuple[float, str]:
                """One point person's group: its picture's data is in the page, nothing is fetched."""
                began = time.perf_counter()
                page.goto(f"{base_url}/network")
                drawn = page.wait_for_selector("#network[data-drawn]", state="attached", timeout=120_000)
                return time.perf_counter() - began, drawn.get_attribute("data-drawn")

            def network_whole() -> tuple[float, str]:
                """The whole network: the page, then its data fetched from /api/network, then drawn."""
                began = time.perf_counter()
                page.goto(f"{base_url}/network?whole=1")
                drawn = page.wait_for_selector("#network[data-drawn]", state="attached", timeout=120_000)
                took = time.perf_counter() - began
                fetched.append(page.evaluate(API_NETWORK_LOADED) / 1000)
                return took, drawn.get_attribute("data-drawn")

            def dashboard() -> tuple[float, int]:
                began = time.perf_counter()
                page.goto(f"{base_url}/")
                page.wait_for_function(CHART_DRAWN, timeout=120_000)
                return time.perf_counter() - began, page.locator("canvas[data-chart]").count()

            fetched: list[float] = []  # seconds from navigation start to /api/network received
            out = {}
            for name, load in (("network", network), ("network_whole", network_whole), ("dashboard", dashboard)):
                load()  # warm-up: the browser's cache of the scripts, the server's of the page
                runs = [load() for _ in range(loads)]
                seconds = [s for s, _ in runs]
                out[name] = {"median_s": round(statistics.median(seconds), 2), "max_s": round(max(seconds), 2),
                             "runs_s": [round(s, 2) for s in seconds]}
                out[name]["charts" if name == "dashboard" else "drawn_nodes"] = int(runs[-1][1])
            out["network_whole"]["data_received_median_s"] = round(statistics.median(fetched[1:]), 2)
            out["browser_errors"] = errors
            return out
        finally:
            browser.close()


def quantiles(ms: list[float]) -> dict:
    ms = sorted(ms)
    return {"p50": round(statistics.median(ms), 1), "p95": round(ms[int(0.95 * (len(ms) - 1))], 1),
            "max": round(ms[-1], 1), "n": len(ms)}


def log(scale: str, message: str) -> None:
    print(f"[{scale}] {message}", flush=True)


def print_table(results: dict) -> None:
    print()
    print("| | " + " | ".join(f"{name} ({r['referrers']:,} referrers, {r['members']} members)"
                              for name, r in results.items()) + " |")
    print("| --- |" + " ---: |" * len(results))
    print("| first request (analysis build) | " + " | ".join(
        f"{r['first_request_ms'] / 1000:.1f} s (build {r['analysis_build_seconds']} s)" for r in results.values())
        + " |")
    labels = list(dict.fromkeys(label for r in results.values() for label in r["pages"]))
    for label in labels:
        cells = []
        for scale, r in results.items():
            t = r["pages"].get(label)
            cell = "" if t is None else "{p50} / {p95} / {max} ms".format(**t)
            if t is not None and not t.get("naive") and t["p95"] > TARGET_P95_MS[scale]:
                cell += " **over target**"
            cells.append(cell)
        print(f"| {label}: p50 / p95 / max | " + " | ".join(cells) + " |")
    print("| network page (one point person's group) first paint (Chromium): median / max | " + " | ".join(
        f"{r['first_paint']['network']['median_s']} / {r['first_paint']['network']['max_s']} s "
        f"({r['first_paint']['network']['drawn_nodes']:,} nodes)" for r in results.values()) + " |")
    print("| whole network (?whole=1) first paint (Chromium): median / max | " + " | ".join(
        f"{r['first_paint']['network_whole']['median_s']} / {r['first_paint']['network_whole']['max_s']} s "
        f"({r['network']['mode']}, {r['network']['drawn_nodes']:,} nodes; data received at "
        f"{r['first_paint']['network_whole']['data_received_median_s']} s)" for r in results.values()) + " |")
    print("| dashboard first paint (Chromium): median / max | " + " | ".join(
        f"{r['first_paint']['dashboard']['median_s']} / {r['first_paint']['dashboard']['max_s']} s "
        f"({r['first_paint']['dashboard']['charts']} charts)" for r in results.values()) + " |")
    print("| peak memory of the process | " + " | ".join(f"{r['peak_rss_mb']:,} MB" for r in results.values()) + " |")
    print()
    for scale, r in results.items():
        print(verdict(scale, r))


def verdict(scale: str, r: dict) -> str:
    """One line: the scale's targets met or missed (and any browser errors)."""
    target = TARGET_P95_MS[scale]
    over = [label for label, t in r["pages"].items() if not t.get("naive") and t["p95"] > target]
    parts = [f"p95 target {target} ms: " + (f"missed by {', '.join(over)}" if over else "met")]
    paint = TARGET_NETWORK_PAINT_S.get(scale)
    if paint is not None:
        for name, what in (("network", "network (group)"), ("network_whole", "whole network")):
            parts.append(f"{what} first paint target {paint} s: "
                         + ("met" if r["first_paint"][name]["median_s"] <= paint else "missed"))
    if r["first_paint"]["browser_errors"]:
        parts.append(f"browser errors: {r['first_paint']['browser_errors']}")
    return f"{scale}: " + "; ".join(parts)

if __name__ == "__main__":
    main()
