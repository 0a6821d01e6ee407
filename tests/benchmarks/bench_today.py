"""Today and the worklists while writes arrive (``make bench``): server time per request, and the naive way.

At two scales, the demo practice (``seed.generate``: 1,000 referrers, imported
into a fresh Neo4j) and the large one (100,000 referrers: the import
benchmark's database in ``.bench/neo4j``, reused), each in a process of its
own, this serves the app in process (``create_app``, the analysis poller
running every second as under ``graphsvc serve``) and, while a writer thread
records one write a second through the app's own service (a contact, then a
referral, then a task action, in turn: each brings this worker's analysis up
to date, as a form or API write does), times ``--requests`` GETs of each of
``/today``, ``GET /api/today`` and every worklist page, signed in as a
manager, at most four a second (so that every page's requests span several
writes): p50 / p95 / max in ms. Every answer must be a 200.

Then the same again (``--naive-requests`` each), the naive way in the same
run: a write drops the practice-wide results (what every write did before
issue 17), so the first request after it computes every worklist again.

Target (issue 17): p95 at most 200 ms at demo size and 500 ms at 100,000
referrers while writes arrive. Prints a table, writes ``.bench/today.json``.
A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import random
import secrets
import threading
import time
from datetime import date
from pathlib import Path

from tests.benchmarks.bench_pages import SCALES, log, quantiles, run_scales, timed

ROOT = Path(__file__).resolve().parents[2]
TARGET_P95_MS = {"demo": 200, "large": 500}
SEED = 17
PACE_SECONDS = 0.25  # at most four requests a second: 40 of them span ten writes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scales", default=",".join(SCALES), help="comma-separated: demo, large (default: both)")
    ap.add_argument("--requests", type=int, default=40, help="timed requests per page (default 40)")
    ap.add_argument("--naive-requests", type=int, default=10,
                    help="timed requests per page the naive way (default 10: each can take seconds)")
    ap.add_argument("--out", default=str(ROOT / ".bench"))
    args = ap.parse_args()
    # Each scale in a fresh interpreter, Neo4j started as bench_pages starts it.
    print_table(run_scales(ap, args, measure, "today.json"))


def measure(graph, work: Path, args, scale: str) -> dict:
    from argon2 import PasswordHasher

    from graphsvc.accounts import Accounts
    from graphsvc.analysis.worklists import WORKLISTS
    from graphsvc.insights import Insights
    from graphsvc.web import create_app
    from tests.conftest import FAST_HASHER, PASSWORD, sign_in_client
    from tests.helpers import TEST_QUERIES

    accounts = Accounts(work / "accounts.sqlite3", hasher=PasswordHasher(**FAST_HASHER))
    accounts.add_user("manager", "manager", PASSWORD)
    app = create_app({"SECRET_KEY": secrets.token_hex(16)}, graph=graph,
                     settings=graph.settings.with_(web_poll_seconds=1), accounts=accounts)
    cache = app.extensions["insights"]
    cache.snapshot_dir = None
    service = app.extensions["service"]
    try:
        manager = sign_in_client(app, "manager")
        log(scale, "first request: building the analysis")
        timed(manager, "/today")
        insights = cache.served
        urls = ["/today", "/api/today", *(f"/worklists/{name}" for name in WORKLISTS)]
        for url in urls:
            timed(manager, url)  # each page's first request computes what it needs, once
        rng = random.Random(SEED)
        referrers = sorted(insights.histories)
        clinicians = sorted(m for m, a in insights.index.members.items() if a["kind"] == "clinician")
        clients = [r["id"] for r in graph.read("some_clients", catalog=TEST_QUERIES, n=2000)]

        def one_write(n: int) -> None:
            from graphsvc.service import Actor

            by = Actor("bench")
            r = rng.choice(referrers)
            kind = n % 3
            if kind == 0:
                service.record_contact({"date": date.today().isoformat(), "referrer_id": r,
                                        "member_id": rng.choice(clinicians), "kind": "lunch"}, by=by)
            elif kind == 1:
                service.record_referral({"date": date.today().isoformat(), "referrer_id": r,
                                         "client_id": rng.choice(clients), "addressed_to": rng.choice(clinicians)},
                                        by=by)
            else:
                rows = cache.served.worklist("follow-up") or cache.served.worklist("lapsed")
                if rows:
                    row = rng.choice(rows)
                    service.act_on_row("follow-up" if "days_overdue" in row else "lapsed", row,
                                       {"action": "assign", "to": rng.choice(clinicians)}, by=by)

        def run(way: str, requests: int) -> dict:
            stop = threading.Event()
            writes, failed = [], []

            def writer():
                n = 0
                while not stop.wait(1.0):
                    began = time.perf_counter()
                    try:
                        one_write(n)
                    except Exception as e:  # counted and shown: a refused write must not stop the writes
                        failed.append(repr(e)[:200])
                    else:
                        writes.append((time.perf_counter() - began) * 1000)
                    n += 1

            thread = threading.Thread(target=writer, name="bench-writer", daemon=True)
            thread.start()
            out = {}
            try:
                for url in urls:
                    ms = []
                    for _ in range(requests):
                        ms.append(timed(manager, url))
                        # Paced, so that each page's requests span several writes whatever its speed.
                        time.sleep(max(0.0, PACE_SECONDS - ms[-1] / 1000))
                    out[url] = quantiles(ms)
                    log(scale, f"{way} {url}: {out[url]}")
            finally:
                stop.set()
                thread.join(timeout=30)
            out["writes"] = {"n": len(writes), "failed": len(failed), "first_failure": failed[:1],
                             **(quantiles(writes) if writes else {})}
            log(scale, f"{way}: writes {out['writes']}")
            return out

        kept = run("kept up to date", args.requests)
        # The naive way: every write drops the practice-wide results, as before.
        original = Insights.refresh
        Insights.refresh = lambda self, ids, whole=False: set()
        try:
            naive = run("naive (dropped after each write)", args.naive_requests)
        finally:
            Insights.refresh = original
        return {"referrers": len(insights.histories), "requests": args.requests,
                "naive_requests": args.naive_requests,
                "rows": {name: len(rows) for name, rows in cache.served.worklists.items()},
                "kept": kept, "naive": naive, "target_p95_ms": TARGET_P95_MS[scale]}
    finally:
        cache.close()


def print_table(results: dict) -> None:
    print()
    heads = [f"{scale} ({r['referrers']:,} referrers): kept / naive" for scale, r in results.items()]
    print("| p50 / p95 / max, ms, while a write arrives every second | " + " | ".join(heads) + " |")
    print("| --- |" + " ---: |" * len(results))
    urls = list(dict.fromkeys(u for r in results.values() for u in r["kept"] if u != "writes"))
    for url in urls:
        cells = []
        for scale, r in results.items():
            k, n = r["kept"][url], r["naive"][url]
            over = " **over target**" if k["p95"] > TARGET_P95_MS[scale] else ""
            cells.append(f"{k['p50']} / {k['p95']} / {k['max']}{over} · {n['p50']} / {n['p95']} / {n['max']}")
        print(f"| `{url}` | " + " | ".join(cells) + " |")
    print("| writes during the run (each, ms: p50 / p95) | " + " | ".join(
        f"{r['kept']['writes']['n']} ({r['kept']['writes'].get('p50')} / {r['kept']['writes'].get('p95')})"
        for r in results.values()) + " |")
    print()
    for scale, r in results.items():
        worst = max(v["p95"] for u, v in r["kept"].items() if u != "writes")
        print(f"{scale}: worst p95 {worst} ms (target {TARGET_P95_MS[scale]} ms): "
              f"{'met' if worst <= TARGET_P95_MS[scale] else 'NOT met'}")


if __name__ == "__main__":
    main()
