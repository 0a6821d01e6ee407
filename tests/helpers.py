"""Helpers shared by the tests (import them from here, not from conftest)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from graphsvc.store.catalog import Catalog

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")

# Statements only the tests run (wiping the graph, a snapshot of everything).
TEST_QUERIES = Catalog(Path(__file__).parent / "queries")


def own_server_environ(tmp_path: Path) -> dict:
    """The environment of a test's own local Neo4j (one it stops and starts): its data in ``tmp_path``, a free
    port, no browser, a small heap; the shared jar cache when one is set."""
    env = {"GRAPHSVC_CONFIG": os.devnull, "GRAPHSVC_DATA_DIR": str(tmp_path / "neo4j"), "GRAPHSVC_BROWSER": "false",
           "GRAPHSVC_BOLT_PORT": str(free_port()), "GRAPHSVC_NEO4J_HEAP": "512m",
           "GRAPHSVC_NEO4J_PAGECACHE": "64m", "GRAPHSVC_LOG_FILE": str(tmp_path / "log")}
    if os.environ.get("GRAPHSVC_CACHE_DIR"):
        env["GRAPHSVC_CACHE_DIR"] = os.environ["GRAPHSVC_CACHE_DIR"]
    return env


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now (for a test's own Neo4j)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def snapshot(graph, analysis: bool = True) -> tuple:
    """Everything in the graph, in a canonical order (for 'nothing changed' checks).

    ``analysis=False`` leaves out the analysis stored on Referrer nodes (by
    ``graphsvc analyze`` and by every write of a referrer's events): derived,
    not data, so an export does not carry it (for round-trip checks).
    """
    row = graph.read("graph_snapshot", catalog=TEST_QUERIES)[0]
    # The Practice node's change counter, last import and instance id are
    # bookkeeping for the live analysis (graphsvc.live), not data; so is the day the words in use became
    # the vocabularies (graphsvc.store.terms: once per database).
    skip = {"version", "changed_at", "bulk_version", "instance", "vocabularies_adopted"}
    if not analysis:
        from graphsvc.config import AnalysisOptions
        from graphsvc.insights import _unanalysed

        # changed_in: a referrer's place in the change feed, set by writes.
        skip |= set(_unanalysed()) | set(AnalysisOptions().stored()) | {"analysed_at", "changed_in"}
    nodes = sorted(repr((sorted(n["labels"]), sorted((k, v) for k, v in n["props"].items() if k not in skip)))
                   for n in row["nodes"])
    rels = sorted(repr((r["type"], r["start"], r["end"], sorted(r["props"].items())))
                  for r in row["relationships"])
    return tuple(nodes), tuple(rels)


def fixture_path(name: str) -> str:
    return os.path.join(FIXTURES, name)


def service_of(graph, **kwargs):
    """The write service over ``graph``, with its settings' analysis options (``audit``, ``live``: as given)."""
    from graphsvc.service import Service

    return Service(graph, graph.settings.analysis, **kwargs)


def someone():
    """Who writes in a test that is about something else (every right, audited as ``tester``)."""
    from graphsvc.service import Actor

    return Actor("tester")


def add_words(graph, **words):
    """Add words to the practice's vocabularies (``needs=["ocd"], niches=["dbt"]``), as a manager would."""
    from datetime import date

    from graphsvc.store.terms import add_words as store_words

    store_words(graph, [{"vocabulary": name, "value": w} for name, values in words.items() for w in values],
                date(2024, 12, 1))


def import_folder(graph, folder, **options):
    """Import a folder of CSV files through the service, as ``graphsvc import`` does."""
    return service_of(graph).import_folder(folder, by=someone(), **options)


def small_graph():
    """The small fixture folder (tests/fixtures/small), built by hand with the analysis builders.

    ``project()`` of that folder imported into Neo4j must give exactly this
    graph (tests/test_store.py checks it), so pure tests can use it as the
    same practice without a database.
    """
    from datetime import date as d

    from graphsvc.analysis import graph as p

    G = p.new_graph()
    p.add_member(G, "cn1", name="Ana Ruiz", specialties=["anxiety", "adhd"], populations=["child", "adolescent"],
                 insurances=["medicaid", "bcbs"], schedule=["weekday_day", "weekday_evening"])
    p.add_member(G, "cn2", name="Ben Okafor", specialties=["trauma", "depression"], populations=["adult"],
                 insurances=["bcbs", "aetna"], schedule=["weekday_evening", "weekend"])
    p.add_member(G, "cn3", name="Cleo Park", specialties=["autism", "adhd"], populations=["child"],
                 insurances=["medicaid"], schedule=["weekday_day"], accepting_new=False)
    p.add_member(G, "st1", kind="staff", name="Dee Lang", role="intake_coordinator")
    p.add_member(G, "st2", kind="staff", name="Eli Moss", role="office_manager")
    p.add_provider(G, "ep1", name="Riverside Eating Disorders Center", niches=["inpatient_eating_disorders"])
    p.add_provider(G, "ep2", name="County Forensic Services", niches=["forensic_evaluation", "neuropsych_testing"])
    p.add_referrer(G, "rf1", name="Dr. Hale", referrer_kind="pediatrician", organization="Northside Pediatrics",
                   point_person="cn1", since=d(2023, 1, 10))
    p.add_referrer(G, "rf2", name="Ms. Vega", referrer_kind="school_counselor",
                   organization="Lincoln Middle School", since=d(2023, 3, 1),
                   tenures=[(d(2023, 3, 1), d(2024, 1, 15), "cn1"), (d(2024, 1, 15), None, "cn2")])
    p.add_referrer(G, "rf3", name="Rev. Stone", referrer_kind="clergy", organization="First Community Church",
                   point_person="cn2", since=d(2024, 2, 1))
    clients = {
        "cl1": dict(needs=["adhd"], population="child", insurance="medicaid", schedule="weekday_day"),
        "cl2": dict(needs=["anxiety"], population="adolescent", insurance="bcbs"),
        "cl3": dict(needs=["trauma"], population="adult", insurance="aetna", schedule="weekend"),
        "cl4": dict(needs=["adhd", "anxiety"], population="child", insurance="medicaid", schedule="weekday_evening"),
        "cl5": dict(needs=["depression"], population="adult", insurance="bcbs", schedule="weekday_evening"),
        "cl6": dict(needs=["inpatient_eating_disorders"], population="adolescent", insurance="bcbs"),
    }
    for rid, day, referrer, client, addressed, assigned, reason in (
        ("r1", d(2023, 2, 1), "rf1", "cl1", "cn1", "cn1", None),
        ("r2", d(2023, 5, 2), "rf1", "cl4", "cn1", "cn3", "specialty"),
        ("r3", d(2023, 6, 20), "rf2", "cl2", "cn1", "cn1", None),
        ("r4", d(2024, 3, 5), "rf2", "cl5", "cn2", "cn2", None),
        ("r5", d(2024, 4, 1), "rf3", "cl3", "practice", "cn2", None),
        ("r6", d(2024, 5, 1), "rf2", "cl6", "st1", "cn1", None),
    ):
        p.add_referral(G, referrer, rid, day, addressed, assigned, pass_reason=reason, **clients[client])
    p.add_introduction(G, "rf1", "i1", d(2023, 4, 1), "cn3", by="cn1")
    p.add_introduction(G, "rf2", "i2", d(2023, 9, 1), "st1", by="cn1")
    p.add_contact(G, "rf1", "k1", d(2023, 1, 20), "cn1", "lunch")
    p.add_contact(G, "rf2", "k2", d(2023, 3, 15), "cn1", "school_consult")
    p.add_contact(G, "rf3", "k3", d(2024, 2, 10), "cn2", "talk")
    p.add_referral_out(G, "rf2", "o1", d(2024, 5, 3), "ep1", "inpatient_eating_disorders")
    return G


def add_small_team(G) -> None:
    """Four clinicians and an intake coordinator, for the suggestion and match tests.

    ana, ben (adolescents too), dot (not accepting new clients) see children
    with ADHD on Medicaid; cai sees adults for grief on BCBS; eve is staff.
    """
    from graphsvc.analysis import graph as p

    p.add_member(G, "ana", name="Ana", specialties=["adhd"], populations=["child"], insurances=["medicaid"],
                 schedule=["weekday_day"])
    p.add_member(G, "ben", name="Ben", specialties=["adhd", "anxiety"], populations=["child", "adolescent"],
                 insurances=["medicaid"], schedule=["weekday_evening"])
    p.add_member(G, "cai", name="Cai", specialties=["grief"], populations=["adult"], insurances=["bcbs"],
                 schedule=["weekend"])
    p.add_member(G, "dot", name="Dot", specialties=["adhd"], populations=["child"], insurances=["medicaid"],
                 schedule=["weekday_evening"], accepting_new=False)
    p.add_member(G, "eve", name="Eve", kind="staff", role="intake_coordinator")


def clinician(clinician_id: str):
    """A clinician writing about its own cases (its permissions are checked), named after its id."""
    from graphsvc.service import Actor

    return Actor(clinician_id, "clinician", clinician_id)
