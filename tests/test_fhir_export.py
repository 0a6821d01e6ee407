"""``graphsvc export --format fhir`` and ``python -m seed --format fhir``: FHIR Bulk Data NDJSON.

Every resource written is validated with the FHIR R4B models of ``fhir.resources`` (a library nobody here
wrote); the counts and contents are worked out by hand from ``tests/fixtures/small``.
"""

from __future__ import annotations

import getpass
import json
import os
import re
import stat

import pytest
from click.testing import CliRunner
from fhir.resources.R4B import get_fhir_model_class

from graphsvc.accounts import Accounts
from graphsvc.errors import InvalidInput
from graphsvc.fhir import mapping as m
from graphsvc.fhir.exporter import FILES, export_fhir, ndjson_line
from graphsvc.fhir.resources import practice, resource_id, resources
from seed.__main__ import main as seed_main
from seed.generate import generate
from tests.helpers import import_folder, service_of, someone

FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
SEED_SMALL = ["--clinicians", "8", "--referrers", "60", "--referrals", "900"]


def read_folder(folder) -> dict[str, list[dict]]:
    """Each file's resources, checking as it goes: one compact object per line, written as the exporter
    writes it, of the file's type, with a valid id, lines sorted by id, and valid under the R4B model."""
    out = {}
    for name in FILES:
        resource_type = name.removesuffix(".ndjson")
        model = get_fhir_model_class(resource_type)
        text = (folder / name).read_text(encoding="utf-8")
        assert text == "" or text.endswith("\n")
        items = []
        for line in text.splitlines():
            resource = json.loads(line)
            assert ndjson_line(resource) == line
            assert resource["resourceType"] == resource_type
            assert FHIR_ID.fullmatch(resource["id"])
            model.model_validate(resource)
            items.append(resource)
        assert [r["id"] for r in items] == sorted(r["id"] for r in items)
        out[resource_type] = items
    return out


def by_id(found: dict, resource_type: str, rid: str) -> dict:
    matches = [r for r in found[resource_type] if r["id"] == rid]
    assert len(matches) == 1, (resource_type, rid)
    return matches[0]


def ident(system, value):
    return {"system": system, "value": value}


def concept(system, code):
    return {"coding": [{"system": system, "code": code}]}


def test_the_small_practice_as_valid_resources(small, tmp_path):
    report = export_fhir(small, tmp_path / "out")
    # Organizations: the practice, 2 outside providers, the 3 referrers' organizations.
    # Practitioners and roles: 3 clinicians, 2 staff members, 3 referrers. Patients: 6 clients.
    # ServiceRequests: 6 referrals and 1 referral out. Tasks: one "received" per referral (no statuses).
    expected = {"Organization": 6, "Practitioner": 8, "PractitionerRole": 8, "Patient": 6, "ServiceRequest": 7,
                "Task": 6}
    assert report.files == {f"{t}.ndjson": n for t, n in expected.items()}
    assert report.skipped == {}
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(FILES)
    found = read_folder(tmp_path / "out")
    assert {t: len(found[t]) for t in found} == expected

    # A client is a Patient with its pseudonymous id, and nothing else.
    for patient in found["Patient"]:
        assert sorted(patient) == ["id", "identifier", "resourceType"]
    assert by_id(found, "Patient", "client.cl1") == {
        "resourceType": "Patient", "id": "client.cl1", "identifier": [ident(m.CLIENT_SYSTEM, "cl1")]}

    # r2: rf1 sent cl4 (adhd;anxiety, child, medicaid, weekday_evening) to cn1, who passed it to cn3.
    assert by_id(found, "ServiceRequest", "referral.r2") == {
        "resourceType": "ServiceRequest", "id": "referral.r2",
        "extension": [{"url": m.POPULATIONS_EXTENSION, "valueCode": "child"},
                      {"url": m.INSURANCES_EXTENSION, "valueCode": "medicaid"},
                      {"url": m.SCHEDULE_EXTENSION, "valueCode": "weekday_evening"}],
        "identifier": [ident(m.REFERRAL_SYSTEM, "r2")], "status": "active", "intent": "order",
        "subject": {"reference": "Patient/client.cl4", "identifier": ident(m.CLIENT_SYSTEM, "cl4")},
        "authoredOn": "2023-05-02",
        "requester": {"reference": "PractitionerRole/referrer.rf1", "identifier": ident(m.REFERRER_SYSTEM, "rf1")},
        "performer": [{"reference": "Practitioner/member.cn1", "identifier": ident(m.MEMBER_SYSTEM, "cn1")}],
        "reasonCode": [concept(m.NEED_SYSTEM, "adhd"), concept(m.NEED_SYSTEM, "anxiety")],
    }
    assert by_id(found, "Task", "status.r2.received") == {
        "resourceType": "Task", "id": "status.r2.received", "status": "received",
        "businessStatus": concept(m.STATUS_SYSTEM, "received"), "intent": "order",
        "focus": {"reference": "ServiceRequest/referral.r2", "identifier": ident(m.REFERRAL_SYSTEM, "r2")},
        "for": {"reference": "Patient/client.cl4", "identifier": ident(m.CLIENT_SYSTEM, "cl4")},
        "authoredOn": "2023-05-02", "lastModified": "2023-05-02",
        "owner": {"reference": "Practitioner/member.cn3", "identifier": ident(m.MEMBER_SYSTEM, "cn3")},
        "statusReason": concept(m.PASS_REASON_SYSTEM, "specialty"),
    }
    assert by_id(found, "PractitionerRole", "referrer.rf1") == {
        "resourceType": "PractitionerRole", "id": "referrer.rf1",
        "extension": [{"url": m.POINT_PERSON_EXTENSION, "valueReference": {
            "reference": "Practitioner/member.cn1", "identifier": ident(m.MEMBER_SYSTEM, "cn1")}}],
        "identifier": [ident(m.REFERRER_SYSTEM, "rf1")], "active": True, "period": {"start": "2023-01-10"},
        "practitioner": {"reference": "Practitioner/referrer.rf1", "identifier": ident(m.REFERRER_SYSTEM, "rf1")},
        "organization": {"reference": f"Organization/{by_name(found, 'Northside Pediatrics')['id']}",
                         "display": "Northside Pediatrics"},
        "code": [{"coding": [{"system": m.REFERRER_KIND_SYSTEM, "code": "pediatrician"},
                             {"system": m.SNOMED, "code": "82296001", "display": "Pediatrician"}]}],
    }
    assert by_name(found, "Northside Pediatrics") == {
        "resourceType": "Organization", "id": by_name(found, "Northside Pediatrics")["id"],
        "name": "Northside Pediatrics"}
    assert by_id(found, "Practitioner", "referrer.rf1") == {
        "resourceType": "Practitioner", "id": "referrer.rf1", "identifier": [ident(m.REFERRER_SYSTEM, "rf1")],
        "active": True, "name": [{"text": "Dr. Hale", "family": "Hale", "prefix": ["Dr."]}]}
    # The practice; r5 addressed to it, r6 to a staff member; a clinician's role; the referral out.
    assert by_id(found, "Organization", "practice") == {
        "resourceType": "Organization", "id": "practice", "identifier": [ident(m.PRACTICE_SYSTEM, "practice")],
        "active": True, "name": "The practice"}
    assert by_id(found, "ServiceRequest", "referral.r5")["performer"] == [
        {"reference": "Organization/practice", "identifier": ident(m.PRACTICE_SYSTEM, "practice"),
         "display": "The practice"}]
    assert by_id(found, "ServiceRequest", "referral.r6")["performer"] == [
        {"reference": "Practitioner/member.st1", "identifier": ident(m.MEMBER_SYSTEM, "st1")}]
    assert "statusReason" not in by_id(found, "Task", "status.r1.received")
    cn3 = by_id(found, "PractitionerRole", "member.cn3")
    assert cn3["code"] == [concept(m.MEMBER_ROLE_SYSTEM, "clinician")]
    assert cn3["specialty"] == [concept(m.NEED_SYSTEM, "autism"), concept(m.NEED_SYSTEM, "adhd")]
    assert cn3["extension"] == [{"url": m.POPULATIONS_EXTENSION, "valueCode": "child"},
                                {"url": m.INSURANCES_EXTENSION, "valueCode": "medicaid"},
                                {"url": m.SCHEDULE_EXTENSION, "valueCode": "weekday_day"},
                                {"url": m.ACCEPTING_EXTENSION, "valueBoolean": False}]
    assert by_id(found, "PractitionerRole", "member.st2")["code"] == [concept(m.MEMBER_ROLE_SYSTEM, "office_manager")]
    assert by_id(found, "ServiceRequest", "out.o1") == {
        "resourceType": "ServiceRequest", "id": "out.o1",
        "extension": [{"url": m.POPULATIONS_EXTENSION, "valueCode": "adolescent"},  # cl6's; no schedule
                      {"url": m.INSURANCES_EXTENSION, "valueCode": "bcbs"}],
        "identifier": [ident(m.REFERRAL_OUT_SYSTEM, "o1")],
        "status": "active", "intent": "order",
        "subject": {"reference": "Patient/client.cl6", "identifier": ident(m.CLIENT_SYSTEM, "cl6")},
        "authoredOn": "2024-05-03",
        "requester": {"reference": "PractitionerRole/referrer.rf2", "identifier": ident(m.REFERRER_SYSTEM, "rf2")},
        "performer": [{"reference": "Organization/provider.ep1", "identifier": ident(m.PROVIDER_SYSTEM, "ep1"),
                       "display": "Riverside Eating Disorders Center"}],
        "reasonCode": [concept(m.NICHE_SYSTEM, "inpatient_eating_disorders"),
                       concept(m.NEED_SYSTEM, "inpatient_eating_disorders")],
    }
    assert by_id(found, "Organization", "provider.ep2")["type"] == [
        concept(m.NICHE_SYSTEM, "forensic_evaluation"), concept(m.NICHE_SYSTEM, "neuropsych_testing")]


def by_name(found: dict, name: str) -> dict:
    matches = [r for r in found["Organization"] if r.get("name") == name]
    assert len(matches) == 1, name
    return matches[0]


def test_statuses_become_tasks_and_voided_referrals_are_left_out(small, tmp_path):
    service = service_of(small)
    service.record_status("r1", {"status": "contacted", "date": "2023-02-03"}, by=someone())
    service.record_status("r1", {"status": "scheduled", "date": "2023-02-10"}, by=someone())
    service.void_record("referral", "r3", {"reason": "sent twice"}, by=someone())
    service.void_record("referral_out", "o1", {"reason": "a mistake"}, by=someone())
    report = export_fhir(small, tmp_path / "out")
    assert report.skipped == {"voided referrals": 1, "voided referrals out": 1}
    found = read_folder(tmp_path / "out")
    assert [r["id"] for r in found["ServiceRequest"]] == [f"referral.r{n}" for n in (1, 2, 4, 5, 6)]
    assert [t["id"] for t in found["Task"]] == [
        "status.r1.contacted", "status.r1.received", "status.r1.scheduled", "status.r2.received",
        "status.r4.received", "status.r5.received", "status.r6.received"]
    assert by_id(found, "Task", "status.r1.contacted") == {
        "resourceType": "Task", "id": "status.r1.contacted", "status": "accepted",
        "businessStatus": concept(m.STATUS_SYSTEM, "contacted"), "intent": "order",
        "focus": {"reference": "ServiceRequest/referral.r1", "identifier": ident(m.REFERRAL_SYSTEM, "r1")},
        "for": {"reference": "Patient/client.cl1", "identifier": ident(m.CLIENT_SYSTEM, "cl1")},
        "authoredOn": "2023-02-03", "lastModified": "2023-02-03",
        "owner": {"reference": "Practitioner/member.cn1", "identifier": ident(m.MEMBER_SYSTEM, "cn1")},
    }
    assert by_id(found, "Task", "status.r1.scheduled")["status"] == "in-progress"
    # Every Task says its graphsvc status exactly, so no reader has to guess it from Task.status.
    assert all(t["businessStatus"]["coding"][0]["system"] == m.STATUS_SYSTEM for t in found["Task"])
    assert "client.cl2" in [p["id"] for p in found["Patient"]]  # the client of the voided referral stays


def test_two_exports_are_byte_identical_and_private(small, tmp_path):
    old = os.umask(0)
    try:
        export_fhir(small, tmp_path / "a")
        export_fhir(small, tmp_path / "b")
        export_fhir(small, tmp_path / "a")  # again into the same folder: replaced whole
    finally:
        os.umask(old)
    for name in FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
        assert stat.S_IMODE((tmp_path / "a" / name).stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "a").stat().st_mode) == 0o700
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b"]  # no temporary folder left


def test_refuses_a_folder_holding_other_files(small, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    (out / "clients.csv").write_text("a CSV export is not a FHIR one")
    with pytest.raises(InvalidInput, match="clients.csv, notes.txt"):
        export_fhir(small, out)
    assert sorted(p.name for p in out.iterdir()) == ["clients.csv", "notes.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]


def test_the_practice_npi_and_ids_that_fhir_would_refuse():
    assert practice("1234567893")["identifier"] == [ident(m.PRACTICE_SYSTEM, "practice"),
                                                    ident(m.NPI_SYSTEM, "1234567893")]
    # graphsvc ids may hold "_" and ":"; FHIR ids may not: escaped, distinct, and hashed when too long.
    ids = ["a_b", "a-ub", "a:b", "a-cb", "a.b", "a-db", "a--b", "a-b", "x" * 64, "x" * 63 + "_"]
    made = [resource_id("client", i) for i in ids]
    assert len(set(made)) == len(made) and all(FHIR_ID.fullmatch(r) for r in made)
    found = resources({"client": [{"id": i} for i in ids],
                       "clinician": [{"id": "cn_1", "name": "Ana", "npi": "1234567893"}]})
    for resource_type, items in found.by_type.items():
        for resource in items:
            get_fhir_model_class(resource_type).model_validate(resource)
    assert sorted(p["identifier"][0]["value"] for p in found.by_type["Patient"]) == sorted(ids)
    assert found.by_type["Practitioner"][0]["identifier"] == [ident(m.MEMBER_SYSTEM, "cn_1"),
                                                               ident(m.NPI_SYSTEM, "1234567893")]


def test_the_export_command(small, cli, tmp_path):
    out = tmp_path / "fhir"
    result = cli("export", str(out), "--format", "fhir", "--json")
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert answer["ok"] is True and answer["folder"] == str(out) and answer["resources"] == 41
    assert answer["files"]["Patient.ndjson"] == 6
    text = cli("export", str(out), "--format", "fhir")
    assert text.exit_code == 0, text.output
    assert "Task.ndjson" in text.output and "41 resources" in text.output
    # Audited as the CSV export is: who, the folder, the resources per file, and the format.
    entries = [e for e in Accounts(tmp_path / "cli-private" / "cli-accounts.sqlite3").entries()
               if e["action"] == "export"]
    assert len(entries) == 2 and entries[0]["user"] == f"cli:{getpass.getuser()}"
    assert entries[0]["detail"] == {"folder": str(out), "rows": answer["files"], "data_format": "fhir"}


def test_seed_writes_the_demo_practice_as_fhir(tmp_path):
    runner = CliRunner()
    for name in ("a", "b"):
        result = runner.invoke(seed_main, ["--out", str(tmp_path / name), "--format", "fhir", "--quiet",
                                           *SEED_SMALL], env={"GRAPHSVC_PRACTICE_NPI": "1234567893"})
        assert result.exit_code == 0, result.output
    for name in FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    found = read_folder(tmp_path / "a")
    counts = generate(tmp_path / "csv", seed=42, **{k.removeprefix("--"): int(v) for k, v in
                                                   zip(SEED_SMALL[::2], SEED_SMALL[1::2], strict=True)})
    assert len(found["Patient"]) == counts["clients.csv"]
    assert len(found["ServiceRequest"]) == counts["referrals.csv"] + counts["referrals_out.csv"]
    assert len(found["Task"]) == counts["referrals.csv"] + counts["referral_statuses.csv"]
    assert len(found["Practitioner"]) == counts["clinicians.csv"] + counts["staff.csv"] + counts["referrers.csv"]
    assert ident(m.NPI_SYSTEM, "1234567893") in by_id(found, "Organization", "practice")["identifier"]
    bad = runner.invoke(seed_main, ["--out", str(tmp_path / "c"), "--format", "fhir", *SEED_SMALL],
                        env={"GRAPHSVC_PRACTICE_NPI": "1234567890"})
    assert bad.exit_code != 0 and not (tmp_path / "c").exists()


def test_the_seed_fhir_equals_the_export_of_the_seed_csv(graph, tmp_path):
    """The seed's FHIR files are those ``graphsvc export --format fhir`` writes after importing its CSV."""
    result = CliRunner().invoke(seed_main, ["--out", str(tmp_path / "fhir"), "--format", "fhir", "--quiet",
                                            *SEED_SMALL], env={"GRAPHSVC_PRACTICE_NPI": ""})
    assert result.exit_code == 0, result.output
    CliRunner().invoke(seed_main, ["--out", str(tmp_path / "csv"), "--quiet", *SEED_SMALL])
    import_folder(graph, tmp_path / "csv")
    export_fhir(graph, tmp_path / "exported")
    for name in FILES:
        assert (tmp_path / "exported" / name).read_bytes() == (tmp_path / "fhir" / name).read_bytes(), name
