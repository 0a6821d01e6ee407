"""The FHIR round trip of issue 20: the demo practice -> ``export --format fhir`` -> ``import --format fhir``
into an empty database -> ``export``: every mapped column (``tests.fhir_round_trip.MAPPED``) comes back equal.

Run through the CLI as a practice would, against the real Neo4j; the demo practice is the seed's
(``python -m seed``: 45 clinicians, 1,000 referrers, 20,000 referrals, 56,496 statuses).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from seed.generate import generate
from tests.fhir_round_trip import MAPPED, mapped_differences, mapped_rows

pytestmark = pytest.mark.slow

PRACTICE_NPI = "1234567893"  # valid by the NPI's check digit


def run(cli, *args, env=None):
    result = cli(*args, "--json", env=env)
    assert result.exit_code == 0, result.output[-3000:]
    return json.loads(result.output)


def test_the_demo_practice_comes_back_from_its_fhir_export(graph, cli, tmp_path):
    demo = tmp_path / "demo"
    generate(demo, scale="demo")
    env = {"GRAPHSVC_PRACTICE_NPI": PRACTICE_NPI, "GRAPHSVC_DATA_DIR": str(tmp_path / "data")}
    run(cli, "import", str(demo), env=env)
    exported = run(cli, "export", str(tmp_path / "fhir"), "--format", "fhir", env=env)
    assert sorted(p.name for p in (tmp_path / "fhir").iterdir() if p.suffix == ".ndjson") == [
        "Organization.ndjson", "Patient.ndjson", "Practitioner.ndjson", "PractitionerRole.ndjson",
        "ServiceRequest.ndjson", "Task.ndjson"]
    assert exported["ok"] is True

    graph.write("wipe_graph", catalog=_test_queries())
    graph.write("practice_node", catalog=_test_queries())
    run(cli, "import", str(tmp_path / "fhir"), "--format", "fhir", env=env)
    run(cli, "export", str(tmp_path / "back"), env=env)

    assert mapped_differences(demo, tmp_path / "back") == []
    # Not a round trip of nothing: every mapped file came back with the demo's rows.
    counts = {name: len(mapped_rows(tmp_path / "back", name)) for name in MAPPED}
    assert counts == {"clinicians.csv": 45, "staff.csv": 3, "referrers.csv": 1000, "clients.csv": 20305,
                      "external_providers.csv": 10, "referrals.csv": 20000, "referral_statuses.csv": 56496,
                      "referrals_out.csv": 305}

    # Importing the same export again changes nothing.
    run(cli, "import", str(tmp_path / "fhir"), "--format", "fhir", env=env)
    run(cli, "export", str(tmp_path / "again"), env=env)
    assert _files(tmp_path / "again") == _files(tmp_path / "back")


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _test_queries():
    from tests.helpers import TEST_QUERIES

    return TEST_QUERIES
