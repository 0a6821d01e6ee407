"""Reading an import folder: every row is written or reported, at its own line.

A bad byte, an over-long cell or a stray quote spoils its own row only; the
summary accounts for every row (rows = written + bad, per file). Also the
limits every path shares (field lengths, control characters, future dates)
and the exact round trip of texts a spreadsheet would take for formulas.
"""

from __future__ import annotations

import filecmp
import json
from datetime import date
from pathlib import Path

import pytest

from graphsvc import records
from graphsvc.csvio.exporter import export_folder
from graphsvc.csvio.format import from_cell, to_cell
from graphsvc.csvio.importer import ImportRejected, read_folder
from graphsvc.errors import InvalidInput
from graphsvc.store.schema import init_schema
from tests.helpers import TEST_QUERIES, fixture_path, import_folder, service_of, snapshot, someone

CLIENTS = "id,needs,population,insurance,schedule\n"
PROVIDERS = "id,name,niches\n"


def folder_with(tmp_path: Path, **files: bytes | str) -> Path:
    out = tmp_path / "in"
    out.mkdir()
    for name, content in files.items():
        data = content.encode() if isinstance(content, str) else content
        (out / f"{name}.csv").write_bytes(data)
    return out


def clients(n: int) -> list[bytes]:
    return [f"cl{i},adhd,child,medicaid,\n".encode() for i in range(1, n + 1)]


def providers(n: int) -> list[str]:
    return [f"ep{i},Provider {i},inpatient\n" for i in range(1, n + 1)]


def counts(report) -> dict:
    return {k: (v.rows, v.written, v.bad) for k, v in report.files.items()}


def read(folder: Path) -> tuple[dict, list[str]]:
    """Read (no database): rows and unreadable per file, and the problems."""
    problems = []
    parsed = read_folder(folder, problems)
    return {k: (len(b.rows), b.unreadable) for k, b in parsed.items()}, [str(p) for p in problems]


# -- skip-bad loses nothing -------------------------------------------------


def test_a_bad_byte_spoils_its_own_row_only(graph, tmp_path):
    rows = clients(300)
    rows[249] = b"cl250,adhd,ch\xffild,medicaid,\n"  # row 250 is on line 251
    folder = folder_with(tmp_path, clients=CLIENTS.encode() + b"".join(rows))
    with pytest.raises(ImportRejected) as caught:
        import_folder(graph, folder)
    assert caught.value.problems == [
        "clients.csv:251: not UTF-8: byte 0xFF at character 14 (save the file as UTF-8)"]
    report = import_folder(graph, folder, skip_bad=True)
    assert counts(report) == {"clients.csv": (300, 299, 1)}
    assert [str(p) for p in report.problems] == [
        "clients.csv:251: not UTF-8: byte 0xFF at character 14 (save the file as UTF-8)"]
    assert report.as_dict()["bad"] == 1
    with graph.session() as s:
        assert s.run("MATCH (c:Client) RETURN count(c) AS n").single()["n"] == 299
        assert s.run("MATCH (c:Client {id: 'cl251'}) RETURN c.id AS id").single()["id"] == "cl251"


def test_bad_bytes_beyond_the_first_read_chunk_name_their_line(tmp_path):
    rows = clients(2000)  # far past the 8 KB a text reader decodes at a time
    rows[1799] = b"cl1800,adhd,child,medi\xe9caid,\n"  # latin-1, line 1801
    rows[1899] = b"cl1900,adhd,child,medicaid,\xf0\x9f\n"  # a cut-off emoji, line 1901
    got = read(folder_with(tmp_path, clients=CLIENTS.encode() + b"".join(rows)))
    assert got == ({"clients.csv": (1998, 2)}, [
        "clients.csv:1801: not UTF-8: byte 0xE9 at character 23 (save the file as UTF-8)",
        "clients.csv:1901: not UTF-8: byte 0xF0 at character 28 (save the file as UTF-8)",
    ])


def test_a_200_kb_cell_is_one_bad_row_in_plain_words(graph, tmp_path):
    rows = providers(10)
    rows[2] = "ep3," + "x" * 204_800 + ",inpatient\n"  # row 3, line 4
    folder = folder_with(tmp_path, external_providers=PROVIDERS + "".join(rows))
    report = import_folder(graph, folder, skip_bad=True)
    assert counts(report) == {"external_providers.csv": (10, 9, 1)}
    assert [str(p) for p in report.problems] == [
        "external_providers.csv:4: field 'name' is 204,800 characters; the limit is 200"]


def test_a_cell_past_the_csv_limit_is_one_bad_row(tmp_path):
    rows = providers(10)
    rows[2] = "ep3," + "x" * 2_000_000 + ",inpatient\n"
    got = read(folder_with(tmp_path, external_providers=PROVIDERS + "".join(rows)))
    assert got == ({"external_providers.csv": (9, 1)}, [
        "external_providers.csv:4: has a cell of more than 1,048,576 characters"])


def test_an_unterminated_quote_is_named_and_the_rows_after_it_are_read(graph, tmp_path):
    rows = providers(10)
    rows[2] = 'ep3,"Open Quote Clinic,inpatient\n'  # line 4: the quote never closes
    folder = folder_with(tmp_path, external_providers=PROVIDERS + "".join(rows))
    report = import_folder(graph, folder, skip_bad=True)
    assert [str(p) for p in report.problems] == [
        "external_providers.csv:4: unterminated quoted field starting on line 4"]
    assert counts(report) == {"external_providers.csv": (10, 9, 1)}


def test_text_after_a_closing_quote_is_one_bad_row(tmp_path):
    rows = providers(5)
    rows[1] = 'ep2,"Quoted" Clinic,inpatient\n'
    rows[3] = 'ep4,"Two\nLines" here,inpatient\n'  # lines 5-6
    got = read(folder_with(tmp_path, external_providers=PROVIDERS + "".join(rows)))
    assert got == ({"external_providers.csv": (3, 3)}, [
        "external_providers.csv:3: a quoted field has text after its closing quote "
        "(a \" inside quotes is written \"\")",
        "external_providers.csv:5: a quoted field has text after its closing quote on line 6 "
        "(a \" inside quotes is written \"\")",
        # ... and line 6 is read again on its own: not a row of three cells.
        "external_providers.csv:6: has 2 cells; the header has 3",
    ])


def test_line_numbers_follow_line_breaks_of_every_kind(tmp_path):
    text = (PROVIDERS.replace("\n", "\r\n") + "ep1,One,inpatient\r\n"
            + 'ep2,"Two\r\nLines",inpatient\r' + "ep3,Three,bad niche\r\n" + "\n" + "ep4,Four,x;x\n")
    got = read(folder_with(tmp_path, external_providers=b"\xef\xbb\xbf" + text.encode()))
    assert got == ({"external_providers.csv": (1, 3)}, [
        # a name is one line: the row is refused, and counted from its first line
        "external_providers.csv:3: field 'name': must be one line of text without control characters; "
        "found U+000D at character 4 (got 'Two\\r\\nLines')",
        "external_providers.csv:5: field 'niches': must be a lowercase slug of letters, digits and _ "
        "(got 'bad niche')",
        "external_providers.csv:7: field 'niches': lists 'x' twice (got 'x;x')",
    ])


def test_a_bad_header_counts_every_row_as_bad(graph, tmp_path):
    folder = folder_with(tmp_path, clients=b"id,ne\xffeds,population,insurance,schedule\n" + b"".join(clients(5)))
    report = import_folder(graph, folder, skip_bad=True)
    assert [str(p) for p in report.problems] == [
        "clients.csv:1: unreadable header: not UTF-8: byte 0xFF at character 6 (save the file as UTF-8)"]
    assert counts(report) == {"clients.csv": (5, 0, 5)}


def test_the_cli_summary_accounts_for_every_row(cli, tmp_path):
    rows = clients(300)
    rows[249] = b"cl250,adhd,child,medicaid\xff,\n"
    folder = folder_with(tmp_path, clients=CLIENTS.encode() + b"".join(rows))
    text = cli("import", str(folder), "--skip-bad", "--json").output  # stderr first: "skipped ..."
    assert text.startswith("skipped clients.csv:251: not UTF-8: byte 0xFF at character 26 ")
    out = json.loads(text[text.index("{"):])
    assert out["files"]["clients.csv"] == {"rows": 300, "written": 299, "bad": 1,
                                           "seconds": out["files"]["clients.csv"]["seconds"]}
    assert (out["written"], out["bad"]) == (299, 1)
    assert out["problems"] == ["clients.csv:251: not UTF-8: byte 0xFF at character 26 (save the file as UTF-8)"]


# -- messages quote values briefly ---------------------------------------------


def test_a_100_kb_value_is_not_echoed_in_full(tmp_path):
    big = "x" * 102_400
    folder = folder_with(tmp_path, clients=CLIENTS + f"{big},adhd,child,medicaid,\ncl2,adhd,{big},medicaid,\n",
                         external_providers=f"id,name,{big}\n")
    got, problems = read(folder)
    assert problems == [
        "external_providers.csv:1: unknown column '" + "x" * 80 + "…'; expected id,name,niches",
        "clients.csv:2: field 'id' is 102,400 characters; the limit is 64",
        "clients.csv:3: field 'population' is 102,400 characters; the limit is 64",
    ]
    assert len(problems[1]) <= 120


def test_limits_are_the_same_for_the_python_api(graph):
    with pytest.raises(InvalidInput) as caught:
        service_of(graph).save("external_provider", {"id": "e" * 65, "name": "N" * 131_072}, by=someone())
    assert caught.value.problems == [
        "field 'id' is 65 characters; the limit is 64",
        "field 'name' is 131,072 characters; the limit is 200",
    ]
    assert records.PATTERN_RULES[records.ID_PATTERN].startswith("must be 1-64 letters")
    service_of(graph).save("external_provider", {"id": "e" * 64,
                                                 "name": "N" * 200}, by=someone())  # at the limits: fine


# -- control characters ----------------------------------------------------------


@pytest.mark.parametrize("name, found", [
    ("Ana\x00Ruiz", "U+0000 at character 4"),
    ("Ana\tRuiz", "U+0009 at character 4"),
    ("Ana\nRuiz", "U+000A at character 4"),
    ("Ana\x1b[31mRuiz", "U+001B at character 4"),
    ("Ana\u2028Ruiz", "U+2028 at character 4"),
])
def test_control_characters_are_refused_in_text(name, found):
    with pytest.raises(InvalidInput) as caught:
        records.KIND["clinician"].parse(id="cn9", name=name)
    assert caught.value.problems == [
        f"field 'name': must be one line of text without control characters; found {found} (got {name!r})"]


def test_control_characters_are_refused_on_import_and_in_the_write_api(graph, tmp_path):
    folder = folder_with(tmp_path, referrers=(
        "id,name,kind,organization,point_person_id,since\n"
        'rf1,"Dr.\x00Hale",physician,,cn1,2024-01-01\n'
        'rf2,Dr. Vega,physician,"North\nside",cn1,2024-01-01\n'))
    assert read(folder)[1] == [
        "referrers.csv:2: field 'name': must be one line of text without control characters; "
        "found U+0000 at character 4 (got 'Dr.\\x00Hale')",
        "referrers.csv:3: field 'organization': must be one line of text without control characters; "
        "found U+000A at character 6 (got 'North\\nside')",
    ]
    with pytest.raises(InvalidInput) as caught:
        service_of(graph).save("staff", {"id": "st9", "name": "Max\x7fBell", "role": "other"}, by=someone())
    assert caught.value.problems == [
        "field 'name': must be one line of text without control characters; found U+007F at character 4 "
        "(got 'Max\\x7fBell')"]
    # Spaces around are trimmed, as before; accents and dashes are text.
    assert records.KIND["staff"].parse(id="st9", name=" Zoë Brontë–Ng\t", role="other").name == "Zoë Brontë–Ng"


# -- dates in the future -----------------------------------------------------------


def test_future_dates_are_refused_on_import(graph, tmp_path, monkeypatch):
    monkeypatch.setattr(records, "today", lambda: date(2024, 6, 1))
    folder = folder_with(tmp_path, contacts=(
        "id,date,referrer_id,member_id,kind\n"
        "k8,2024-06-01,rf1,cn1,lunch\n"      # today: fine
        "k9,2030-01-01,rf1,cn1,lunch\n"
        "k10,2024-06-02,rf1,cn1,lunch\n"))
    assert read(folder)[1] == [
        "contacts.csv:3: field 'date': 2030-01-01 is in the future",
        "contacts.csv:4: field 'date': 2024-06-02 is in the future",
    ]


@pytest.mark.parametrize("kind, fields", [
    ("referrer", dict(id="rf9", name="Dr. Ode", kind="physician", point_person_id="cn1", since="2030-01-01")),
    ("handoff", dict(date="2030-01-01", referrer_id="rf1", point_person_id="cn2")),
    ("referral", dict(id="r9", date="2030-01-01", referrer_id="rf1", client_id="cl1", addressed_to="cn1",
                      assigned_to="cn1")),
    ("introduction", dict(id="i9", date="2030-01-01", referrer_id="rf1", introduced_id="cn2", by_id="cn1")),
    ("contact", dict(id="k9", date="2030-01-01", referrer_id="rf1", member_id="cn1", kind="lunch")),
    ("referral_out", dict(id="o9", date="2030-01-01", referrer_id="rf1", client_id="cl1", provider_id="ep1",
                          niche="inpatient")),
])
def test_every_kind_of_date_refuses_the_future(kind, fields):
    with pytest.raises(InvalidInput) as caught:
        records.KIND[kind].parse(**fields)
    field = "since" if kind == "referrer" else "date"
    assert caught.value.problems == [f"field '{field}': 2030-01-01 is in the future"]


def test_record_contact_refuses_a_future_date(graph):
    import_folder(graph, fixture_path("small"))
    before = snapshot(graph)
    with pytest.raises(InvalidInput) as caught:
        service_of(graph).record_contact({"id": "k9", "date": "2030-01-01", "referrer_id": "rf1", "member_id": "cn1",
                                          "kind": "lunch"}, by=someone())
    assert caught.value.problems == ["field 'date': 2030-01-01 is in the future"]
    with pytest.raises(InvalidInput) as caught:
        service_of(graph).record_contact({"id": "k9", "date": date.fromordinal(records.today().toordinal() + 1),
                                          "referrer_id": "rf1", "member_id": "cn1", "kind": "lunch"}, by=someone())
    assert caught.value.problems[0].endswith(" is in the future")
    assert snapshot(graph) == before
    service_of(graph).record_contact({"id": "k9", "date": records.today(), "referrer_id": "rf1", "member_id": "cn1",
                                      "kind": "lunch"}, by=someone())


# -- spreadsheet formulas ------------------------------------------------------------

FORMULAS = ["=HYPERLINK(\"http://x\",\"y\")", "+1 Care", "-Dash Clinic", "@Home Pediatrics",
            "'=already quoted", "''+twice", "'Ohana Family Medicine", "Plain = name", "Ana"]


def test_to_cell_and_from_cell_round_trip_every_text():
    for text in FORMULAS + ["'", "''", "'x", "=", "'-'", ""]:
        assert from_cell(to_cell(text)) == text
        assert to_cell(text)[:1] not in ("=", "+", "-", "@", "\t", "\r")
    assert [to_cell(t) for t in FORMULAS] == [
        "'=HYPERLINK(\"http://x\",\"y\")", "'+1 Care", "'-Dash Clinic", "'@Home Pediatrics",
        "''=already quoted", "'''+twice", "'Ohana Family Medicine", "Plain = name", "Ana"]
    assert to_cell(["adhd", "ocd"]) == "adhd;ocd" and to_cell(-3) == "-3" and to_cell(None) == ""


def test_formula_like_names_round_trip_byte_for_byte(graph, tmp_path):
    providers = [(f"ep{i}", name) for i, name in enumerate(FORMULAS, 1)]
    folder = tmp_path / "in"
    folder.mkdir()
    export_folder(graph, folder)  # an empty graph: every file, header only
    import csv

    with open(folder / "external_providers.csv", "a", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows([(i, to_cell(n), "inpatient") for i, n in providers])
    with open(folder / "referrers.csv", "a", newline="", encoding="utf-8") as f:
        f.write("rf1,=cmd|' /C calc'!A0,physician,@SUM(1+1),cn1,2024-01-01,\n")  # as typed: escaped on export
    with open(folder / "clinicians.csv", "a", newline="", encoding="utf-8") as f:
        f.write("cn1,-Ana Ruiz,,,,,true,\n")
    import_folder(graph, folder)
    with graph.session() as s:
        stored = dict(s.run("MATCH (p:ExternalProvider) RETURN p.id AS id, p.name AS name").values())
        referrer = s.run("MATCH (r:Referrer) RETURN r.name AS name, r.organization AS org").single()
    assert stored == dict(providers)  # stored as the text itself, without the spreadsheet quote
    assert (referrer["name"], referrer["org"]) == ("=cmd|' /C calc'!A0", "@SUM(1+1)")

    export_folder(graph, tmp_path / "out")
    lines = (tmp_path / "out" / "referrers.csv").read_text().splitlines()
    assert lines[1] == "rf1,'=cmd|' /C calc'!A0,physician,'@SUM(1+1),cn1,2024-01-01,"
    assert (tmp_path / "out" / "clinicians.csv").read_text().splitlines()[1].startswith("cn1,'-Ana Ruiz,")

    # export -> import -> export: byte-identical files, and the same graph.
    before = snapshot(graph)
    graph.write("wipe_graph", catalog=TEST_QUERIES)
    init_schema(graph)
    import_folder(graph, tmp_path / "out")
    assert snapshot(graph) == before
    export_folder(graph, tmp_path / "again")
    names = sorted(p.name for p in (tmp_path / "out").glob("*.csv"))
    assert filecmp.cmpfiles(tmp_path / "out", tmp_path / "again", names, shallow=False)[1:] == ([], [])
    assert (tmp_path / "out" / "external_providers.csv").read_text() == (folder / "external_providers.csv").read_text()
