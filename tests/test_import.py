"""graphsvc import / export against the real Neo4j."""

from __future__ import annotations

import filecmp
import shutil
from pathlib import Path

import pytest

from graphsvc.csvio.exporter import export_folder
from graphsvc.csvio.importer import ImportRejected
from graphsvc.store.reads import held_by
from tests.helpers import TEST_QUERIES, fixture_path, import_folder, snapshot

SMALL = Path(fixture_path("small"))
FILES = sorted(p.name for p in SMALL.glob("*.csv"))


def folder_like_small(tmp_path: Path, append: dict[str, str] = (), replace: dict[str, str] = ()) -> Path:
    """A copy of the small fixture, with lines appended to or files replaced."""
    out = tmp_path / "in"
    shutil.copytree(SMALL, out)
    for name, text in dict(replace).items():
        (out / name).write_text(text)
    for name, lines in dict(append).items():
        with open(out / name, "a") as f:
            f.write(lines)
    return out


def test_small_fixture_imports_with_exact_counts(graph):
    report = import_folder(graph, SMALL)
    assert {k: (v.rows, v.written, v.bad) for k, v in report.files.items()} == {
        "clinicians.csv": (3, 3, 0), "staff.csv": (2, 2, 0), "external_providers.csv": (2, 2, 0),
        "clients.csv": (6, 6, 0), "referrers.csv": (3, 3, 0), "handoffs.csv": (1, 1, 0),
        "referrals.csv": (6, 6, 0), "introductions.csv": (2, 2, 0), "contacts.csv": (3, 3, 0),
        "referrals_out.csv": (1, 1, 0),
    }
    assert report.problems == []
    tenures = graph.read("export_handoffs")
    assert [(str(t["date"]), t["referrer_id"], t["point_person_id"]) for t in tenures] == [
        ("2024-01-15", "rf2", "cn2")]
    (held,) = held_by(graph, ["rf2"])  # its current tenure: the one without an end
    assert (held["point_person_id"], str(held["current_since"])) == ("cn2", "2024-01-15")
    # The handed-over tenure is closed, not deleted.
    closed = graph.read("referral_parties", catalog=TEST_QUERIES, id="r6")
    assert closed[0]["addressed_kind"] == "staff" and closed[0]["assigned_to"] == "cn1"


def test_every_kind_of_bad_row_is_reported_and_nothing_is_written(graph, tmp_path):
    folder = folder_like_small(
        tmp_path,
        append={
            "referrals.csv": (
                "r7,2024-02-30,rf1,cl1,cn1,cn1,\n"          # line 8: not a calendar date
                "r8,2024-06-01,rf1,cl404,cn1,cn1,\n"        # line 9: unknown client
                "r1,2024-06-01,rf1,cl1,cn1,cn1,\n"          # line 10: duplicate id
                "r9,2024-06-01,rf1,cl1,cn1,cn2,because\n"   # line 11: bad enum
                "r10,2022-01-01,rf1,cl1,cn1,cn1,\n"         # line 12: before the relationship began
                "r11,2024/06/01,rf1,cl1,cn1,cn2,\n"         # line 13: wrong date form, and a pass without a reason
                "r12,2024-06-02,rf1,cl1,st1,cn1,insurance\n"  # line 14: staff don't pass
            ),
            "referrers.csv": "rf4,Dr. Ng,physician,Ng Clinic,cn404,2024-01-01\n",  # line 5
            "clients.csv": "cl7,adhd,Kid!,medicaid,\n",   # line 8: not a word (a new word is adopted: empty practice)
        },
        replace={"contacts.csv": "id,date,referrer_id,member_id\nk1,2023-01-20,rf1,cn1\n"},
    )
    before = snapshot(graph)
    with pytest.raises(ImportRejected) as caught:
        import_folder(graph, folder)
    assert caught.value.problems == [
        "clients.csv:8: field 'population': must be a lowercase slug of letters, digits and _ (got 'Kid!')",
        "referrers.csv:5: unknown point_person_id 'cn404'",
        "referrals.csv:8: field 'date': is not a real calendar date (got '2024-02-30')",
        "referrals.csv:9: unknown client_id 'cl404'",
        "referrals.csv:10: duplicate id r1 (first on line 2)",
        "referrals.csv:11: field 'pass_reason': must be one of 'scheduling', 'insurance', "
        "'specialty' or 'other' (got 'because')",
        "referrals.csv:12: field 'date': 2022-01-01 is before the relationship with referrer 'rf1' began on "
        "2023-01-10",
        "referrals.csv:13: field 'date': must be a date in the form YYYY-MM-DD (got '2024/06/01')",
        "referrals.csv:14: pass_reason given, but only a referral addressed to a clinician is passed",
        "contacts.csv:1: missing column 'kind'",
    ]
    assert snapshot(graph) == before


def test_a_pass_without_a_reason_is_refused(graph, tmp_path):
    folder = folder_like_small(tmp_path, append={"referrals.csv": "r7,2024-06-01,rf1,cl1,cn1,cn2,\n"})
    with pytest.raises(ImportRejected) as caught:
        import_folder(graph, folder)
    assert caught.value.problems == [
        "referrals.csv:8: assigned_to 'cn2' differs from addressed_to 'cn1': a pass needs a pass_reason"]


def test_header_problems_name_the_column(graph, tmp_path):
    folder = folder_like_small(tmp_path, replace={
        "clients.csv": "id,needs,population,insurance,schedule,name\ncl1,adhd,child,medicaid,,Jo\n",
        "staff.csv": "id,name,role,role\nst1,Dee,intake_coordinator,other\n",
    })
    (folder / "referals.csv").write_text("id\n")
    with pytest.raises(ImportRejected) as caught:
        import_folder(graph, folder)
    lines = caught.value.problems
    assert lines[:3] == [
        "referals.csv: not a graphsvc file; expected one of vocabularies.csv, clinicians.csv, staff.csv, "
        "external_providers.csv, clients.csv, referrers.csv, merged_referrers.csv, handoffs.csv, referrals.csv, "
        "referral_statuses.csv, introductions.csv, contacts.csv, referrals_out.csv, tasks.csv",
        "staff.csv:1: column 'role' appears twice",
        "clients.csv:1: unknown column 'name' (client records hold a pseudonymous id and "
        "matching attributes only); expected id,needs,population,insurance,schedule",
    ]


def test_skip_bad_writes_good_rows_and_drops_rows_that_depend_on_bad_ones(graph, tmp_path):
    folder = folder_like_small(tmp_path, append={
        "clients.csv": "cl7,adhd,Kid!,medicaid,\n",                  # bad
        "referrals.csv": "r7,2024-06-01,rf1,cl7,cn1,cn1,\n"          # refers to the bad client
                         "r8,2024-06-02,rf1,cl1,cn1,cn1,\n",         # good
    })
    report = import_folder(graph, folder, skip_bad=True)
    assert [str(p) for p in report.problems] == [
        "clients.csv:8: field 'population': must be a lowercase slug of letters, digits and _ (got 'Kid!')",
        "referrals.csv:8: unknown client_id 'cl7'",
    ]
    assert (report.files["clients.csv"].written, report.files["clients.csv"].bad) == (6, 1)
    assert (report.files["referrals.csv"].written, report.files["referrals.csv"].bad) == (7, 1)
    assert graph.read("referral_parties", catalog=TEST_QUERIES, id="r8")[0]["assigned_to"] == "cn1"
    assert graph.read("referral_parties", catalog=TEST_QUERIES, id="r7") == []


def test_import_is_idempotent(graph):
    import_folder(graph, SMALL)
    first = snapshot(graph)
    import_folder(graph, SMALL)
    assert snapshot(graph) == first


def test_a_corrected_row_replaces_the_old_one(graph, tmp_path):
    import_folder(graph, SMALL)
    folder = tmp_path / "fix"
    folder.mkdir()
    (folder / "referrals.csv").write_text(
        "id,date,referrer_id,client_id,addressed_to,assigned_to,pass_reason\n"
        "r3,2023-06-21,rf2,cl2,practice,cn2,\n")
    import_folder(graph, folder)  # refers to ids already in the graph
    assert graph.read("referral_parties", catalog=TEST_QUERIES, id="r3") == [
        {"id": "r3", "addressed_to": "practice", "addressed_kind": "practice",
         "assigned_to": "cn2", "pass_reason": None}]


def test_incremental_import_checks_ids_against_the_graph(graph, tmp_path):
    import_folder(graph, SMALL)
    folder = tmp_path / "more"
    folder.mkdir()
    (folder / "staff.csv").write_text("id,name,role\ncn1,Ana Again,office_manager\n")
    (folder / "contacts.csv").write_text("id,date,referrer_id,member_id,kind\nk9,2024-01-01,rf9,cn1,lunch\n")
    with pytest.raises(ImportRejected) as caught:
        import_folder(graph, folder)
    assert caught.value.problems == [
        "staff.csv:2: field 'id': 'cn1' is already a clinician's id; a staff member needs an id of its own",
        "contacts.csv:2: unknown referrer_id 'rf9'",
    ]


# The columns added after the small fixture was written (issue 17): a folder without them still imports, and
# its export has them with their defaults.
# Columns added since the fixture's files were written (issue 17's loop, issue 18's voids, issue 20's NPIs): an
# export has them, with these values for records that never had them.
VOID_COLUMNS = [("voided_on", ""), ("void_reason", "")]
NPI_COLUMNS = [("npi", "")]
ADDED_COLUMNS = {"referrals.csv": [("consent_to_update", "unknown"), *VOID_COLUMNS],
                 "contacts.csv": [("covers", ""), *VOID_COLUMNS],
                 "introductions.csv": VOID_COLUMNS, "referrals_out.csv": VOID_COLUMNS,
                 "clinicians.csv": NPI_COLUMNS, "staff.csv": NPI_COLUMNS, "referrers.csv": NPI_COLUMNS}
# The columns the demo generator (seed) leaves out: the voids' (it voids nothing) and the NPIs' (it gives none).
NOT_SEEDED = {name: columns for name, columns in ADDED_COLUMNS.items()
              if columns in (VOID_COLUMNS, NPI_COLUMNS)} | {"referrals.csv": VOID_COLUMNS, "contacts.csv": VOID_COLUMNS}


def with_added(lines: list[str], columns: list[tuple[str, str]]) -> list[str]:
    """A file's lines with ``columns`` added at the end: their names in the header, their values below."""
    return ([lines[0] + "".join("," + c for c, _ in columns)]
            + [line + "".join("," + v for _, v in columns) for line in lines[1:]])


def test_export_round_trips_byte_for_byte(graph, tmp_path):
    import_folder(graph, SMALL)
    report = export_folder(graph, tmp_path / "out")
    assert report.files["referrals.csv"] == 6
    same = [name for name in FILES if name not in ADDED_COLUMNS]
    match, mismatch, errors = filecmp.cmpfiles(SMALL, tmp_path / "out", same, shallow=False)
    assert (mismatch, errors) == ([], [])
    for name, columns in ADDED_COLUMNS.items():  # the old folder, plus the columns' defaults
        old = (Path(SMALL) / name).read_text().splitlines()
        assert (tmp_path / "out" / name).read_text().splitlines() == with_added(old, columns)
    # ... and the export imports into an empty graph as the same graph.
    before = snapshot(graph)
    graph.write("wipe_graph", catalog=TEST_QUERIES)
    graph.write("practice_node", catalog=TEST_QUERIES)
    import_folder(graph, tmp_path / "out")
    assert snapshot(graph) == before


def test_generated_practice_imports_cleanly_and_round_trips(graph, tmp_path):
    from seed.generate import generate

    counts = generate(tmp_path / "seed", seed=7, clinicians=8, referrers=60, referrals=600)
    report = import_folder(graph, tmp_path / "seed", batch_size=97)  # several batches per file
    assert report.problems == []
    assert {k: v.written for k, v in report.files.items()} == counts
    export_folder(graph, tmp_path / "out")
    names = sorted(name for name in counts if name not in ADDED_COLUMNS)
    match, mismatch, errors = filecmp.cmpfiles(tmp_path / "seed", tmp_path / "out", names, shallow=False)
    assert (mismatch, errors) == ([], [])
    for name in ADDED_COLUMNS:  # the seed writes the loop's columns, not the voids' nor the NPIs'
        seeded = (tmp_path / "seed" / name).read_text().splitlines()
        assert (tmp_path / "out" / name).read_text().splitlines() == with_added(seeded, NOT_SEEDED[name]), name
