"""The store layer: every catalog statement plans, and the projection's schema."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import networkx as nx
import pytest

from graphsvc.store import catalog
from graphsvc.store.projection import project
from tests.helpers import TEST_QUERIES, fixture_path, import_folder, small_graph

ROOT = Path(__file__).resolve().parent.parent
PARAMETER = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


def _planned(graph, text: str) -> str:
    """EXPLAIN ``text`` with every parameter bound to null; return the plan's query type."""
    params = {name: None for name in PARAMETER.findall(text)}
    with graph.session(write=True) as s:
        summary = s.run("EXPLAIN " + text, params).consume()
    return summary.query_type


@pytest.mark.parametrize("name", [n for n in catalog.names() if n != "schema"])
def test_every_app_statement_plans_on_the_real_neo4j(graph, name):
    # EXPLAIN compiles and plans the statement without running it: a typo, a
    # missing label or a removed function fails here, not in a user's import.
    kind = _planned(graph, catalog.query(name))
    expected = "r" if name.startswith(("project_", "export_", "existing_", "referral_parties", "current_",
                                       "practice_totals",
                                       "referrer_overview")) else None
    if expected:
        assert kind == expected, f"{name} should be read-only, plans as {kind!r}"


def test_schema_statements_plan(graph):
    for text in catalog.statements("schema"):
        if text.startswith("MERGE"):
            assert _planned(graph, text) in ("w", "rw")


@pytest.mark.parametrize("name", TEST_QUERIES.names())
def test_every_test_statement_plans(graph, name):
    assert _planned(graph, TEST_QUERIES.query(name))


def test_projection_of_the_small_fixture_equals_the_hand_built_graph(graph):
    import_folder(graph, fixture_path("small"))
    projected, built = project(graph), small_graph()
    # Not tuned: nothing stored, so the default suggestion weights are in force (analysis.tuning.in_force).
    assert projected.graph.pop("stored_weights") is None
    assert dict(projected.nodes(data=True)) == dict(built.nodes(data=True))
    assert sorted(projected.edges(keys=True, data=True), key=lambda e: e[2]) == \
        sorted(built.edges(keys=True, data=True), key=lambda e: e[2])
    assert nx.utils.graphs_equal(projected, built)


def test_app_statement_names_are_all_run_somewhere_by_their_literal_name():
    """"Who runs upsert_contacts?" is one grep: every name appears quoted in the package."""
    source = "\n".join(p.read_text() for p in (ROOT / "graphsvc").rglob("*.py"))
    unused = [n for n in catalog.names() if f'"{n}"' not in source]
    assert unused == []


def test_the_catalog_is_found_inside_an_installed_wheel(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path / "dist"),
                    str(ROOT)], check=True, capture_output=True)
    (wheel,) = (tmp_path / "dist").glob("graphsvc-*.whl")
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        z.extractall(tmp_path / "site")
    package = ROOT / "graphsvc"
    wanted = {f"graphsvc/queries/app/{n}.cypher" for n in catalog.names()}
    wanted |= {str(p.relative_to(ROOT)) for folder in ("web/templates", "web/static")
               for p in (package / folder).rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    # every module of the package (a new subpackage must be listed in pyproject's packages)
    wanted |= {str(p.relative_to(ROOT)) for p in package.rglob("*.py") if "__pycache__" not in p.parts}
    assert wanted - set(names) == set()
    probe = ("from graphsvc.store.catalog import queries_dir, query; "
             "print(queries_dir()); print(query('schema').splitlines()[0])")
    out = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True,
                         env={"PYTHONPATH": str(tmp_path / "site"), "PATH": "/usr/bin:/bin"}, check=True)
    folder, first = out.stdout.splitlines()
    assert folder == str(tmp_path / "site" / "graphsvc" / "queries")
    assert first.startswith("// The referral graph's constraints")
