"""What PATH ``graphsvc import`` takes with each format: a folder, or (FHIR) a Bundle's file too; a file given
to a format that reads folders is said to be one."""

from __future__ import annotations

import json


def test_a_fhir_bundle_file_is_imported_through_the_command_line(graph, cli, tmp_path):
    bundle = tmp_path / "export.json"
    bundle.write_text(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": {"resourceType": "Practitioner", "id": "p1", "name": [{"text": "Ann Lee"}]}}]}))
    result = cli("import", str(bundle), "--format", "fhir", "--json")
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert answer["ok"] is True and answer["written"] == 0


def test_a_file_given_to_the_csv_or_hsds_import_is_said_to_be_one(graph, cli, tmp_path):
    path = tmp_path / "referrals.csv"
    path.write_text("id\n")
    result = cli("import", str(path))
    assert result.exit_code == 1
    assert f"{path}: is a file; a CSV import reads a folder of CSV files (a FHIR Bundle: --format fhir)" \
        in result.output
    result = cli("import", str(path), "--format", "hsds")
    assert result.exit_code == 1
    assert str(path) in result.output
