"""The FHIR and HSDS importers against what an attacker's probe sent them: each a refusal or a problem named
at its file and line (never a traceback), nothing written, and nothing of a patient kept or quoted."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from graphsvc.csvio.importer import ImportRejected
from graphsvc.errors import InvalidInput
from graphsvc.fhir import mapping as m
from graphsvc.fhir import reading
from tests.helpers import snapshot
from tests.test_fhir_import import (
    KEY,
    PRACTICE_NPI,
    resources,
    run,
    stored_first,
    write_bundle,
    write_ndjson,
)

NAME = "Zelphinia Quarrington"


def test_a_client_identifier_that_is_no_graphsvc_id_is_a_pseudonym_and_never_quoted(graph, tmp_path, cli):
    stored_first(graph, tmp_path)
    found = resources()
    found["Patient"][0]["identifier"].append({"system": m.CLIENT_SYSTEM, "value": NAME})
    env = {"GRAPHSVC_PRACTICE_NPI": PRACTICE_NPI, "GRAPHSVC_CLIENT_ID_KEY": KEY}
    done = cli("import", str(write_ndjson(tmp_path / "export", found)), "--format", "fhir", env=env)
    assert done.exit_code == 0, done.output
    everything = repr(snapshot(graph))
    assert "Zelphinia" not in everything and "Zelphinia" not in done.output
    assert "Zelphinia" not in Path(tmp_path / "graphsvc.log").read_text()


def test_unmapped_codes_are_listed_by_the_command_but_only_counted_in_the_audit_log(graph, tmp_path, cli):
    stored_first(graph, tmp_path)
    found = resources()
    found["ServiceRequest"][0]["reasonCode"] = [{"coding": [{"system": "urn:ehr:free", "code": "Zq says sad"}]}]
    env = {"GRAPHSVC_PRACTICE_NPI": PRACTICE_NPI, "GRAPHSVC_CLIENT_ID_KEY": KEY}
    done = cli("import", str(write_ndjson(tmp_path / "export", found)), "--format", "fhir", "--json", env=env)
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["fhir"]["unmapped_reasons"]["urn:ehr:free|Zq says sad"] == 1
    audit = b"".join(p.read_bytes() for p in (tmp_path / "cli-private").iterdir())
    assert b"Zq says sad" not in audit
    with sqlite3.connect(tmp_path / "cli-private" / "cli-accounts.sqlite3") as db:
        (detail,) = db.execute("SELECT detail FROM audit WHERE action = 'import'").fetchone()
    assert json.loads(detail)["fhir"]["unmapped_reasons"] == 2  # this one, and the other the export has anyway


@pytest.mark.parametrize("line, problem", [
    ("[" * 100_000 + "]" * 100_000, "not JSON: nested too deeply"),
    ('{"resourceType": "Practitioner", "id": "p9", "x": ' + "9" * 5000 + "}",
     "not JSON: Exceeds the limit (4300 digits) for integer string conversion: value has 5000 digits"),
])
def test_an_ndjson_line_no_parser_takes_is_a_problem_at_its_line(graph, tmp_path, line, problem):
    stored_first(graph, tmp_path)
    before = snapshot(graph)
    folder = write_ndjson(tmp_path / "export", resources())
    with (folder / "Practitioner.ndjson").open("a") as f:
        f.write(line + "\n")
    with pytest.raises(ImportRejected) as e:
        run(graph, folder)
    assert e.value.problems == [f"Practitioner.ndjson:6: {problem}"]
    assert snapshot(graph) == before


def test_a_line_longer_than_the_limit_is_skipped_unread(graph, tmp_path, monkeypatch):
    monkeypatch.setattr(reading, "LINE_MAX", 1000)
    folder = write_ndjson(tmp_path / "export", resources())
    with (folder / "Practitioner.ndjson").open("a") as f:
        f.write('{"resourceType": "Practitioner", "id": "' + "x" * 5000 + '"}\n{"resourceType": "Practitioner"}\n')
    with pytest.raises(ImportRejected) as e:
        run(graph, folder)
    assert e.value.problems == [
        "Practitioner.ndjson:6: a line of more than 1,000 bytes: not a resource graphsvc reads (skipped unread)",
        "Practitioner.ndjson:7: Practitioner/(no id): has no id"]


@pytest.mark.parametrize("where, change, named", [
    ("ServiceRequest", lambda r: r.update(performer=5), "ServiceRequest.ndjson:1: ServiceRequest/sr-1"),
    ("ServiceRequest", lambda r: r.update(performer=[{"identifier": {"system": m.NPI_SYSTEM, "value": ["x"]}}]),
     "ServiceRequest.ndjson:1: ServiceRequest/sr-1"),
    # (the request names the referrer's Practitioner, and its role is found through it: the Practitioner is named)
    ("PractitionerRole", lambda r: r.update(period="2020"), "Practitioner.ndjson:4: Practitioner/prac-hale"),
])
def test_an_element_of_the_wrong_type_refuses_the_import_naming_the_resource(graph, tmp_path, where, change, named):
    found = resources()
    index = 3 if where == "PractitionerRole" else 0  # role-hale: a referrer's role
    change(found[where][index])
    with pytest.raises(InvalidInput) as e:
        run(graph, write_ndjson(tmp_path / "export", found))
    assert str(e.value).startswith(f"{named}: an element is not of the type FHIR gives it (")
    assert str(e.value).endswith("); nothing was written")


def test_a_patient_of_odd_types_is_still_a_pseudonym(graph, tmp_path):
    found = resources()
    found["Patient"][0]["identifier"] = 5
    found["Patient"].append({**found["Patient"][0]})  # the same id twice: named without the id
    with pytest.raises(ImportRejected) as e:
        run(graph, write_ndjson(tmp_path / "export", found))
    assert e.value.problems == ["Patient.ndjson:3: Patient: duplicate id"]


def test_bundles_a_byte_order_mark_an_entry_that_is_no_list_and_deep_nesting(graph, tmp_path):
    path = write_bundle(tmp_path / "export.json", resources())
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    report, _ = run(graph, path)
    assert report.written > 0
    single = tmp_path / "single.json"
    single.write_text(json.dumps({"resourceType": "Bundle", "entry": {"resource": resources()["Organization"][0]}}))
    with pytest.raises(InvalidInput) as e:
        run(graph, single)
    assert str(e.value) == f"{single}: field 'entry': a Bundle's entries are a list (a JSON array)"
    deep = tmp_path / "deep.json"
    deep.write_text('{"resourceType": "Bundle", "entry": [' + "[" * 100_000 + "]" * 100_000 + "]}")
    with pytest.raises(InvalidInput) as e:
        run(graph, deep)
    assert str(e.value) == f"{deep}: not JSON: nested too deeply"


def test_a_bundle_value_past_the_limit_is_refused_without_reading_it_all(graph, tmp_path, monkeypatch):
    monkeypatch.setattr(reading, "VALUE_MAX", 1 << 20)
    monkeypatch.setattr(reading._Stream, "CHUNK", 1 << 16)
    big = tmp_path / "big.json"
    big.write_text('{"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Organization", "id": "o", '
                   '"name": "' + "x" * (4 << 20) + '"}}]}')
    with pytest.raises(InvalidInput) as e:
        run(graph, big)
    assert "not JSON: a value of more than 1 MB at character 38" in str(e.value)


def test_hsds_directories_of_odd_json_are_refused_with_a_message(graph, tmp_path, cli):
    folder = tmp_path / "hsds"
    folder.mkdir()
    (folder / "organization.json").write_text("[" * 100_000 + "]" * 100_000)
    result = cli("import", str(folder), "--format", "hsds")
    assert result.exit_code == 1
    assert "organization.json: is not readable JSON: nested too deeply" in result.output
    (folder / "organization.json").write_text(json.dumps([{"id": "o1", "name": "Elm Clinic",
                                                           "organization_identifiers": 5}]))
    (folder / "service.json").write_text(json.dumps([{"id": "s1", "name": "x", "organization_id": ["o1"]}]))
    result = cli("import", str(folder), "--format", "hsds")
    assert result.exit_code == 1
    assert f"{folder}: an element is not of the type HSDS gives it (" in result.output
    assert "Traceback" not in result.output
