"""``graphsvc import PATH --format fhir`` (issue 20 part 1): FHIR R4 in, against the real Neo4j.

Hand-built resources with exact expected records (an NDJSON folder and the same as a Bundle), refusals
naming file:line / entry N and the resource, idempotence, the pseudonymous client id, an overriding
table, the privacy guarantee (a patient's name, birth date, phone and SSN appear nowhere in Neo4j, the log
or a CSV export), and HL7's published US Core examples (tests/fixtures/fhir/hl7, CC0).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from graphsvc.csvio.importer import ImportRejected
from graphsvc.fhir import mapping as m
from graphsvc.fhir.importer import derived_id, import_fhir
from graphsvc.fhir.pseudonym import pseudonym
from graphsvc.limits import npi_problem
from tests.helpers import fixture_path, import_folder, snapshot, someone

KEY = "k" * 32
HL7 = Path(fixture_path("fhir")) / "hl7"


def npi(stem: str) -> str:
    """A valid NPI: the nine digits ``stem`` and their check digit."""
    return next(stem + d for d in "0123456789" if npi_problem(stem + d) is None)


PRACTICE_NPI = npi("150000000")
ANA, BEN, HALE, KNOWN = npi("150000001"), npi("150000002"), npi("150000003"), npi("150000004")
MRN = "http://hospital.example/mrn|MRN-778899"
SECRET = {"name": "Zyxwvut", "family": "Qwertyson", "birth": "1987-06-05", "phone": "555-867-5309",
          "ssn": "987-65-4329", "street": "42 Wallaby Way"}


def ident(system, value):
    return {"system": system, "value": value}


def concept(*codings):
    return {"coding": [{"system": s, "code": c} for s, c in codings]}


def resources() -> dict[str, list[dict]]:
    """A small practice's export: 2 clinicians and a staff member, 2 referrers made and 1 matched by NPI,
    referrals to a clinician and to the practice, a pass, statuses, a referral out, and what is skipped."""
    practice = "Organization/org-practice"
    return {
        "Organization": [
            {"resourceType": "Organization", "id": "org-practice", "identifier": [ident(m.NPI_SYSTEM, PRACTICE_NPI)],
             "name": "Calm Waters Counseling"},
            {"resourceType": "Organization", "id": "org-peds", "name": "Northside Pediatrics"},
            {"resourceType": "Organization", "id": "org-church", "name": "First Community Church"},
            {"resourceType": "Organization", "id": "org-ed", "name": "Riverside Eating Disorders Center"},
        ],
        "Practitioner": [
            {"resourceType": "Practitioner", "id": "prac-ana", "identifier": [ident(m.NPI_SYSTEM, ANA)],
             "name": [{"given": ["Ana"], "family": "Ruiz"}]},
            {"resourceType": "Practitioner", "id": "prac-ben", "identifier": [ident(m.NPI_SYSTEM, BEN)],
             "name": [{"text": "Ben Okafor"}]},
            {"resourceType": "Practitioner", "id": "prac-dee", "name": [{"given": ["Dee"], "family": "Lang"}]},
            {"resourceType": "Practitioner", "id": "prac-hale", "identifier": [ident(m.NPI_SYSTEM, HALE)],
             "name": [{"prefix": ["Dr."], "given": ["Hal"], "family": "Hale"}]},
            {"resourceType": "Practitioner", "id": "prac-known", "identifier": [ident(m.NPI_SYSTEM, KNOWN)],
             "name": [{"given": ["Known"], "family": "Elsewhere"}]},
        ],
        "PractitionerRole": [
            {"resourceType": "PractitionerRole", "id": "role-ana",
             "practitioner": {"reference": "Practitioner/prac-ana"},
             "organization": {"reference": practice}, "specialty": [concept((m.NEED_SYSTEM, "anxiety"))]},
            {"resourceType": "PractitionerRole", "id": "role-ben",
             "practitioner": {"reference": "Practitioner/prac-ben"},
             "organization": {"reference": practice}},
            {"resourceType": "PractitionerRole", "id": "role-dee",
             "practitioner": {"reference": "Practitioner/prac-dee"},
             "organization": {"reference": practice},
             "code": [concept((m.MEMBER_ROLE_SYSTEM, "intake_coordinator"))]},
            {"resourceType": "PractitionerRole", "id": "role-hale",
             "practitioner": {"reference": "Practitioner/prac-hale"},
             "organization": {"reference": "Organization/org-peds"},
             "code": [concept((m.NUCC, "208000000X"))]},
        ],
        "Patient": [
            {"resourceType": "Patient", "id": "pat-1",
             "identifier": [ident("http://hl7.org/fhir/sid/us-ssn", SECRET["ssn"]),
                            {**ident(*MRN.split("|")), "type": concept((m.IDENTIFIER_TYPE, "MR"))}],
             "name": [{"given": [SECRET["name"]], "family": SECRET["family"]}], "birthDate": SECRET["birth"],
             "telecom": [{"system": "phone", "value": SECRET["phone"]}],
             "address": [{"line": [SECRET["street"]], "city": "Springfield"}]},
            {"resourceType": "Patient", "id": "pat-2", "identifier": [ident("http://other.example/id", "77")]},
        ],
        "ServiceRequest": [
            {"resourceType": "ServiceRequest", "id": "sr-1", "status": "active", "intent": "order",
             "subject": {"reference": "Patient/pat-1", "display": f"{SECRET['name']} {SECRET['family']}"},
             "performer": [{"reference": "Practitioner/prac-ana"}],
             "requester": {"reference": "Practitioner/prac-hale"}, "authoredOn": "2024-03-01T09:30:00-05:00",
             "reasonCode": [concept((m.ICD10CM, "F41.1")), concept((m.SNOMED, "73595000"))],
             "note": [{"text": f"{SECRET['name']} {SECRET['family']} called from {SECRET['phone']}"}],
             "patientInstruction": f"born {SECRET['birth']}"},
            {"resourceType": "ServiceRequest", "id": "sr-2", "status": "active", "intent": "order",
             "subject": {"reference": "Patient/pat-2"}, "performer": [{"reference": "Organization/org-practice"}],
             "requester": {"reference": "Practitioner/prac-known"}, "authoredOn": "2024-04-02",
             "reasonCode": [concept((m.ICD10CM, "F90.0"))]},
            {"resourceType": "ServiceRequest", "id": "sr-3", "status": "completed", "intent": "order",
             "subject": {"reference": "Patient/pat-1"}, "performer": [{"reference": "PractitionerRole/role-ana"}],
             "requester": {"reference": "Organization/org-church"}, "authoredOn": "2024-05-01",
             "reasonCode": [concept((m.ICD10CM, "F32.1")), concept((m.ICD10CM, "Z99.9"))]},
            {"resourceType": "ServiceRequest", "id": "sr-4", "status": "active", "intent": "order",
             "subject": {"reference": "Patient/pat-2"}, "performer": [{"reference": "Organization/org-practice"}],
             "requester": {"reference": "Practitioner/prac-hale"}, "authoredOn": "2024-05-02"},
            {"resourceType": "ServiceRequest", "id": "sr-5", "status": "draft", "intent": "order",
             "subject": {"reference": "Patient/pat-2"}, "performer": [{"reference": "Practitioner/prac-ana"}],
             "requester": {"reference": "Practitioner/prac-hale"}, "authoredOn": "2024-05-03"},
            {"resourceType": "ServiceRequest", "id": "sr-6", "status": "active", "intent": "order",
             "subject": {"reference": "Patient/pat-2"}, "performer": [{"reference": "Practitioner/prac-hale"}],
             "requester": {"reference": "Practitioner/prac-known"}, "authoredOn": "2024-05-04"},
            {"resourceType": "ServiceRequest", "id": "sr-7", "status": "active", "intent": "order",
             "subject": {"reference": "Patient/pat-1"}, "performer": [{"reference": "Organization/org-ed"}],
             "requester": {"reference": "Practitioner/prac-hale"}, "authoredOn": "2024-06-01",
             "reasonCode": [concept((m.NICHE_SYSTEM, "inpatient_eating_disorders"))]},
        ],
        "Task": [
            {"resourceType": "Task", "id": "task-2a", "status": "accepted", "intent": "order",
             "focus": {"reference": "ServiceRequest/sr-2"}, "owner": {"reference": "Practitioner/prac-ben"},
             "lastModified": "2024-04-05T10:00:00Z"},
            {"resourceType": "Task", "id": "task-3a", "status": "in-progress", "intent": "order",
             "focus": {"reference": "ServiceRequest/sr-3"}, "owner": {"reference": "Practitioner/prac-ben"},
             "statusReason": concept((m.PASS_REASON_SYSTEM, "scheduling")), "lastModified": "2024-05-03"},
            {"resourceType": "Task", "id": "task-3b", "status": "completed", "intent": "order",
             "focus": {"reference": "ServiceRequest/sr-3"}, "owner": {"reference": "Practitioner/prac-ben"},
             "lastModified": "2024-05-10"},
            {"resourceType": "Task", "id": "task-x", "status": "entered-in-error", "intent": "order",
             "focus": {"reference": "ServiceRequest/sr-1"}, "lastModified": "2024-05-10"},
        ],
        "Encounter": [{"resourceType": "Encounter", "id": "enc-1", "status": "finished"},
                      {"resourceType": "Encounter", "id": "enc-2", "status": "finished"}],
    }


def write_ndjson(folder: Path, found: dict[str, list[dict]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for kind, items in found.items():
        (folder / f"{kind}.ndjson").write_text("".join(json.dumps(r) + "\n" for r in items))
    return folder


def write_bundle(path: Path, found: dict[str, list[dict]]) -> Path:
    entries = [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for items in found.values() for r in items]
    path.write_text(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}))
    return path


def stored_first(graph, tmp_path: Path) -> None:
    """The practice as stored before the FHIR import: the words used, a clinician and a referrer with an NPI."""
    folder = tmp_path / "before"
    folder.mkdir()
    (folder / "vocabularies.csv").write_text(
        "vocabulary,value\nneeds,anxiety\nneeds,adhd\nneeds,depression\nniches,inpatient_eating_disorders\n")
    (folder / "clinicians.csv").write_text("id,name,specialties,populations,insurances,schedule,accepting_new,npi\n"
                                           "cn9,Cora Nine,anxiety,,,,true,\n")
    (folder / "referrers.csv").write_text("id,name,kind,organization,point_person_id,since,npi\n"
                                          f"rf9,Dr. Known,physician,Elm Clinic,cn9,2023-01-01,{KNOWN}\n")
    import_folder(graph, folder)


def settings_of(graph, **more):
    return graph.settings.with_(**{"practice_npi": PRACTICE_NPI, "fhir_client_id_key": KEY, **more})


def run(graph, path, **kw):
    settings = kw.pop("settings", None) or settings_of(graph)
    return import_fhir(graph, path, by=someone(), settings=settings, **kw)


C1 = pseudonym(KEY.encode(), MRN)
C2 = pseudonym(KEY.encode(), "http://other.example/id|77")


def exported(graph, tmp_path: Path, name: str) -> list[str]:
    from graphsvc.csvio.exporter import export_folder

    folder = tmp_path / f"export-{name}"
    export_folder(graph, folder)
    path = folder / name
    return path.read_text().splitlines() if path.exists() else []


EXPECTED = {
    "clinicians.csv": [
        "id,name,specialties,populations,insurances,schedule,accepting_new,npi",
        "cn9,Cora Nine,anxiety,,,,true,",
        f"fhir-prac-ana,Ana Ruiz,anxiety,,,,true,{ANA}",
        f"fhir-prac-ben,Ben Okafor,,,,,true,{BEN}",
    ],
    "staff.csv": ["id,name,role,npi", "fhir-prac-dee,Dee Lang,intake_coordinator,"],
    "referrers.csv": [
        "id,name,kind,organization,point_person_id,since,npi",
        "fhir-org-church,First Community Church,other,,fhir-prac-ana,2024-05-01,",
        f"fhir-prac-hale,Hal Hale,pediatrician,Northside Pediatrics,fhir-prac-ana,2024-03-01,{HALE}",
        f"rf9,Dr. Known,physician,Elm Clinic,cn9,2023-01-01,{KNOWN}",
    ],
    "clients.csv": sorted([
        "id,needs,population,insurance,schedule", f"{C1},anxiety;depression,,,", f"{C2},adhd,,,",
    ], key=lambda r: (not r.startswith("id,"), r)),
    "external_providers.csv": ["id,name,niches", "fhir-org-ed,Riverside Eating Disorders Center,"
                                                 "inpatient_eating_disorders"],
    "referrals_out.csv": ["id,date,referrer_id,client_id,provider_id,niche,voided_on,void_reason",
                          f"fhir-sr-7,2024-06-01,fhir-prac-hale,{C1},fhir-org-ed,inpatient_eating_disorders,,"],
}
REFERRALS = [
    ("fhir-sr-1", "2024-03-01", "fhir-prac-hale", C1, "fhir-prac-ana", "fhir-prac-ana", ""),
    ("fhir-sr-2", "2024-04-02", "rf9", C2, "practice", "fhir-prac-ben", ""),
    ("fhir-sr-3", "2024-05-01", "fhir-org-church", C1, "fhir-prac-ana", "fhir-prac-ben", "scheduling"),
]
STATUSES = ["referral_id,status,date", "fhir-sr-2,contacted,2024-04-05", "fhir-sr-3,scheduled,2024-05-03",
            "fhir-sr-3,first_visit,2024-05-10"]
COUNTS = {
    "read": {"Organization": 4, "Patient": 2, "Practitioner": 5, "PractitionerRole": 4, "ServiceRequest": 7,
             "Task": 4},
    "ignored": {"Encounter": 2},
    "unused": {},
    "became": {"client": 2, "clinician": 2, "external_provider": 1, "referral": 3, "referral_out": 1,
               "referral_status": 3, "referrer": 2, "staff": 1},
    "skipped": {"ServiceRequest: its performer is not the practice, a clinician of it or an outside provider "
                "with a niche": 1,
                "ServiceRequest: status draft": 1,
                "ServiceRequest: to the practice, with no clinician named (no Task owner)": 1,
                "Task: status entered-in-error": 1},
    "unmapped_reasons": {f"{m.SNOMED}|73595000": 1, f"{m.ICD10CM}|Z99.9": 1},
    "referrers": {"created": 2, "matched": 1},
    "members": {"created": 3},
    "clients": {"created": 2},
}


def check_records(graph, tmp_path: Path) -> None:
    for name, expected in EXPECTED.items():
        assert exported(graph, tmp_path, name) == expected, name
    referrals = [tuple(line.split(",")[:7]) for line in exported(graph, tmp_path, "referrals.csv")[1:]]
    assert referrals == REFERRALS
    assert exported(graph, tmp_path, "referral_statuses.csv") == STATUSES


def test_an_ndjson_folder_becomes_exact_records(graph, tmp_path):
    stored_first(graph, tmp_path)
    folder = write_ndjson(tmp_path / "export", resources())
    report, counts = run(graph, folder)
    assert counts.as_dict() == COUNTS
    assert report.problems == []
    assert {n: f.written for n, f in report.files.items()} == {
        "clinicians": 2, "staff": 1, "external_providers": 1, "clients": 2, "referrers": 2, "referrals": 3,
        "referral_statuses": 3, "referrals_out": 1}
    check_records(graph, tmp_path)

    # Idempotent: the same folder again changes nothing (what it made is now matched, not made again).
    before = snapshot(graph)
    _, again = run(graph, folder)
    assert snapshot(graph) == before
    assert again.referrers == {"matched": 3}
    assert again.members == {"matched": 3}
    assert again.clients == {"matched": 2}


def test_the_same_export_as_a_bundle_gives_the_same_graph(graph, tmp_path, monkeypatch):
    from graphsvc.fhir import reading

    monkeypatch.setattr(reading._Stream, "CHUNK", 97)  # read in small pieces: entries straddle them
    stored_first(graph, tmp_path)
    report, counts = run(graph, write_bundle(tmp_path / "export.json", resources()))
    assert counts.as_dict() == COUNTS
    check_records(graph, tmp_path)
    before = snapshot(graph)
    run(graph, write_ndjson(tmp_path / "export", resources()))
    assert snapshot(graph) == before


def test_the_same_patient_is_the_same_client_in_two_imports(graph, tmp_path):
    stored_first(graph, tmp_path)
    found = resources()
    first = {k: v for k, v in found.items() if k != "ServiceRequest"}
    first["ServiceRequest"] = [r for r in found["ServiceRequest"] if r["id"] == "sr-1"]
    first["Task"] = []
    run(graph, write_ndjson(tmp_path / "one", first))
    # Another export (other resource ids) of the same patient, by the same MRN: the same client.
    later = {"Patient": [{**found["Patient"][0], "id": "someone-else"}],
             "ServiceRequest": [{**found["ServiceRequest"][2], "id": "sr-later",
                                 "subject": {"reference": "Patient/someone-else"},
                                 "performer": [{"identifier": ident(m.NPI_SYSTEM, ANA)}],
                                 "requester": {"identifier": ident(m.NPI_SYSTEM, HALE)}}]}
    _, counts = run(graph, write_ndjson(tmp_path / "two", later))
    assert counts.clients == {"matched": 1}
    assert counts.referrers == {"matched": 1}
    lines = exported(graph, tmp_path, "referrals.csv")
    assert [line.split(",")[:7] for line in lines if line.startswith("fhir-sr-later,")] == [
        ["fhir-sr-later", "2024-05-01", "fhir-prac-hale", C1, "fhir-prac-ana", "fhir-prac-ana", ""]]
    assert [line for line in exported(graph, tmp_path, "clients.csv") if line.startswith("p-")] == [
        f"{C1},anxiety,,,"]  # a stored client is referred to, not rewritten


def test_a_bad_resource_is_refused_by_file_line_and_id_and_nothing_is_written(graph, tmp_path):
    stored_first(graph, tmp_path)
    before = snapshot(graph)
    found = resources()
    found["ServiceRequest"][0]["authoredOn"] = "2999-01-01"   # in the future: the record's own rule
    found["Task"][2]["lastModified"] = "2024-05-02"           # first_visit before scheduled: the checks' rule
    folder = write_ndjson(tmp_path / "bad", found)
    with (folder / "Practitioner.ndjson").open("a") as f:
        f.write('{"resourceType": "Practitioner", "id": \n')
    with pytest.raises(ImportRejected) as e:
        run(graph, folder)
    assert e.value.problems == [  # (by file, then line)
        "Practitioner.ndjson:6: not JSON: Expecting value (character 41)",
        "ServiceRequest.ndjson:1: ServiceRequest/sr-1: field 'date': 2999-01-01 is in the future",
        "Task.ndjson:3: Task/task-3b: field 'date': 2024-05-02 is before the referral's last status "
        "(scheduled on 2024-05-03)",
    ]
    assert snapshot(graph) == before

    # The same in a Bundle: by entry (counted from 0) and resource.
    found = resources()
    found["ServiceRequest"][0]["authoredOn"] = "2999-01-01"
    with pytest.raises(ImportRejected) as e:
        run(graph, write_bundle(tmp_path / "bad.json", found))
    assert e.value.problems == [
        "bad.json entry 15: ServiceRequest/sr-1: field 'date': 2999-01-01 is in the future"]
    assert snapshot(graph) == before


def test_a_file_that_is_not_a_bundle_is_an_error(graph, tmp_path):
    from graphsvc.errors import InvalidInput

    path = tmp_path / "patient.json"
    path.write_text(json.dumps({"resourceType": "Patient", "id": "x"}))
    with pytest.raises(InvalidInput, match="not a FHIR Bundle \\(resourceType is 'Patient'\\)"):
        run(graph, path)
    cut = tmp_path / "cut.json"
    cut.write_text(json.dumps({"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Patient"}}]})[:-9])
    with pytest.raises(InvalidInput, match="cut.json: not JSON: Unterminated string starting at \\(character 68\\)"):
        run(graph, cut)


def test_the_tables_are_overridden_by_the_settings_files(graph, tmp_path):
    stored_first(graph, tmp_path)
    kinds, needs = tmp_path / "kinds.csv", tmp_path / "needs.csv"
    kinds.write_text(f"system,code,kind\n{m.NUCC},208000000X,physician\n")
    needs.write_text(f"system,code,need\n{m.SNOMED},73595000,anxiety\n{m.ICD10CM},F32,adhd\n")
    settings = settings_of(graph, fhir_role_kinds=str(kinds), fhir_reason_needs=str(needs))
    _, counts = run(graph, write_ndjson(tmp_path / "export", resources()), settings=settings)
    assert counts.unmapped_reasons == {f"{m.ICD10CM}|Z99.9": 1}
    referrers = exported(graph, tmp_path, "referrers.csv")
    assert f"fhir-prac-hale,Hal Hale,physician,Northside Pediatrics,fhir-prac-ana,2024-03-01,{HALE}" in referrers
    assert f"{C1},anxiety;adhd,,," in exported(graph, tmp_path, "clients.csv")


def test_a_patient_is_stored_nowhere_logged_nowhere_exported_nowhere(graph, tmp_path, cli, monkeypatch):
    stored_first(graph, tmp_path)
    env = {"GRAPHSVC_PRACTICE_NPI": PRACTICE_NPI, "GRAPHSVC_CLIENT_ID_KEY": KEY}
    # A refused import first (its problems are logged), then the import itself, through the command line.
    found = resources()
    found["ServiceRequest"][0]["authoredOn"] = "2999-01-01"
    refused = cli("import", str(write_ndjson(tmp_path / "bad", found)), "--format", "fhir", env=env)
    assert refused.exit_code == 1
    done = cli("import", str(write_ndjson(tmp_path / "export", resources())), "--format", "fhir", "--json",
               env=env)
    assert done.exit_code == 0, done.output
    answer = json.loads(done.output)
    assert answer["ok"] and answer["written"] == 15 and answer["fhir"] == COUNTS
    check_records(graph, tmp_path)

    secrets = [SECRET["name"], SECRET["family"], SECRET["birth"], SECRET["phone"], SECRET["ssn"], SECRET["street"],
               "987654329", "MRN-778899"]
    everything = repr(snapshot(graph))
    assert C1 in everything  # the dump holds the clients...
    assert [s for s in secrets if s in everything] == []  # ... and nothing of the patient
    log = Path(tmp_path / "graphsvc.log").read_text()
    assert "fhir" in log
    assert [s for s in secrets if s in log] == []
    export = tmp_path / "csv-export"
    from graphsvc.csvio.exporter import export_folder

    export_folder(graph, export)
    texts = "".join(p.read_text() for p in export.iterdir())
    assert C1 in texts
    assert [s for s in secrets if s in texts] == []
    assert [s for s in secrets if s in refused.output + done.output] == []
    for data_format in ("fhir", "hsds"):  # the other exports too
        out = tmp_path / f"{data_format}-export"
        assert cli("export", str(out), "--format", data_format, env=env).exit_code == 0
        texts = "".join(p.read_text() for p in out.iterdir())
        assert texts and [s for s in secrets if s in texts] == []
    audit = b"".join(p.read_bytes() for p in (tmp_path / "cli-private").iterdir())
    assert [s for s in secrets if s.encode() in audit] == []


# -- HL7's published examples (US Core, CC0) --------------------------------------------------------

HL7_FILES = {  # vendored file -> the NDJSON file it is copied into as one line
    "practitioner-1.json": "Practitioner", "practitioner-2.json": "Practitioner",
    "organization-acme-lab.json": "Organization", "example-organization-2.json": "Organization",
    "patient-example.json": "Patient",
    "servicerequest-rehab.json": "ServiceRequest", "servicerequest-ekg.json": "ServiceRequest",
    "servicerequest-bmp.json": "ServiceRequest", "servicerequest-foodpantry-referral.json": "ServiceRequest",
    "condition-SDOH-example.json": "Condition",
}


def hl7_folder(folder: Path) -> Path:
    """The vendored examples as a Bulk Data folder: each file's JSON as one line, its content as it is."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, kind in HL7_FILES.items():
        with (folder / f"{kind}.ndjson").open("a") as f:
            f.write(json.dumps(json.loads((HL7 / name).read_text())) + "\n")
    return folder


def test_hl7_examples_alone_become_nothing_and_say_why(graph, tmp_path):
    # Their ServiceRequests name no performer (US Core's examples are orders and SDOH referrals): each is
    # skipped with its reason, and nothing is written.
    before = snapshot(graph)
    report, counts = run(graph, hl7_folder(tmp_path / "hl7"))
    assert counts.as_dict() == {
        "read": {"Condition": 1, "Organization": 2, "Patient": 1, "Practitioner": 2, "ServiceRequest": 4},
        "ignored": {}, "unused": {"Condition": 1, "Organization": 2, "Patient": 1, "Practitioner": 2},
        "became": {},
        "skipped": {"ServiceRequest: its performer is not the practice, a clinician of it or an outside "
                    "provider with a niche": 4},
        "unmapped_reasons": {}, "referrers": {}, "members": {}, "clients": {}}
    assert report.written == 0
    assert snapshot(graph) == before


def test_hl7_bundle_as_published(graph, tmp_path):
    # The PractitionerRole / Practitioner / Endpoint searchset Bundle, as it is: the role's Organization is
    # not the practice, so nothing is a member; the Endpoint is ignored and counted.
    report, counts = run(graph, HL7 / "PractitionerRole_Practitioner_Endpoint_Bundle_Example.json")
    assert counts.read == {"PractitionerRole": 1, "Practitioner": 1}
    assert counts.ignored == {"Endpoint": 1}
    assert counts.unused == {"PractitionerRole": 1, "Practitioner": 1}
    assert report.written == 0


def test_hl7_examples_with_a_practice_around_them(graph, tmp_path):
    # Acme Clinic (example-organization-2) is the practice; a role of ours makes Dr. Kathy's practitioner-2
    # one of its clinicians, and a referral of ours from practitioner-1 (Dr. Ronald Bone) for the US Core
    # patient (Amy Shaw) to her: the examples' own resources are used as published.
    folder = hl7_folder(tmp_path / "hl7")
    with (folder / "PractitionerRole.ndjson").open("a") as f:
        f.write(json.dumps({"resourceType": "PractitionerRole", "id": "ours-1",
                            "practitioner": {"reference": "Practitioner/practitioner-2"},
                            "organization": {"reference": "Organization/example-organization-2"}}) + "\n")
    with (folder / "ServiceRequest.ndjson").open("a") as f:
        f.write(json.dumps({"resourceType": "ServiceRequest", "id": "ours-2", "status": "active",
                            "intent": "order", "subject": {"reference": "Patient/example"},
                            "performer": [{"reference": "Practitioner/practitioner-2"}],
                            "requester": {"reference": "Practitioner/practitioner-1"},
                            "authoredOn": "2024-10-14",
                            "reasonCode": [concept((m.ICD10CM, "F41.1"))],
                            "reasonReference": [{"reference": "Condition/condition-SDOH-example"}]}) + "\n")
    settings = settings_of(graph, practice_npi="1407071236")
    report, counts = run(graph, folder, settings=settings)
    assert counts.read == {"Condition": 1, "Organization": 2, "Patient": 1, "Practitioner": 2,
                           "PractitionerRole": 1, "ServiceRequest": 5}
    assert dict(counts.became) == {"clinician": 1, "client": 1, "referrer": 1, "referral": 1}
    assert counts.unused == {"Organization": 1}  # Acme Labs
    assert dict(counts.skipped) == {"ServiceRequest: its performer is not the practice, a clinician of it or an "
                                    "outside provider with a niche": 4}
    client = pseudonym(KEY.encode(), "http://example.org/patient/identifiers|1032702")  # its MR identifier
    assert exported(graph, tmp_path, "clinicians.csv")[1:] == [
        "fhir-practitioner-2,Fielding Kathy,,,,,true,1245319599"]
    assert exported(graph, tmp_path, "referrers.csv")[1:] == [
        "fhir-practitioner-1,Ronald Bone,other,,fhir-practitioner-2,2024-10-14,9941339100"]
    assert [r.split(",")[:7] for r in exported(graph, tmp_path, "referrals.csv")[1:]] == [
        ["fhir-ours-2", "2024-10-14", "fhir-practitioner-1", client, "fhir-practitioner-2",
         "fhir-practitioner-2", ""]]
    # The SDOH Condition the request names gives no need: its code is listed, not stored.
    assert dict(counts.unmapped_reasons) == {f"{m.SNOMED}|445281000124101": 1}
    assert "Amy" not in repr(snapshot(graph)) and "Shaw" not in repr(snapshot(graph))


def test_derived_ids():
    assert derived_id("sr-1") == "fhir-sr-1"
    assert derived_id("x" * 80).startswith("fhir-h-") and len(derived_id("x" * 80)) == 27


def test_the_command_line_summary(graph, tmp_path, cli):
    stored_first(graph, tmp_path)
    env = {"GRAPHSVC_PRACTICE_NPI": PRACTICE_NPI, "GRAPHSVC_CLIENT_ID_KEY": KEY}
    done = cli("import", str(write_ndjson(tmp_path / "export", resources())), "--format", "fhir", env=env)
    assert done.exit_code == 0, done.output
    lines = done.output.splitlines()
    assert lines[:9] == [
        "  clinicians                  2", "  staff                       1", "  external_providers          1",
        "  clients                     2", "  referrers                   2", "  referrals                   3",
        "  referral_statuses           3", "  referrals_out               1",
        lines[8]]
    assert lines[8].startswith("  total                      15 records written in ")
    assert lines[9:] == [
        "read: 4 Organization, 2 Patient, 5 Practitioner, 4 PractitionerRole, 7 ServiceRequest, 4 Task",
        "ignored: 2 Encounter",
        "members: 3 created",
        "referrers: 2 created, 1 matched",
        "clients: 2 created",
        "skipped 1 ServiceRequest: its performer is not the practice, a clinician of it or an outside provider "
        "with a niche",
        "skipped 1 ServiceRequest: status draft",
        "skipped 1 ServiceRequest: to the practice, with no clinician named (no Task owner)",
        "skipped 1 Task: status entered-in-error",
        f"reason codes no need maps (not stored): {m.SNOMED}|73595000 (1), {m.ICD10CM}|Z99.9 (1)",
    ]
    # A Bundle's file through the command line: the same records, nothing changed.
    again = cli("import", str(write_bundle(tmp_path / "export.json", resources())), "--format", "fhir", "--json",
                env=env)
    assert again.exit_code == 0, again.output
    assert json.loads(again.output)["fhir"]["referrers"] == {"matched": 3}
    refused = cli("import", str(tmp_path / "nowhere"), "--format", "fhir", env=env)
    assert refused.exit_code == 1 and "no such file or folder" in refused.output


def test_a_referral_addressed_to_a_staff_member_is_assigned_by_its_task(graph, tmp_path):
    stored_first(graph, tmp_path)
    found = resources()
    to_dee = {**found["ServiceRequest"][0], "performer": [{"reference": "Practitioner/prac-dee"}]}
    found["ServiceRequest"] = [to_dee, {**to_dee, "id": "sr-unassigned"},
                               {**to_dee, "id": "sr-inside", "requester": {"reference": "Practitioner/prac-ben"}}]
    found["Task"] = [{"resourceType": "Task", "id": "t1", "status": "received", "intent": "order",
                      "focus": {"reference": "ServiceRequest/sr-1"}, "owner": {"reference": "Practitioner/prac-ben"},
                      "lastModified": "2024-03-01"},
                     {"resourceType": "Task", "id": "t2", "status": "accepted", "intent": "order",
                      "focus": {"reference": "ServiceRequest/sr-unassigned"}, "lastModified": "2024-03-02"}]
    _, counts = run(graph, write_ndjson(tmp_path / "export", found))
    assert dict(counts.skipped) == {"ServiceRequest: to a staff member, with no clinician named (no Task owner)": 1,
                                    "Task: its focus is a ServiceRequest that made no referral": 1,
                                    "ServiceRequest: its requester is the practice or one of its members": 1}
    assert [r.split(",")[:7] for r in exported(graph, tmp_path, "referrals.csv")[1:]] == [
        ["fhir-sr-1", "2024-03-01", "fhir-prac-hale", C1, "fhir-prac-dee", "fhir-prac-ben", ""]]
    # Its referrer's point person: the clinician it was assigned to.
    assert f"fhir-prac-hale,Hal Hale,pediatrician,Northside Pediatrics,fhir-prac-ben,2024-03-01,{HALE}" in \
        exported(graph, tmp_path, "referrers.csv")


def test_skip_bad_writes_the_rest_and_the_checks_name_the_resources(graph, tmp_path):
    stored_first(graph, tmp_path)
    found = resources()
    found["Practitioner"][3]["identifier"] = [ident(m.NPI_SYSTEM, ANA)]       # Dr. Hale with Ana's NPI
    found["ServiceRequest"][2]["reasonCode"] = [concept((m.NEED_SYSTEM, "grief"))]  # a need on no list
    folder = write_ndjson(tmp_path / "export", found)
    with pytest.raises(ImportRejected) as e:
        run(graph, folder)
    assert e.value.problems == PROBLEMS
    assert [(w["field"], w["value"], w["source"], w["line"]) for w in e.value.words] == [
        ("needs", "grief", "ServiceRequest.ndjson", 3)]

    report, _ = run(graph, folder, skip_bad=True)
    assert [str(p) for p in report.problems] == PROBLEMS
    assert {n: (f.rows, f.written) for n, f in report.files.items()} == {
        "clinicians": (2, 2), "staff": (1, 1), "external_providers": (1, 1), "clients": (2, 1),
        "referrers": (2, 1), "referrals": (3, 1), "referral_statuses": (3, 1), "referrals_out": (1, 0)}


PROBLEMS = [  # (by file, then line; a record that names one refused is refused too, as in a CSV folder)
    f"Practitioner.ndjson:4: Practitioner/prac-hale: field 'npi': {ANA} is already the NPI of clinician "
    "'fhir-prac-ana' (PractitionerRole/role-ana at PractitionerRole.ndjson:1); one NPI belongs to one party",
    "ServiceRequest.ndjson:1: ServiceRequest/sr-1: unknown referrer_id 'fhir-prac-hale'",
    f"ServiceRequest.ndjson:1: ServiceRequest/sr-1: unknown client_id '{C1}'",
    "ServiceRequest.ndjson:3: ServiceRequest/sr-3 (subject): field 'needs': 'grief' is not on the practice's list "
    "of needs (a manager can add it under Settings, Vocabularies)",
    f"ServiceRequest.ndjson:3: ServiceRequest/sr-3: unknown client_id '{C1}'",
    "ServiceRequest.ndjson:7: ServiceRequest/sr-7: unknown referrer_id 'fhir-prac-hale'",
    f"ServiceRequest.ndjson:7: ServiceRequest/sr-7: unknown client_id '{C1}'",
    "Task.ndjson:2: Task/task-3a: unknown referral_id 'fhir-sr-3'",
    "Task.ndjson:3: Task/task-3b: unknown referral_id 'fhir-sr-3'",
]
