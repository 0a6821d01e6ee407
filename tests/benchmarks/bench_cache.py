"""Memory of the analysis cache over repeated rebuilds (``make bench``).

A web worker rebuilds its cached analysis whenever the graph changes. The
cached graph is ``gc.freeze()``-d (so full collections skip its millions of
objects), and frozen objects are never collected: a rebuild that drops the
old graph without thawing it first keeps the old graph's reference cycles
for ever. This benchmark imports the demo practice into a fresh Neo4j and
forces 25 rebuilds twice in one process: first the way the cache did it
before (freeze, never thaw), then the way it does now
(``graphsvc.live.InsightsCache``: build aside, swap, thaw, collect, freeze), and
reports the process's resident memory after the first and the last rebuild.

Target: 25 rebuilds leave the worker within 15% of its size after the first.
Prints a table and writes ``.bench/cache.json``. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import gc
import json
import shutil
import tempfile
import time
from pathlib import Path

from graphsvc.insights import Insights
from graphsvc.live import InsightsCache
from graphsvc.store import projection
from graphsvc.store.reads import changes_since
from graphsvc.store.schema import init_schema
from tests.benchmarks.server import running_neo4j
from tests.helpers import import_folder

ROOT = Path(__file__).resolve().parents[2]


def rss_mb() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024)
    return 0


def frozen_never_thawed(graph, rebuilds: int) -> list[int]:
    """The cache's rebuild before this fix: drop the old analysis, build, freeze."""
    sizes, current = [], None
    for _ in range(rebuilds):
        current = None
        fresh = Insights(projection.project(graph), graph.settings.analysis, changes_since(graph).version)
        _ = fresh.index
        gc.freeze()
        current = fresh
        sizes.append(rss_mb())
    del current
    return sizes


def cache_now(graph, rebuilds: int) -> tuple[list[int], float]:
    """The live analysis's forced rebuilds: built aside in the background, swapped in, the old one collected."""
    cache = InsightsCache(graph, graph.settings.analysis, refresh_seconds=0)
    sizes, seconds = [], []
    for n in range(rebuilds):
        t = time.perf_counter()
        if n == 0:
            # What a worker holds once it has served its first pages, as every
            # rebuilt analysis holds from the start: stages and metrics computed.
            first = cache.get()
            _ = first.histories, first.metrics
            del first
        else:
            cache.refresh()
            cache.wait_for_rebuild()
        seconds.append(time.perf_counter() - t)
        sizes.append(rss_mb())
    assert cache.full_builds == rebuilds
    return sizes, sorted(seconds)[len(seconds) // 2]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / ".bench"))
    ap.add_argument("--rebuilds", type=int, default=25)
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="graphsvc-bench-cache-"))
    try:
        from seed.generate import generate

        generate(work / "demo", seed=42)
        with running_neo4j(work / "neo4j", "1g", "256m") as neo4j:
            init_schema(neo4j.graph)
            import_folder(neo4j.graph, work / "demo")
            # The fixed way first, so the leak of the old way cannot inflate it.
            now_sizes, median_build = cache_now(neo4j.graph, args.rebuilds)
            gc.unfreeze()
            gc.collect()
            before_sizes = frozen_never_thawed(neo4j.graph, args.rebuilds)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    results = {
        "rebuilds": args.rebuilds,
        "now": {"first_mb": now_sizes[0], "last_mb": now_sizes[-1], "sizes_mb": now_sizes,
                "growth": round(now_sizes[-1] / now_sizes[0] - 1, 3), "median_rebuild_seconds": round(median_build, 2)},
        "before": {"first_mb": before_sizes[0], "last_mb": before_sizes[-1],
                   "growth": round(before_sizes[-1] / before_sizes[0] - 1, 3)},
    }
    (out / "cache.json").write_text(json.dumps(results, indent=2))
    print()
    print(f"| demo practice, {args.rebuilds} forced rebuilds | after the first | after the last | growth |")
    print("| --- | ---: | ---: | ---: |")
    for name, label in (("before", "freeze, never thaw (before)"),
                        ("now", "build aside, swap, thaw, collect, freeze (now)")):
        r = results[name]
        print(f"| {label} | {r['first_mb']} MB | {r['last_mb']} MB | {r['growth']:+.0%} |")
    print(f"median rebuild: {results['now']['median_rebuild_seconds']} s; "
          f"after each rebuild (now): {' '.join(map(str, now_sizes))} MB")


if __name__ == "__main__":
    main()
