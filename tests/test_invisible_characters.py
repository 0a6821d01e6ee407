"""Names and free text with bidi controls or invisible formatting characters are refused on every path.

A U+202E (right-to-left override) in a referrer's name makes it display as
something else on every page, list and CSV; a zero-width space makes two
names that look the same differ. The form, the JSON API, an import and the
service all refuse them, naming the field and the character.
"""

from __future__ import annotations

import pytest

from graphsvc import records
from graphsvc.errors import InvalidInput
from tests.helpers import service_of, snapshot, someone
from tests.test_forms import post, text_of
from tests.test_import_reading import folder_with, read

RLO_NAME = "Dr. \u202eelaH"  # shows as "Dr. Hale" reversed
RLO_PROBLEM = ("must not hold bidi or invisible formatting characters; found U+202E (RIGHT-TO-LEFT OVERRIDE) "
               "at character 5")


@pytest.mark.parametrize("name, found", [
    ("Ana\u202eRuiz", "U+202E (RIGHT-TO-LEFT OVERRIDE) at character 4"),
    ("Ana\u2066Ruiz", "U+2066 (LEFT-TO-RIGHT ISOLATE) at character 4"),
    ("Ana\u200fRuiz", "U+200F (RIGHT-TO-LEFT MARK) at character 4"),
    ("Ana\u200bRuiz", "U+200B (ZERO WIDTH SPACE) at character 4"),
    ("Ana\u00adRuiz", "U+00AD (SOFT HYPHEN) at character 4"),
    ("Ana\u2060Ruiz", "U+2060 (WORD JOINER) at character 4"),
    ("Ana Ruiz\U000e0041", "U+E0041 (TAG LATIN CAPITAL LETTER A) at character 9"),
    ("Ana\ufeffRuiz", "U+FEFF (ZERO WIDTH NO-BREAK SPACE) at character 4"),
    ("Dr. Hale\u3164", "U+3164 (HANGUL FILLER) at character 9"),
    ("Dr.\u115f Hale", "U+115F (HANGUL CHOSEONG FILLER) at character 4"),
    ("Dr.\u1160 Hale", "U+1160 (HANGUL JUNGSEONG FILLER) at character 4"),
    ("Dr. H\u034fale", "U+034F (COMBINING GRAPHEME JOINER) at character 6"),
    ("Dr. Hale\u2800", "U+2800 (BRAILLE PATTERN BLANK) at character 9"),
    ("Dr. Hale\uffa0", "U+FFA0 (HALFWIDTH HANGUL FILLER) at character 9"),
])
def test_bidi_and_invisible_characters_are_refused_naming_the_character(name, found):
    with pytest.raises(InvalidInput) as caught:
        records.KIND["clinician"].parse(id="cn9", name=name)
    assert caught.value.problems == [
        f"field 'name': must not hold bidi or invisible formatting characters; found {found} (got {name!r})"]


@pytest.mark.parametrize("name, problem", [
    ("\u200dDr. Hale", "must not start with an invisible joiner; found U+200D (ZERO WIDTH JOINER) at character 1"),
    ("Dr. Hale\u200c", "must not end with an invisible joiner; found U+200C (ZERO WIDTH NON-JOINER) at character 9"),
])
def test_a_joiner_at_either_end_joins_nothing_and_is_refused(name, problem):
    with pytest.raises(InvalidInput) as caught:
        records.KIND["clinician"].parse(id="cn9", name=name)
    assert caught.value.problems == [f"field 'name': {problem} (got {name!r})"]


@pytest.mark.parametrize("name", [
    "\u0645\u06cc\u200c\u0634\u0648\u062f",  # Persian, with a zero-width non-joiner
    "\u0915\u094d\u200d\u0937",  # Devanagari, with a zero-width joiner
    "\u05d3\u05f4\u05e8 \u05db\u05d4\u05df",  # Hebrew, right to left by itself: no control needed
    "Zoë Brontë–Ng",
])
def test_scripts_that_need_joiners_or_run_right_to_left_are_text(name):
    assert records.KIND["clinician"].parse(id="cn9", name=name).name == name


def test_the_service_refuses_it_in_a_name_writing_nothing(small):
    service = service_of(small)
    before = snapshot(small)
    with pytest.raises(InvalidInput) as caught:
        service.save("staff", {"id": "st9", "name": RLO_NAME, "role": "other"}, by=someone())
    assert caught.value.problems == [f"field 'name': {RLO_PROBLEM} (got {RLO_NAME!r})"]
    assert snapshot(small) == before


def test_an_import_names_the_file_line_and_field(graph, tmp_path):
    folder = folder_with(tmp_path, referrers=(
        "id,name,kind,organization,point_person_id,since\n"
        f"rf1,{RLO_NAME},physician,,cn1,2024-01-01\n"
        "rf2,Dr. Vega,physician,North\u200bside,cn1,2024-01-01\n"))
    assert read(folder)[1] == [
        f"referrers.csv:2: field 'name': {RLO_PROBLEM} (got {RLO_NAME!r})",
        "referrers.csv:3: field 'organization': must not hold bidi or invisible formatting characters; "
        "found U+200B (ZERO WIDTH SPACE) at character 6 (got 'North\\u200bside')",
    ]


def test_the_api_answers_400_naming_the_field(small, as_role):
    manager = as_role("manager")
    answer = manager.post("/api/referrers", json={"id": "rf9", "name": RLO_NAME, "kind": "physician",
                                                  "point_person_id": "cn2", "since": "2024-01-02"})
    assert answer.status_code == 400
    assert answer.get_json()["problems"] == [f"field 'name': {RLO_PROBLEM} (got {RLO_NAME!r})"]
    assert manager.get("/api/referrers/rf9").status_code == 404


def test_the_form_says_so_beside_the_field(small, client):
    answer = post(client, "/referrers/new", {"id": "rf9", "name": RLO_NAME, "kind": "physician",
                                             "organization": "", "point_person_id": "cn2", "since": "2024-05-01"})
    assert answer.status_code == 422
    assert "M" + RLO_PROBLEM[1:] in text_of(answer)
    assert client.get("/referrers/rf9").status_code == 404
