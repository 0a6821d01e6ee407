"""Analysis benchmark (``make bench``, after the import benchmark has loaded the large practice).

On the large practice (100,000 referrers, 1,000,000 referrals, 500
clinicians) this measures, in one fresh process:

1. the whole analysis: projection from Neo4j, stages, metrics, and the
   batched write-back onto Referrer nodes, with time per step and the
   process's peak memory;
2. suggestions for single referrers from a warm cache: p50 and p95 over a
   seeded sample of 1,000 referrers (the index is built once, timed apart);
3. the naive way, beside it: one Cypher query per referrer, then the same
   stage rules, timed on a sample of 1,000 and extrapolated to all;
4. ``graphsvc stage REFERRER``'s path: project only that referrer's events
   and analyse it, p50 and p95 over a sample of 200, against the whole
   projection it replaced (the ``projection`` step above), checking that
   both give the same stage.

Prints a table and writes ``.bench/analysis.json``. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

from graphsvc.analysis import stage_histories
from graphsvc.analysis.graph import add_member, add_referral, add_referrer, new_graph
from graphsvc.config import AnalysisOptions
from graphsvc.insights import Insights
from graphsvc.live import InsightsCache
from graphsvc.procinfo import peak_rss_mb
from graphsvc.service import Service
from graphsvc.store.db import Graph
from graphsvc.store.projection import project
from tests.benchmarks.server import running_neo4j
from tests.helpers import TEST_QUERIES

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / ".bench"))
    ap.add_argument("--sample", type=int, default=1000)
    ap.add_argument("--heap", default="4g")
    ap.add_argument("--pagecache", default="2g")
    args = ap.parse_args()
    out = Path(args.out)
    data_dir = out / "neo4j"
    if not (data_dir / "data").exists():
        sys.exit(f"{data_dir} holds no database: run the import benchmark first "
                 "(python -m tests.benchmarks.bench_import)")
    with running_neo4j(data_dir, args.heap, args.pagecache) as neo4j:
        results = run(neo4j.graph, args.sample)
    (out / "analysis.json").write_text(json.dumps(results, indent=2, default=str))
    print_table(results)


def run(graph: Graph, sample: int) -> dict:
    options = AnalysisOptions(as_of=None)
    cold = whole_analysis(graph, options)   # right after the server started: page cache cold
    cold.pop("insights")                    # one graph in memory at a time
    warm = whole_analysis(graph, options)   # the same again, as on a running server
    peak_after_analysis = peak_rss_mb()
    insights = warm.pop("insights")
    histories = {r: {"stage": h["stage"], "referrals": h["referrals"]} for r, h in insights.histories.items()}
    edges = insights.G.number_of_edges()
    del insights  # the cache below builds its own: keep one graph in memory at a time
    referrers = sorted(histories)

    # Suggestions the way the web app serves them: from the process's cache.
    cache = InsightsCache(graph, options, check_seconds=3600)
    t = time.perf_counter()
    cache.get()
    cache_build = time.perf_counter() - t
    chosen = random.Random(42).sample(referrers, min(sample, len(referrers)))
    latencies = []
    for r in chosen:
        t = time.perf_counter()
        cache.get().suggestions(r, limit=5)
        latencies.append((time.perf_counter() - t) * 1000)
    latencies.sort()

    naive = naive_stages(graph, chosen, options)
    agree = sum(naive["stages"][r] == histories[r]["stage"] for r in chosen)
    one = one_referrer_stages(graph, chosen[:200], options)
    one_agree = sum(one["stages"][r] == histories[r]["stage"] for r in one["stages"])
    return {
        "referrers": len(referrers),
        "referrals": sum(h["referrals"] for h in histories.values()),
        "edges": edges,
        "cold": cold,
        "warm": warm,
        "peak_rss_mb_after_analysis": peak_after_analysis,
        "cache_build_seconds": round(cache_build, 2),
        "suggestion_ms": {"p50": round(statistics.median(latencies), 2),
                          "p95": round(latencies[int(0.95 * (len(latencies) - 1))], 2),
                          "max": round(latencies[-1], 2), "n": len(latencies)},
        "naive": {"sample": len(chosen), "seconds": round(naive["seconds"], 2),
                  "per_referrer_ms": round(naive["seconds"] / len(chosen) * 1000, 2),
                  "extrapolated_seconds_all": round(naive["seconds"] / len(chosen) * len(referrers), 1),
                  "stages_agree": agree},
        "one_referrer_stage_ms": {**one["ms"], "stages_agree": one_agree},
        "peak_rss_mb": peak_rss_mb(),
    }


def one_referrer_stages(graph: Graph, referrers: list[str], options: AnalysisOptions) -> dict:
    """``graphsvc stage``'s path for each referrer: its own projection, then its analysis."""
    latencies, stages = [], {}
    for r in referrers:
        t = time.perf_counter()
        info = Insights(project(graph, referrers=[r]), options).referrer(r)
        latencies.append((time.perf_counter() - t) * 1000)
        stages[r] = info["stage"]
    latencies.sort()
    return {"stages": stages, "ms": {"p50": round(statistics.median(latencies), 1),
                                     "p95": round(latencies[int(0.95 * (len(latencies) - 1))], 1),
                                     "max": round(latencies[-1], 1), "n": len(latencies)}}


def whole_analysis(graph: Graph, options: AnalysisOptions) -> dict:
    """Projection, stages, metrics and write-back, timed step by step."""
    steps = {}
    began = t = time.perf_counter()
    G = project(graph)
    steps["projection"] = time.perf_counter() - t
    insights = Insights(G, options)
    t = time.perf_counter()
    _ = insights.histories
    steps["stages"] = time.perf_counter() - t
    t = time.perf_counter()
    _ = insights.metrics
    steps["metrics"] = time.perf_counter() - t
    t = time.perf_counter()
    Service(graph, options).store_analysis(insights)
    steps["write_back"] = time.perf_counter() - t
    total = time.perf_counter() - began
    return {"steps_seconds": {k: round(v, 2) for k, v in steps.items()}, "seconds": round(total, 2),
            "insights": insights}


def naive_stages(graph: Graph, referrers: list[str], options: AnalysisOptions) -> dict:
    """One query per referrer, then the same stage rules on a one-referrer graph."""
    began = time.perf_counter()
    stages = {}
    for r in referrers:
        row = graph.read("referrer_referrals", catalog=TEST_QUERIES, id=r)[0]
        G = new_graph()
        tenures = [(s.to_native(), u.to_native() if u else None, c) for s, u, c in row["tenures"]]
        for _, _, c in tenures:
            add_member(G, c)
        add_referrer(G, r, tenures=tenures, since=row["since"].to_native() if row["since"] else None)
        for ref_id, day, addressed, addressed_kind, assigned in row["referrals"]:
            for m, kind in ((assigned, "clinician"), (addressed, addressed_kind)):
                if m != "practice" and m not in G:
                    add_member(G, m, kind=kind)
            add_referral(G, r, ref_id, day.to_native(), addressed, assigned)
        stages[r] = stage_histories(G, [r], window=options.window, as_of=options.day())[r]["stage"]
    return {"seconds": time.perf_counter() - began, "stages": stages}


def print_table(r: dict) -> None:
    print()
    print("| step | cold: first run after the server starts | warm: run again |")
    print("| --- | ---: | ---: |")
    for name in ("projection", "stages", "metrics", "write_back"):
        print(f"| {name.replace('_', ' ')} | {r['cold']['steps_seconds'][name]:.1f} s | "
              f"{r['warm']['steps_seconds'][name]:.1f} s |")
    print(f"| **whole analysis** ({r['referrers']:,} referrers, {r['referrals']:,} referrals) | "
          f"**{r['cold']['seconds']:.1f} s** | **{r['warm']['seconds']:.1f} s** |")
    print()
    q = r["suggestion_ms"]
    n = r["naive"]
    print(f"peak memory after both analyses: {r['peak_rss_mb_after_analysis']:,} MB "
          f"(whole run, with the cached analysis and its suggestion index: {r['peak_rss_mb']:,} MB)")
    print(f"suggestions from the warm cache, {q['n']} referrers: p50 {q['p50']} ms, p95 {q['p95']} ms, "
          f"max {q['max']} ms (cache built in {r['cache_build_seconds']} s)")
    print(f"naive, one Cypher query per referrer: {n['per_referrer_ms']} ms per referrer on {n['sample']}, "
          f"about {n['extrapolated_seconds_all']:,} s for all {r['referrers']:,}; "
          f"stages agree on {n['stages_agree']}/{n['sample']}")
    o = r["one_referrer_stage_ms"]
    print(f"graphsvc stage's path (one referrer's projection and analysis), {o['n']} referrers: "
          f"p50 {o['p50']} ms, p95 {o['p95']} ms, max {o['max']} ms, against "
          f"{r['cold']['steps_seconds']['projection']:.1f} s for the whole projection; "
          f"stages agree on {o['stages_agree']}/{o['n']}")


if __name__ == "__main__":
    main()
