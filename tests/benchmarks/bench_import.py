"""Import benchmark (``make bench``): batched import at scale vs one row per transaction.

1. Generate the large synthetic practice (``seed --scale large``: 500
   clinicians, 100,000 referrers, 1,000,000 referrals, ~2.8 M rows in all),
   cached in ``.bench/large`` between runs.
2. Start a fresh Neo4j of its own (``.bench/neo4j``, free port).
3. The naive way: a 10,000-referral sample (with the clients, referrers and
   members it needs) imported one row per transaction (``--batch-size 1
   --workers 1``), then the same sample the normal way, into an empty graph each.
4. The whole large folder through ``graphsvc import``.

Every import runs as its own ``python -m graphsvc import`` process, so its
peak memory is that process's alone. Prints a table and writes
``.bench/import.json``. This is a benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import csv
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / ".bench"))
    ap.add_argument("--sample", type=int, default=10_000, help="referrals in the naive comparison")
    ap.add_argument("--heap", default="4g")
    ap.add_argument("--pagecache", default="2g")
    args = ap.parse_args()
    out = Path(args.out)
    large = out / "large"
    if not (large / "referrals.csv").exists():
        from seed.generate import generate

        began = time.perf_counter()
        generate(large, scale="large")
        print(f"generated the large practice in {time.perf_counter() - began:.1f}s", flush=True)
    sample = make_sample(large, out / "sample", args.sample)

    data_dir = out / "neo4j"
    shutil.rmtree(data_dir, ignore_errors=True)
    results = {}
    with running_neo4j(data_dir, args.heap, args.pagecache) as neo4j:
        init_schema(neo4j.graph)
        results["naive_sample"] = run_import(sample, neo4j.env, "--batch-size", "1", "--workers", "1")
        neo4j.graph.write("wipe_graph", catalog=TEST_QUERIES)
        results["batched_sample"] = run_import(sample, neo4j.env)
        neo4j.graph.write("wipe_graph", catalog=TEST_QUERIES)
        results["large"] = run_import(large, neo4j.env)
        results["neo4j_peak_rss_mb"] = peak_rss_mb(neo4j.server.pid())
    (out / "import.json").write_text(json.dumps(results, indent=2))
    print_table(results, args)


def make_sample(large: Path, folder: Path, n: int) -> Path:
    """The first ``n`` referrals and exactly the rows they refer to."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(large / "referrals.csv", newline="") as f:
        rows = list(csv.reader(f))
    header, referrals = rows[0], rows[1:n + 1]
    col = {c: i for i, c in enumerate(header)}
    need = {"referrers.csv": {r[col["referrer_id"]] for r in referrals},
            "clients.csv": {r[col["client_id"]] for r in referrals}}
    write_csv(folder / "referrals.csv", header, referrals)
    for name in ("clinicians.csv", "staff.csv"):
        shutil.copy(large / name, folder / name)
    for name, ids in need.items():
        with open(large / name, newline="") as f:
            rows = list(csv.reader(f))
        write_csv(folder / name, rows[0], [r for r in rows[1:] if r[0] in ids])
    return folder


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def run_import(folder: Path, env: dict, *extra: str) -> dict:
    """One ``graphsvc import`` process; it reports its own peak memory (VmHWM)."""
    began = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "graphsvc", "import", str(folder), "--json", *extra],
                          env=env, capture_output=True, text=True)
    wall = time.perf_counter() - began
    if proc.returncode != 0:
        raise SystemExit(f"import of {folder} failed:\n{proc.stdout}\n{proc.stderr}")
    report = json.loads(proc.stdout)
    report["wall_seconds"] = round(wall, 3)
    print(f"imported {folder.name}: {report['written']:,} rows in {wall:.1f}s", flush=True)
    return report


def print_table(results: dict, args) -> None:
    def rate(report, name="referrals.csv"):
        f = report["files"][name]
        return f["written"] / f["seconds"] if f["seconds"] else float("nan")

    naive, batched, large = results["naive_sample"], results["batched_sample"], results["large"]
    n_ref = large["files"]["referrals.csv"]["written"]
    print()
    print("| run | referrals | referrals/s (referrals.csv write) | all rows | all rows/s (wall) | wall s "
          "| peak RSS (import process) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for label, r in (("one row per transaction, sample", naive), ("batched, same sample", batched),
                     ("batched, large practice", large)):
        print(f"| {label} | {r['files']['referrals.csv']['written']:,} | {rate(r):,.0f} | {r['written']:,} | "
              f"{r['written'] / r['wall_seconds']:,.0f} | {r['wall_seconds']:.1f} | {r['peak_rss_mb']:,} MB |")
    print()
    print(f"large: validation {large['validate_seconds']:.1f}s; end to end {n_ref / large['wall_seconds']:,.0f} "
          f"referrals/s counting every file's rows in the time; batched vs naive on the sample: "
          f"{rate(batched) / rate(naive):.0f}x; Neo4j peak RSS {results['neo4j_peak_rss_mb']} MB "
          f"(heap {args.heap}, page cache {args.pagecache})")
    print("per file (large):")
    for name, f in large["files"].items():
        print(f"  {name:<24} {f['written']:>9,} rows  {f['seconds']:>7.1f}s  "
              f"{f['written'] / f['seconds'] if f['seconds'] else 0:>9,.0f} rows/s")


if __name__ == "__main__":
    main()
