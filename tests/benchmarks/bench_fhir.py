"""FHIR benchmark (``make bench``): the demo practice imported from its FHIR export vs from its CSV folder.

1. Generate the demo practice (``seed --scale demo``: 45 clinicians, 1,000
   referrers, 20,000 referrals), cached in ``.bench/demo``.
2. Start a fresh Neo4j of its own (``.bench/neo4j-fhir``, free port).
3. After one CSV import to warm the server up (not counted), import the
   CSV folder (``graphsvc import``), export it as FHIR NDJSON
   (``graphsvc export --format fhir``), empty the graph, import the FHIR
   export (``graphsvc import --format fhir``); three times each, alternating, into
   an empty graph each time, every import its own process (its peak memory
   its own).
4. Export the FHIR-imported graph as CSV and count the mapped columns that
   differ from the CSV-imported one's (the round trip, as the test checks it
   on the same practice).

The issue's target: a FHIR import takes at most twice its CSV import. Prints
a table and writes ``.bench/fhir.json``. A benchmark, not a test: it asserts
nothing.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from graphsvc.procinfo import peak_rss_mb
from graphsvc.store.schema import init_schema
from tests.benchmarks.server import running_neo4j
from tests.helpers import TEST_QUERIES

ROOT = Path(__file__).resolve().parents[2]
RUNS = 3


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / ".bench"))
    ap.add_argument("--heap", default="2g")
    ap.add_argument("--pagecache", default="512m")
    args = ap.parse_args()
    out = Path(args.out)
    demo = out / "demo"
    if not (demo / "referrals.csv").exists():
        from seed.generate import generate

        generate(demo, scale="demo")
    data_dir = out / "neo4j-fhir"
    shutil.rmtree(data_dir, ignore_errors=True)
    fhir, csv_back = out / "demo-fhir", out / "demo-from-fhir"
    results: dict = {"csv": [], "fhir": []}
    with running_neo4j(data_dir, args.heap, args.pagecache) as neo4j:
        init_schema(neo4j.graph)
        env = {**neo4j.env, "GRAPHSVC_DATA_DIR": str(out / "fhir-data")}  # the client-id key: the bench's own
        graphsvc(env, "import", str(demo))  # a warm-up, not counted: a new server's first import is slower
        for run in range(RUNS):
            wipe(neo4j)
            results["csv"].append(graphsvc(env, "import", str(demo)))
            if run == 0:
                began = time.perf_counter()
                results["export"] = graphsvc(env, "export", str(fhir), "--format", "fhir")
                results["export"]["wall_seconds"] = round(time.perf_counter() - began, 3)
            wipe(neo4j)
            results["fhir"].append(graphsvc(env, "import", str(fhir), "--format", "fhir"))
        graphsvc(env, "export", str(csv_back))
        results["neo4j_peak_rss_mb"] = peak_rss_mb(neo4j.server.pid())
    results["round_trip_differences"] = differences(demo, csv_back)
    (out / "fhir.json").write_text(json.dumps(results, indent=2))
    print_table(results)


def wipe(neo4j) -> None:
    neo4j.graph.write("wipe_graph", catalog=TEST_QUERIES)
    neo4j.graph.write("practice_node", catalog=TEST_QUERIES)


def graphsvc(env: dict, *args: str) -> dict:
    """One ``graphsvc`` process with ``--json``; its answer and its wall time."""
    began = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "graphsvc", *args, "--json"], env=env, capture_output=True,
                          text=True)
    wall = time.perf_counter() - began
    if proc.returncode != 0:
        raise SystemExit(f"graphsvc {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    report = json.loads(proc.stdout)
    report["wall_seconds"] = round(wall, 3)
    print(f"graphsvc {' '.join(args)}: {wall:.1f}s", flush=True)
    return report


def differences(demo: Path, back: Path) -> int:
    """Cells of the mapped columns that differ between the demo's CSV and the FHIR round trip's."""
    from tests.fhir_round_trip import mapped_differences

    return len(mapped_differences(demo, back))


def print_table(results: dict) -> None:
    print()
    print("| import of the demo practice | wall s (each run) | peak RSS (import process) |")
    print("| --- | ---: | ---: |")
    for label, key in (("CSV folder", "csv"), ("FHIR NDJSON export", "fhir")):
        runs = results[key]
        walls = ", ".join(f"{r['wall_seconds']:.1f}" for r in runs)
        print(f"| {label} | {walls} | "
              f"{max(r['peak_rss_mb'] for r in runs):,} MB |")
    best_csv = min(r["wall_seconds"] for r in results["csv"])
    best_fhir = min(r["wall_seconds"] for r in results["fhir"])
    print()
    print(f"FHIR / CSV import time (best of {RUNS} each, after a warm-up): {best_fhir / best_csv:.2f}x "
          "(target: at most 2x); "
          f"export as FHIR {results['export']['wall_seconds']:.1f}s; mapped cells that differ after the round "
          f"trip: {results['round_trip_differences']}; Neo4j peak RSS {results['neo4j_peak_rss_mb']:,} MB")


if __name__ == "__main__":
    main()
