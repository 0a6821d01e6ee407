"""API writes while Neo4j restarts (``make bench``): the web's bounded graph against the old, naive one.

Issue 19. An attacker's probe found writes waiting 12.6-15.6 s while the
server restarted. The web now connects with ``Graph.connect(settings,
retry_seconds=WEB_RETRY_SECONDS, wait_seconds=WEB_WAIT_SECONDS)``: short
connection and acquisition timeouts, and no statement started past
``wait_seconds`` (``Graph._bounded``), so a write that cannot reach Neo4j is
a 503 at once. The old way, measured in the same run against the same
server, is ``Graph.connect(settings, retry_seconds=15)`` without
``wait_seconds`` (the driver's 10 s connection timeout, 60 s acquisition
timeout, retries for 15 s).

A Neo4j of its own (``tests.benchmarks.server``) holds the small fixture
practice (``tests/fixtures/small``). Two apps are made with ``create_app``
against it, one per graph (``graph=``), each with an API token
(``Accounts.create_token``). For each, ``--cycles`` times, the variants in
turn (bounded, naive, bounded, naive, so that neither meets a quieter
machine): one thread posts contacts to ``POST /api/contacts`` one after the
other, 0.2 s after each answer (a different date each, so none is a
duplicate); 1 s in, the server is stopped (``LocalServer.stop``: SIGTERM,
waited for), 3 s later started again, and the stream goes on until a write
after the start is answered 201, then 1 s more.

Reported per variant: the writes' count, the 201s and 503s (anything else
is counted as ``other`` and shown), p50 / p95 / max seconds of the 503s,
max seconds of the 201s, and whether exactly the writes answered 201 are
stored (the contacts read back at the end: none answered 503 was written,
none answered 201 was lost). Prints a table, writes ``.bench/restart.json``.
A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import secrets
import shutil
import statistics
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# One contact a day, across every variant and cycle (the same contact twice is refused), from after rf3's
# relationship began (2024-02-01) to before today: room for 900 writes, three times what a run makes.
FIRST_DAY = date(2024, 3, 1)
PAUSE_SECONDS = 0.2
DOWN_SECONDS = 3.0
VARIANTS = ("bounded", "naive")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cycles", type=int, default=2, help="server stop + start per variant (default 2)")
    ap.add_argument("--out", default=str(ROOT / ".bench"))
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results = measure(args.cycles)
    (out / "restart.json").write_text(json.dumps(results, indent=2))
    print_table(results)


def log(message: str) -> None:
    print(f"[restart] {message}", flush=True)


def measure(cycles: int) -> dict:
    from argon2 import PasswordHasher

    from graphsvc.accounts import Accounts
    from graphsvc.store.db import Graph
    from graphsvc.web import create_app
    from graphsvc.web.http import WEB_RETRY_SECONDS, WEB_WAIT_SECONDS
    from tests.benchmarks.server import small_practice
    from tests.conftest import FAST_HASHER, PASSWORD

    load_at_start = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="graphsvc-bench-restart-"))
    try:
        with small_practice(work) as (neo4j, settings):
            accounts = Accounts(work / "accounts.sqlite3", hasher=PasswordHasher(**FAST_HASHER))
            accounts.add_user("manager", "manager", PASSWORD)
            graphs = {"bounded": Graph.connect(settings, retry_seconds=WEB_RETRY_SECONDS,
                                               wait_seconds=WEB_WAIT_SECONDS),
                      "naive": Graph.connect(settings, retry_seconds=15)}
            clients = {}
            for way, graph in graphs.items():
                app = create_app({"TESTING": True, "SECRET_KEY": secrets.token_hex(16)}, graph=graph,
                                 settings=settings, accounts=accounts)
                app.logger.setLevel(logging.ERROR)  # each 503 is logged as a warning: counted here instead
                client = app.test_client()
                client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {accounts.create_token('manager', way)[1]}"
                clients[way] = client
            counter = iter(range(10**6))
            for way, client in clients.items():  # warm up: each app's analysis built, the statements planned
                for attempt in range(10):  # the first writes plan their statements and may meet the bound once
                    answer = post(client, way, next(counter), f"ct-{way}-warm{attempt}")
                    if answer[1] == 201:
                        break
                else:
                    raise SystemExit(f"{way}: no write answered 201 in 10 warm-up attempts: {answer}")
            runs = {way: [] for way in VARIANTS}
            for cycle in range(cycles):
                for way in VARIANTS:
                    log(f"{way}, cycle {cycle + 1} of {cycles}: stop + start while writing")
                    runs[way].append(one_cycle(neo4j.server, clients[way], way, counter))
                    log(f"{way}: {summary(runs[way][-1]['writes'])}")
            reader = Graph.connect(settings)
            stored = {row["id"] for row in reader.read("export_contacts")}
            reader.close()
            results = {"wait_seconds": WEB_WAIT_SECONDS, "web_retry_seconds": WEB_RETRY_SECONDS,
                       "naive_retry_seconds": 15, "cycles": cycles, "load_average_at_start": load_at_start,
                       "load_average": os.getloadavg()}
            for way in VARIANTS:
                writes = [w for run in runs[way] for w in run["writes"]]
                answered_201 = {w["id"] for w in writes if w["status"] == 201}
                kept = {i for i in stored if i.startswith(f"ct-{way}-") and "warm" not in i}
                results[way] = {**summary(writes),
                                "exactly_the_201s_stored": kept == answered_201,
                                "stored_not_201": sorted(kept - answered_201),
                                "201_not_stored": sorted(answered_201 - kept),
                                "cycles": [{k: v for k, v in run.items() if k != "writes"} | summary(run["writes"])
                                           for run in runs[way]],
                                "answers": writes}
            for graph in graphs.values():
                graph.close()
            return results
    finally:
        shutil.rmtree(work, ignore_errors=True)


def post(client, way: str, n: int, ident: str | None = None) -> tuple[str, int, float, str]:
    """Contact ``n`` written through the API: its id, the answer's status, seconds and the start of its body."""
    ident = ident or f"ct-{way}-{n}"
    day = FIRST_DAY + timedelta(n)
    if day >= date.today():
        raise SystemExit(f"{n} writes: no day left between {FIRST_DAY} and today for another contact")
    started = time.monotonic()
    answer = client.post("/api/contacts", json={"id": ident, "date": str(day), "referrer_id": "rf3",
                                                "member_id": "cn1", "kind": "talk"})
    return ident, answer.status_code, time.monotonic() - started, answer.get_data(as_text=True)[:160]


def one_cycle(server, client, way: str, counter) -> dict:
    """Writes streamed through one server stop + start; every answer, and when the server went and came back."""
    writes: list[dict] = []
    stop = threading.Event()
    t0 = time.monotonic()

    def writer():
        while not stop.is_set():
            began = time.monotonic() - t0
            try:
                ident, status, seconds, body = post(client, way, next(counter))
            except Exception as e:  # shown: a write that raises must not end the stream
                ident, status, seconds, body = "?", "raised", time.monotonic() - t0 - began, repr(e)[:160]
            writes.append({"id": ident, "at": round(began, 3), "status": status, "seconds": round(seconds, 3),
                           "body": body if status != 201 else ""})
            time.sleep(PAUSE_SECONDS)

    thread = threading.Thread(target=writer, name=f"bench-writer-{way}", daemon=True)
    thread.start()
    try:
        time.sleep(1)
        stopping = time.monotonic() - t0
        server.stop()
        stopped = time.monotonic() - t0
        time.sleep(DOWN_SECONDS)
        server.start(timeout=300, echo=lambda m: None)
        started = time.monotonic() - t0
        while time.monotonic() - t0 < started + 240:
            if any(w["status"] == 201 and w["at"] >= started for w in writes):
                break
            time.sleep(0.1)
        back = min((w["at"] + w["seconds"] for w in writes
                    if w["status"] == 201 and w["at"] + w["seconds"] >= started), default=None)
        time.sleep(1)
    finally:
        stop.set()
        thread.join()
    return {"stop_began_at": round(stopping, 2), "stopped_at": round(stopped, 2), "started_at": round(started, 2),
            "first_201_answered_after_start_at": None if back is None else round(back, 2),
            "ended_at": round(time.monotonic() - t0, 2), "writes": writes}


def summary(writes: list[dict]) -> dict:
    ok = sorted(w["seconds"] for w in writes if w["status"] == 201)
    down = sorted(w["seconds"] for w in writes if w["status"] == 503)
    other = [w for w in writes if w["status"] not in (201, 503)]
    return {"writes": len(writes), "201": len(ok), "503": len(down), "other": len(other),
            "other_examples": [(w["status"], w["body"]) for w in other[:3]],
            "503_p50_s": round(statistics.median(down), 2) if down else None,
            "503_p95_s": round(down[int(0.95 * (len(down) - 1))], 2) if down else None,
            "503_max_s": round(down[-1], 2) if down else None,
            "201_max_s": round(ok[-1], 2) if ok else None,
            "503_bodies": sorted({re.sub(r"bolt://\S+? ", "<uri> ", w["body"])[:90]
                                  for w in writes if w["status"] == 503})}


def back_after(cycle: dict) -> str:
    back = cycle["first_201_answered_after_start_at"]
    return "—" if back is None else f"{back - cycle['started_at']:.1f}"


def print_table(results: dict) -> None:
    print()
    print("Load average (1, 5, 15 min) at the start / end: "
          f"{', '.join(f'{x:.2f}' for x in results['load_average_at_start'])} / "
          f"{', '.join(f'{x:.2f}' for x in results['load_average'])}")
    print("| writes through a server stop + start | bounded (the web's) | naive (retry 15 s, no wait bound) |")
    print("| --- | ---: | ---: |")
    rows = [("cycles", lambda r: str(len(r["cycles"]))),
            ("writes", lambda r: str(r["writes"])),
            ("answered 201 / 503 / other", lambda r: f"{r['201']} / {r['503']} / {r['other']}"),
            ("503s: p50 / p95 / max s", lambda r: f"{r['503_p50_s']} / {r['503_p95_s']} / {r['503_max_s']}"),
            ("201s: max s", lambda r: str(r["201_max_s"])),
            ("exactly the 201s stored", lambda r: "yes" if r["exactly_the_201s_stored"] else
             f"NO ({len(r['stored_not_201'])} stored not 201, {len(r['201_not_stored'])} 201 not stored)"),
            ("first 201 answered, s after the start (per cycle)", lambda r: ", ".join(map(back_after, r["cycles"]))),
            ("server stopping / down / starting, s (per cycle)", lambda r: ", ".join(
                f"{c['stopped_at'] - c['stop_began_at']:.1f} / {DOWN_SECONDS:g} / "
                f"{c['started_at'] - c['stopped_at'] - DOWN_SECONDS:.1f}" for c in r["cycles"]))]
    for label, cell in rows:
        print(f"| {label} | {cell(results['bounded'])} | {cell(results['naive'])} |")
    for way in VARIANTS:
        for status, body in results[way]["other_examples"]:
            print(f"{way}: other answer {status}: {body}")
        print(f"{way}: 503 bodies: {results[way]['503_bodies']}")


if __name__ == "__main__":
    main()
