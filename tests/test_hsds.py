"""graphsvc import/export --format hsds: the outside providers as an Open Referral HSDS 3.0 JSON directory,
checked against HSDS's own schemas (tests/fixtures/hsds/3.0, pinned at the v3.0 tag)."""

from __future__ import annotations

import json
import stat
import uuid
from pathlib import Path

import jsonschema
import pytest
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from graphsvc.csvio.exporter import export_folder
from graphsvc.csvio.importer import ImportRejected
from graphsvc.hsds import export_directory, import_directory
from tests.helpers import TEST_QUERIES, fixture_path, service_of, snapshot, someone

SCHEMAS = Path(fixture_path("hsds")) / "3.0" / "schema"
NAMESPACE = uuid.UUID("f860cf54-63f5-420f-845d-bb0de388a381")  # graphsvc.hsds.NAMESPACE, never changed


def uid(*key: str) -> str:
    return str(uuid.uuid5(NAMESPACE, "\x1f".join(key)))


def load(folder: Path) -> dict[str, list]:
    return {p.stem: json.loads(p.read_text()) for p in sorted(folder.iterdir())}


def validate(tables: dict[str, list]) -> None:
    """Each row against its table's schema (schema/<table>.json), and the whole as compiled/tabular.json."""
    registry = Registry().with_resources(  # their "$ref"s name each other's files: "phone.json"
        (p.name, Resource(json.loads(p.read_text()), specification=DRAFT202012)) for p in SCHEMAS.glob("*.json"))
    checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
    for table, rows in tables.items():
        schema = json.loads((SCHEMAS / f"{table}.json").read_text())
        validator = jsonschema.Draft202012Validator(schema, registry=registry, format_checker=checker)
        for row in rows:
            validator.validate(row)
    tabular = json.loads((SCHEMAS / "compiled" / "tabular.json").read_text())
    jsonschema.Draft202012Validator(tabular, format_checker=checker).validate(tables)


TAXONOMY = uid("taxonomy", "niches")


def term(word: str, name: str) -> dict:
    return {"id": uid("niche", word), "code": word, "name": name, "taxonomy": "graphsvc niches",
            "taxonomy_id": TAXONOMY,
            "description": "A niche of the practice: something outside providers are referred to for."}


def test_the_small_practice_exported_as_hsds(small, tmp_path):
    folder = tmp_path / "hsds"
    report = export_directory(small, folder)
    tables = load(folder)
    validate(tables)
    assert report.files == {"organization.json": 2, "organization_identifier.json": 2, "service.json": 2,
                            "attribute.json": 3, "taxonomy.json": 1, "taxonomy_term.json": 3}
    org1, org2 = uid("organization", "ep1"), uid("organization", "ep2")
    svc1, svc2 = uid("service", "ep1"), uid("service", "ep2")
    about = "An outside provider the practice refers clients to."
    assert tables["organization"] == [
        {"id": org1, "name": "Riverside Eating Disorders Center", "description": about},
        {"id": org2, "name": "County Forensic Services", "description": about}]
    assert tables["organization_identifier"] == [
        {"id": uid("organization_identifier", "ep1"), "organization_id": org1,
         "identifier_type": "graphsvc external provider id", "identifier": "ep1"},
        {"id": uid("organization_identifier", "ep2"), "organization_id": org2,
         "identifier_type": "graphsvc external provider id", "identifier": "ep2"}]
    assert tables["service"] == [
        {"id": svc1, "organization_id": org1, "name": "Riverside Eating Disorders Center", "status": "active",
         "description": "Takes referrals for: inpatient eating disorders."},
        {"id": svc2, "organization_id": org2, "name": "County Forensic Services", "status": "active",
         "description": "Takes referrals for: forensic evaluation, neuropsych testing."}]
    assert tables["attribute"] == [
        {"id": uid("attribute", pid, word), "link_id": svc, "link_entity": "service", "link_type": "service_type",
         "taxonomy_term_id": uid("niche", word)}
        for pid, svc, word in [("ep1", svc1, "inpatient_eating_disorders"), ("ep2", svc2, "forensic_evaluation"),
                               ("ep2", svc2, "neuropsych_testing")]]
    assert tables["taxonomy"] == [{"id": TAXONOMY, "name": "graphsvc niches", "description":
                                   "What outside providers are referred to for (needs the practice does not cover)."}]
    assert tables["taxonomy_term"] == [term("forensic_evaluation", "Forensic evaluation"),
                                       term("inpatient_eating_disorders", "Inpatient eating disorders"),
                                       term("neuropsych_testing", "Neuropsych testing")]
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert {stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir()} == {0o600}


def test_exporting_twice_is_byte_identical(small, tmp_path):
    export_directory(small, tmp_path / "a")
    export_directory(small, tmp_path / "a")  # over itself: swapped in
    export_directory(small, tmp_path / "b")
    first = {p.name: p.read_bytes() for p in (tmp_path / "a").iterdir()}
    assert first == {p.name: p.read_bytes() for p in (tmp_path / "b").iterdir()}
    assert len(first) == 6


def test_round_trip_into_an_empty_graph(small, session_graph, tmp_path):
    export_directory(small, tmp_path / "hsds")
    export_folder(small, tmp_path / "csv-before")
    session_graph.write("wipe_graph", catalog=TEST_QUERIES)  # an empty practice, as the graph fixture makes it
    session_graph.write("practice_node", catalog=TEST_QUERIES)
    report, reading = import_directory(service_of(small), tmp_path / "hsds", by=someone())
    assert reading.became == {"external_providers": 2, "niche_words": 3, "niches": 3}
    assert reading.skipped == []
    assert {k: (v.rows, v.written, v.bad) for k, v in report.files.items()} == {
        "taxonomy_term.json": (3, 3, 0), "organization.json": (2, 2, 0)}
    export_folder(small, tmp_path / "csv-after")
    before = (tmp_path / "csv-before" / "external_providers.csv").read_bytes()
    assert (tmp_path / "csv-after" / "external_providers.csv").read_bytes() == before
    assert before == Path(fixture_path("small"), "external_providers.csv").read_bytes()


def test_importing_twice_changes_nothing(small, tmp_path):
    export_directory(small, tmp_path / "hsds")
    import_directory(service_of(small), tmp_path / "hsds", by=someone())
    once = snapshot(small, analysis=False)
    import_directory(service_of(small), tmp_path / "hsds", by=someone())
    assert snapshot(small, analysis=False) == once


# -- a directory from another publisher ---------------------------------------------------------------

ORG_A, ORG_B, ORG_C = (str(uuid.UUID(int=n)) for n in (1, 2, 3))
SVC_A, SVC_B = str(uuid.UUID(int=11)), str(uuid.UUID(int=12))
TERM_ED, TERM_AIRS = str(uuid.UUID(int=21)), str(uuid.UUID(int=22))


def publish(folder: Path, organizations: list[dict]) -> Path:
    folder.mkdir()
    tables = {
        "organization": organizations,
        "service": [{"id": SVC_A, "organization_id": ORG_A, "name": "Eating disorder day program", "status": "active"},
                    {"id": SVC_B, "organization_id": ORG_B, "name": "Family law evaluations", "status": "active",
                     "attributes": [{"id": str(uuid.UUID(int=32)), "taxonomy_term_id": TERM_AIRS}]}],
        "attribute": [{"id": str(uuid.UUID(int=31)), "link_id": SVC_A, "link_entity": "service",
                       "taxonomy_term_id": TERM_ED}],
        "taxonomy_term": [{"id": TERM_ED, "code": "ED-1", "name": "Inpatient Eating Disorders",
                           "description": "Inpatient care", "taxonomy": "Example County"},
                          {"id": TERM_AIRS, "code": "FN-1500.1900", "name": "Custody Evaluations!",
                           "description": "Custody", "taxonomy": "AIRS/211 LA County"}],
        "location": [],
    }
    for table, rows in tables.items():
        (folder / f"{table}.json").write_text(json.dumps(rows))
    return folder


def test_another_publishers_directory(small, tmp_path):
    folder = publish(tmp_path / "theirs", [
        {"id": ORG_A, "name": "Lakeside Recovery", "description": "x"},
        {"id": ORG_B, "name": "Family Court Clinic", "description": "y"}])
    report, reading = import_directory(service_of(small), folder, by=someone())
    assert reading.became == {"external_providers": 2, "niche_words": 0, "niches": 1}
    assert reading.skipped == [
        "location.json: not read (graphsvc keeps no location for an outside provider)",
        f"taxonomy term '{TERM_AIRS}' (AIRS/211 LA County, code 'FN-1500.1900'): fn_1500_1900 or "
        "custody_evaluations: no niche of the practice (--add-values adds it)"]
    export_folder(small, tmp_path / "csv")
    assert (tmp_path / "csv" / "external_providers.csv").read_text().splitlines() == [
        "id,name,niches",
        f"{ORG_A},Lakeside Recovery,inpatient_eating_disorders",
        f"{ORG_B},Family Court Clinic,",
        "ep1,Riverside Eating Disorders Center,inpatient_eating_disorders",
        "ep2,County Forensic Services,forensic_evaluation;neuropsych_testing"]


def test_a_bad_entry_refuses_the_directory_naming_file_entry_and_field(small, tmp_path):
    folder = publish(tmp_path / "theirs", [
        {"id": ORG_A, "name": "Lakeside Recovery", "description": "x"},
        {"id": ORG_B, "description": "no name"},
        {"name": "No id"}])
    before = snapshot(small, analysis=False)
    with pytest.raises(ImportRejected) as e:
        import_directory(service_of(small), folder, by=someone())
    assert [str(p) for p in e.value.problems] == [
        "organization.json: entry 3: field 'id': is required",
        f"organization.json: entry 2 (id '{ORG_B}'): field 'name': is required"]
    assert snapshot(small, analysis=False) == before


def test_an_unknown_niche_of_graphsvcs_taxonomy_is_named_by_entry(small, tmp_path):
    export_directory(small, tmp_path / "hsds")
    terms = json.loads((tmp_path / "hsds" / "taxonomy_term.json").read_text())
    terms[0]["code"] = "Not A Slug"
    (tmp_path / "hsds" / "taxonomy_term.json").write_text(json.dumps(terms))
    with pytest.raises(ImportRejected) as e:
        import_directory(service_of(small), tmp_path / "hsds", by=someone())
    assert [str(p) for p in e.value.problems] == [
        f"taxonomy_term.json: entry 1 (id '{uid('niche', 'forensic_evaluation')}'): field 'code': a term of "
        "graphsvc niches must be a niche word, a lowercase slug of letters, digits and _ (got 'Not A Slug')"]


# -- the command line ---------------------------------------------------------------------------------


def test_the_cli_exports_and_imports_hsds_with_json(small, cli, tmp_path):
    out = cli("export", str(tmp_path / "hsds"), "--format", "hsds", "--json")
    assert out.exit_code == 0, out.output
    answer = json.loads(out.output)
    assert set(answer) == {"folder", "format", "files", "rows", "seconds"}
    assert (answer["format"], answer["rows"]) == ("hsds", 13)
    out = cli("import", str(tmp_path / "hsds"), "--format", "hsds", "--json")
    assert out.exit_code == 0, out.output
    answer = json.loads(out.output)
    assert {"ok", "files", "written", "bad", "problems", "values_added", "became", "skipped"} <= set(answer)
    assert (answer["ok"], answer["written"], answer["bad"], answer["problems"]) == (True, 5, 0, [])
    assert answer["became"] == {"external_providers": 2, "niche_words": 3, "niches": 3}


def test_the_cli_refuses_a_bad_directory_with_json(small, cli, tmp_path):
    folder = publish(tmp_path / "theirs", [{"id": ORG_A, "description": "no name"}])
    out = cli("import", str(folder), "--format", "hsds", "--json")
    assert out.exit_code == 1
    answer = json.loads(out.output)
    assert (answer["ok"], answer["written"]) == (False, 0)
    assert answer["problems"] == [f"organization.json: entry 1 (id '{ORG_A}'): field 'name': is required"]

