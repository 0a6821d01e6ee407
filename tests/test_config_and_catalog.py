"""Settings precedence and the Cypher catalog (no database needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from graphsvc.config import Settings
from graphsvc.errors import GraphsvcError
from graphsvc.localdb.discovery import password
from graphsvc.store import catalog


def test_defaults_then_environment_then_overrides(tmp_path):
    s = Settings.load(environ={})
    assert (s.uri, s.neo4j_user, s.neo4j_database, s.manages_local_server) == (
        "bolt://127.0.0.1:7687", "neo4j", "neo4j", True)
    s = Settings.load(environ={"GRAPHSVC_BOLT_PORT": "7700", "GRAPHSVC_DATA_DIR": str(tmp_path)})
    assert (s.uri, s.data_dir) == ("bolt://127.0.0.1:7700", tmp_path)
    s = Settings.load(environ={"NEO4J_URI": "neo4j://db.example:7687", "GRAPHSVC_BOLT_PORT": "7700"},
                      bolt_port=7800)
    assert (s.uri, s.manages_local_server, s.bolt_port) == ("neo4j://db.example:7687", False, 7800)


def test_bad_number_names_the_variable():
    with pytest.raises(GraphsvcError, match="GRAPHSVC_BOLT_PORT must be a whole number, got 'seven'"):
        Settings.load(environ={"GRAPHSVC_BOLT_PORT": "seven"})


def test_every_setting_has_a_key_in_the_file_and_an_environment_variable():
    from dataclasses import fields

    from graphsvc.config import SPECS, AnalysisOptions

    settings = {f.name for f in fields(Settings)} - {"config_file", "config_looked_for", "sources", "analysis"}
    options = {f"analysis.{f.name}" for f in fields(AnalysisOptions)}  # the one AnalysisOptions, each a setting
    assert {s.field for s in SPECS} == settings | options
    assert len({s.name for s in SPECS}) == len(SPECS) and all(s.env for s in SPECS)
    assert Settings.ENV["GRAPHSVC_WEB_ANALYSIS_WINDOW"] == Settings.ENV["GRAPHSVC_ANALYSIS_WINDOW"] == "analysis.window"


def test_local_password_is_generated_once_and_private(tmp_path):
    s = Settings.load(environ={}, data_dir=tmp_path)
    with pytest.raises(GraphsvcError, match="No Neo4j password"):
        password(s)
    first = password(s, create=True)
    assert password(s) == first and len(first) >= 20
    assert (s.password_file.stat().st_mode & 0o777) == 0o600


def test_every_cypher_file_loads_and_schema_is_split_into_statements():
    names = catalog.names()
    assert "schema" in names and "upsert_referrals" in names
    for name in names:
        assert catalog.query(name)
    statements = catalog.statements("schema")
    assert all(s.startswith(("CREATE CONSTRAINT", "CREATE INDEX", "MERGE", "MATCH")) for s in statements)
    # term_value: each word once; party_npi: one NPI, one party
    assert sum(s.startswith("CREATE CONSTRAINT") for s in statements) == 15


def test_unknown_statement_is_a_clear_error():
    with pytest.raises(GraphsvcError, match="No Cypher statement named 'nope'"):
        catalog.query("nope")


def test_no_cypher_in_python_outside_the_catalog():
    """Statements live in queries/; Python code names them (tests may build fixtures)."""
    package = Path(catalog.__file__).parent.parent
    offenders = []
    for path in package.rglob("*.py"):
        text = path.read_text()
        if any(word in text for word in ("MATCH (", "MERGE (", "CREATE (")):
            offenders.append(path.name)
    assert offenders == []
