"""Likely duplicate referrers (``make bench``): the blocked search against every pair, at 1,000 to 100,000.

Issue 18. ``graphsvc.analysis.duplicates.likely_duplicate_referrers`` compares
only referrers that share a block (a surname; a first word and the
organization's first letters). This benchmark builds practices of 1,000,
10,000 and 100,000 referrers with the seed generator's names and
organizations (``seed.generate._referrer_identity``: 96 first names and 93
surnames, so a surname block holds about 1 in 93 referrers, a harder case
than real surnames), and records 2% of them a second time the way people
do: a title or a degree added or dropped, one letter of the first name
changed, the organization shortened or left out. It reports, at each size:

* the blocked search's time and peak memory (``tracemalloc``), the pairs it
  lists, and the share of the planted twins among them (recall);
* the naive way, every pair compared (``rapidfuzz.process.cdist`` over all
  names, then the organizations of the pairs whose names agree), where it
  fits: its time at 1,000 and 10,000, and the planted twins it finds (the
  blocked search should find the same); at 100,000 it would hold a
  10^10-cell matrix (40 GB), so it is not run, and the cells it would
  compare are printed instead.

No Neo4j: the search reads only the analysed graph's referrer names. Run:
``python -m tests.benchmarks.bench_duplicates [--sizes 1000,10000,100000]``.
"""

from __future__ import annotations

import argparse
import random
import time
import tracemalloc

import networkx as nx
import numpy as np
from rapidfuzz import fuzz, process

from graphsvc.analysis.duplicates import _bare_organization, bare_name, likely_duplicate_referrers
from seed.generate import REFERRER_KINDS, _referrer_identity

TWINS = 0.02


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)
    return word[:i] + rng.choice("aeiou") + word[i + 1:]


def twin_of(name: str, organization: str, rng: random.Random) -> tuple[str, str]:
    """How a second record of one referrer tends to be typed."""
    words = name.split()
    change = rng.randrange(4)
    if change == 0:  # a title added or dropped
        name = " ".join(words[1:]) if words[0].endswith(".") or words[0] in ("Pastor", "Father", "Rabbi", "Imam") \
            else "Dr. " + name
    elif change == 1:  # a degree added
        name = name + rng.choice((", MD", ", LCSW", " PhD", ", DO"))
    elif change == 2:  # a letter of the first name
        first = 1 if words[0].endswith(".") or len(words) > 2 else 0
        words[first] = _typo(words[first], rng)
        name = " ".join(words)
    organization = rng.choice((organization, organization.rsplit(" ", 1)[0], ""))
    return name, organization


def practice(size: int, seed: int = 42) -> tuple[nx.Graph, set[tuple[str, str]]]:
    """``size`` referrers, 2% of them recorded twice; the planted pairs."""
    rng = random.Random(seed)
    G = nx.Graph()
    planted = set()
    originals = int(size / (1 + TWINS))
    for i in range(originals):
        name, organization = _referrer_identity(rng, rng.choice(REFERRER_KINDS))
        G.add_node(f"r{i:06}", kind="referrer", name=name, organization=organization)
    for j in range(size - originals):
        source = f"r{rng.randrange(originals):06}"
        name, organization = twin_of(G.nodes[source]["name"], G.nodes[source]["organization"], rng)
        twin = f"t{j:06}"
        G.add_node(twin, kind="referrer", name=name, organization=organization)
        planted.add(tuple(sorted((source, twin))))
    return G, planted


def naive(G: nx.Graph, *, min_name: float = 88.0, min_organization: float = 80.0) -> set[tuple[str, str]]:
    """Every pair of names compared (one matrix), then the organizations of the pairs that agree."""
    ids = sorted(n for n, d in G.nodes(data=True) if d.get("kind") == "referrer")
    names = [bare_name(G.nodes[n]["name"]) for n in ids]
    orgs = [_bare_organization(G.nodes[n]["organization"]) for n in ids]
    scores = process.cdist(names, names, scorer=fuzz.token_sort_ratio, score_cutoff=min_name, dtype=np.float32,
                           workers=-1)
    found = set()
    for i, j in zip(*np.nonzero(np.triu(scores, k=1)), strict=True):
        if not names[i] or (orgs[i] and orgs[j] and fuzz.token_set_ratio(orgs[i], orgs[j]) < min_organization):
            continue
        found.add((ids[i], ids[j]))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    args = parser.parse_args()
    print(f"{'referrers':>10} {'blocked s':>10} {'peak MB':>8} {'pairs':>7} {'recall':>7} "
          f"{'naive s':>8} {'naive recall':>12} {'same pairs':>10}")
    for size in (int(s) for s in args.sizes.split(",")):
        G, planted = practice(size)
        tracemalloc.start()
        began = time.perf_counter()
        pairs = likely_duplicate_referrers(G)
        blocked_seconds = time.perf_counter() - began
        peak = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
        found = {p["ids"] for p in pairs}
        recall = len(found & planted) / len(planted)
        if size <= 10_000:
            began = time.perf_counter()
            every = naive(G)
            naive_seconds = f"{time.perf_counter() - began:8.2f}"
            naive_recall = f"{len(every & planted) / len(planted):12.1%}"
            same = f"{len(found & every) / max(1, len(every)):10.1%}"
        else:
            naive_seconds, naive_recall = f"{'—':>8}", f"{size * size:12.1e}"  # the cells it would compare
            same = f"{'—':>10}"
        print(f"{size:>10,} {blocked_seconds:10.2f} {peak:8.1f} {len(pairs):>7,} {recall:7.1%} "
              f"{naive_seconds} {naive_recall} {same}")


if __name__ == "__main__":
    main()
