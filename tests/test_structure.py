"""The package's structure, read from its source with ``ast``: data flows one way, each layer minds its own.

* No import circles among graphsvc's modules, counting imports inside functions.
* ``config`` knows nothing of the analysis or of servers.
* ``store/`` is the only caller of the Cypher catalog, and the only importer of the Neo4j driver.
* Every write goes through ``service``: nothing else imports the store's writes.
* ``insights`` does no database I/O; the web and the CLI ask ``Insights``, never its graph or index.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "graphsvc"


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _imports(name: str) -> set[str]:
    """The graphsvc modules ``name`` imports, anywhere in it (inside functions too).

    ``from . import x`` names module ``x`` when there is one, else the package;
    a module's parent packages are not counted (importing a.b runs a's
    ``__init__`` first, which is Python's order, not a dependency).
    """
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            targets = [f"{module}.{a.name}" if f"{module}.{a.name}" in MODULES else module for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


GRAPH = nx.DiGraph()
for _name in MODULES:
    GRAPH.add_node(_name)
    GRAPH.add_edges_from((_name, target) for target in _imports(_name))


def test_the_import_graph_is_read_from_the_source():
    # A hand-picked fact of each kind: a module-level import, one inside a function, a relative one.
    assert "graphsvc.store.writes" in _imports("graphsvc.service")
    assert "graphsvc.live" in _imports("graphsvc.cli.analysis")  # imported inside the commands
    assert "graphsvc.rules" in _imports("graphsvc.checks")


def test_no_module_imports_itself_round_a_circle():
    circles = sorted(sorted(c) for c in nx.strongly_connected_components(GRAPH) if len(c) > 1)
    assert circles == []


@pytest.mark.parametrize("module, never", [
    # config: settings only; nothing of the analysis, the live analysis, the store or the servers.
    ("graphsvc.config", ("graphsvc.analysis", "graphsvc.insights", "graphsvc.live", "graphsvc.store",
                         "graphsvc.localdb", "graphsvc.web", "graphsvc.cli", "graphsvc.service")),
    # The lowest floor: nothing of graphsvc at all.
    ("graphsvc.limits", ("graphsvc",)),
    ("graphsvc.vocabulary", ("graphsvc",)),
    ("graphsvc.errors", ("graphsvc",)),
    # The rules and the records know nothing of where data is kept or shown.
    ("graphsvc.rules", ("graphsvc.store", "graphsvc.analysis", "graphsvc.web", "graphsvc.cli")),
    ("graphsvc.checks", ("graphsvc.store", "graphsvc.analysis", "graphsvc.web", "graphsvc.cli")),
    ("graphsvc.records", ("graphsvc.store", "graphsvc.analysis", "graphsvc.web", "graphsvc.cli")),
    # insights: the results of one analysis; no database I/O.
    ("graphsvc.insights", ("graphsvc.store", "graphsvc.live", "graphsvc.service", "graphsvc.web")),
    # The standards: FHIR's mapping, resources, reading and pseudonyms are pure (no database, no service);
    # the importers hand records to the service, and nothing of them knows the web or the command line.
    ("graphsvc.fhir.mapping", ("graphsvc.store", "graphsvc.service", "graphsvc.web", "graphsvc.cli")),
    ("graphsvc.fhir.resources", ("graphsvc.store", "graphsvc.service", "graphsvc.web", "graphsvc.cli")),
    ("graphsvc.fhir.reading", ("graphsvc.store", "graphsvc.service", "graphsvc.web", "graphsvc.cli")),
    ("graphsvc.fhir.pseudonym", ("graphsvc.store", "graphsvc.service", "graphsvc.web", "graphsvc.cli")),
    ("graphsvc.fhir.importer", ("graphsvc.web", "graphsvc.cli")),
    ("graphsvc.fhir.exporter", ("graphsvc.web", "graphsvc.cli", "graphsvc.service")),
    ("graphsvc.hsds", ("graphsvc.web", "graphsvc.cli")),
    ("graphsvc.keys", ("graphsvc.store", "graphsvc.config", "graphsvc.accounts")),
])
def test_each_floor_imports_only_from_below(module, never):
    reached = nx.descendants(GRAPH, module)
    assert sorted(m for m in reached if m.startswith(never)) == []


def test_the_analysis_never_touches_the_database():
    reached = set().union(*(nx.descendants(GRAPH, m) | {m} for m in MODULES if m.startswith("graphsvc.analysis")))
    assert sorted(m for m in reached if m.startswith(("graphsvc.store", "graphsvc.live", "graphsvc.web"))) == []


def _outside(folder: str):
    return [(name, path) for name, path in MODULES.items() if not name.startswith(folder)]


def test_only_the_store_reads_the_cypher_catalog_and_talks_to_the_driver():
    offenders = []
    for name, path in _outside("graphsvc.store"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                if any(n == "neo4j" or n.startswith("neo4j.") for n in names):
                    offenders.append((name, "imports the neo4j driver"))
                if "graphsvc.store.catalog" in _imports(name) and name not in offenders:
                    offenders.append((name, "imports the catalog"))
            # graph.read("name") / graph.write("name"): a catalog statement run by name.
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("read", "write") and node.args
                    and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                offenders.append((name, f"runs {node.args[0].value!r}"))
    # The local server's own check that Bolt answers uses the driver directly (no graph yet).
    assert sorted(set(offenders)) == [("graphsvc.localdb.server", "imports the neo4j driver")]


def test_every_write_goes_through_the_service():
    writers = sorted(name for name in MODULES if "graphsvc.store.writes" in _imports(name)
                     and not name.startswith("graphsvc.store"))
    assert writers == ["graphsvc.service"]
    weights = sorted(name for name in MODULES if "graphsvc.store.weights" in _imports(name)
                     and not name.startswith("graphsvc.store"))
    assert weights == ["graphsvc.cli.config", "graphsvc.service"]  # config show reads them; the service stores


def test_pages_and_commands_ask_insights_never_its_graph():
    offenders = []
    for name, path in MODULES.items():
        if not name.startswith(("graphsvc.web", "graphsvc.cli")):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and (node.attr == "G" or (
                    node.attr == "index" and isinstance(node.value, ast.Name) and node.value.id == "insights")):
                offenders.append((name, node.lineno, node.attr))
    assert offenders == []
