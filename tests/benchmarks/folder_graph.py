"""A seed CSV folder as a referral graph, without Neo4j (benchmarks only).

The same graph ``tests/test_backtest_replay.load_folder`` builds (clinicians,
staff, referrers with their point-person tenures from ``handoffs.csv``,
referrals with their clients' needs, population, insurance and schedule,
introductions), built with the analysis builders
(``graphsvc.analysis.graph``), so a benchmark can replay a generated
practice's history in-process. It trusts the generator's files: no
validation (``graphsvc import`` does that), and contacts, external
providers and referrals out are left out (suggestions and stages do not read
them).
"""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import date
from pathlib import Path

from graphsvc.analysis import graph as p


def load_folder(folder) -> object:
    """The referral graph (``networkx.MultiDiGraph``) of a seed CSV folder."""
    def rows(name):
        with open(Path(folder) / name, newline="") as f:
            return list(csv.DictReader(f))

    def split(cell):
        return [x for x in cell.split(";") if x]

    G = p.new_graph()
    for r in rows("clinicians.csv"):
        p.add_member(G, r["id"], name=r["name"], specialties=split(r["specialties"]),
                     populations=split(r["populations"]), insurances=split(r["insurances"]),
                     schedule=split(r["schedule"]), accepting_new=r["accepting_new"] == "true")
    for r in rows("staff.csv"):
        p.add_member(G, r["id"], kind="staff", name=r["name"], role=r["role"])
    handoffs = defaultdict(list)
    for h in rows("handoffs.csv"):
        handoffs[h["referrer_id"]].append((date.fromisoformat(h["date"]), h["point_person_id"]))
    for r in rows("referrers.csv"):
        since = date.fromisoformat(r["since"])
        chain = [(since, r["point_person_id"])] + sorted(handoffs[r["id"]])
        tenures = [(s, chain[i + 1][0] if i + 1 < len(chain) else None, c) for i, (s, c) in enumerate(chain)]
        p.add_referrer(G, r["id"], name=r["name"], referrer_kind=r["kind"], organization=r["organization"],
                       since=since, tenures=tenures)
    clients = {c["id"]: c for c in rows("clients.csv")}
    for r in rows("referrals.csv"):
        c = clients[r["client_id"]]
        p.add_referral(G, r["referrer_id"], r["id"], date.fromisoformat(r["date"]), r["addressed_to"],
                       r["assigned_to"], pass_reason=r["pass_reason"] or None, needs=split(c["needs"]),
                       population=c["population"] or None, insurance=c["insurance"] or None,
                       schedule=c["schedule"] or None)
    for r in rows("introductions.csv"):
        p.add_introduction(G, r["referrer_id"], r["id"], date.fromisoformat(r["date"]), r["introduced_id"],
                           r["by_id"])
    return G
