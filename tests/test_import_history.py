"""Point-person history through import: the handoff rules for referrers already
in the graph, and one current point person per referrer after every batch."""

from __future__ import annotations

import shutil
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import pytest

from graphsvc.csvio.importer import ImportRejected
from tests.helpers import TEST_QUERIES, fixture_path, import_folder, service_of, snapshot, someone

SMALL = Path(fixture_path("small"))
HANDOFFS = "date,referrer_id,point_person_id\n"


def handoffs_folder(tmp_path: Path, name: str, *rows: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "handoffs.csv").write_text(HANDOFFS + "".join(r + "\n" for r in rows))
    return folder


def tenures(graph) -> dict[str, list[tuple]]:
    """referrer id -> [(since, until, point person)] in order, dates as text."""
    out = defaultdict(list)
    for row in graph.read("tenures", catalog=TEST_QUERIES):
        out[row["referrer_id"]].append((str(row["since"]), row["until"] and str(row["until"]),
                                        row["point_person_id"]))
    return dict(out)


def assert_consistent(graph) -> None:
    """Every referrer has exactly one open tenure, the latest, and each other ends where the next starts."""
    for referrer, chain in tenures(graph).items():
        assert [u for _, u, _ in chain].count(None) == 1, (referrer, chain)
        assert [u for _, u, _ in chain[:-1]] == [s for s, _, _ in chain[1:]], (referrer, chain)


def rejected(graph, folder) -> list[str]:
    before = snapshot(graph)
    with pytest.raises(ImportRejected) as caught:
        import_folder(graph, folder)
    assert snapshot(graph) == before  # nothing written
    return caught.value.problems


# -- the handoff rules hold for referrers already in the graph ---------------------------------


def test_handoffs_for_stored_referrers_follow_the_same_rules(graph, tmp_path):
    import_folder(graph, SMALL)  # rf1: cn1 from 2023-01-10; rf2: cn1 from 2023-03-01, cn2 from 2024-01-15
    folder = handoffs_folder(
        tmp_path, "bad",
        "2023-01-10,rf1,cn2",   # on rf1's since
        "2022-12-01,rf3,cn1",   # before rf3's since
        "2025-01-01,rf1,cn1",   # to rf1's current holder
        "2025-01-01,rf2,cn2",   # to rf2's current holder (after its stored handoff)
        "2023-06-01,rf2,cn3",   # between rf2's since and its stored handoff: rewriting history
        "2024-01-15,rf2,cn3",   # on rf2's stored handoff, to someone else
    )
    assert rejected(graph, folder) == [
        # The one wording of the handoff rules, the same as a single handoff's (graphsvc.checks).
        "handoffs.csv:2: field 'date': 2023-01-10 is not after the current tenure's start 2023-01-10",
        "handoffs.csv:3: field 'date': 2022-12-01 is not after the current tenure's start 2024-02-01",
        "handoffs.csv:4: field 'point_person_id': 'cn1' already holds the role",
        "handoffs.csv:5: field 'point_person_id': 'cn2' already holds the role",
        # rf2's current tenure began with the handoff stored for 2024-01-15: an import does not rewrite it.
        "handoffs.csv:6: field 'date': 2023-06-01 is not after the current tenure's start 2024-01-15",
        "handoffs.csv:7: field 'date': 2024-01-15 is not after the current tenure's start 2024-01-15",
    ]


def test_new_handoffs_after_the_stored_ones_import_and_again_change_nothing(graph, tmp_path):
    import_folder(graph, SMALL)
    folder = handoffs_folder(
        tmp_path, "good",
        "2024-01-15,rf2,cn2",   # already stored as it is
        "2025-01-01,rf2,cn3",
        "2025-06-01,rf2,cn1",   # judged after the one before it in this file
        "2024-05-01,rf1,cn2",
    )
    import_folder(graph, folder)
    assert tenures(graph)["rf2"] == [("2023-03-01", "2024-01-15", "cn1"), ("2024-01-15", "2025-01-01", "cn2"),
                                     ("2025-01-01", "2025-06-01", "cn3"), ("2025-06-01", None, "cn1")]
    assert_consistent(graph)
    after = snapshot(graph)
    import_folder(graph, folder)       # the same folder again ...
    import_folder(graph, SMALL)        # ... and the first folder, whose history the graph extends
    assert snapshot(graph) == after


def test_a_folder_defining_the_referrer_may_not_rewrite_its_stored_history_either(graph, tmp_path):
    import_folder(graph, SMALL)
    service_of(graph).hand_over({"referrer_id": "rf2", "to_clinician_id": "cn3", "date": "2025-01-01"}, by=someone())
    folder = tmp_path / "in"
    shutil.copytree(SMALL, folder)
    with open(folder / "handoffs.csv", "a") as f:
        f.write("2024-06-01,rf2,cn1\n")  # between the fixture's handoff and the one stored since
    assert rejected(graph, folder) == [
        "handoffs.csv:3: field 'date': 2024-06-01 is not after the current tenure's start 2025-01-01",
    ]
    (folder / "handoffs.csv").write_text(HANDOFFS + "2024-01-15,rf2,cn2\n2025-01-01,rf2,cn3\n2025-03-01,rf2,cn1\n")
    import_folder(graph, folder)
    assert [t[2] for t in tenures(graph)["rf2"]] == ["cn1", "cn2", "cn3", "cn1"]
    assert_consistent(graph)


def test_moving_a_referrers_since_replaces_its_first_tenure(graph, tmp_path):
    import_folder(graph, SMALL)
    folder = tmp_path / "in"
    shutil.copytree(SMALL, folder)
    text = (folder / "referrers.csv").read_text().replace("cn1,2023-03-01", "cn1,2023-02-01")
    (folder / "referrers.csv").write_text(text)
    import_folder(graph, folder)
    assert tenures(graph)["rf2"] == [("2023-02-01", "2024-01-15", "cn1"), ("2024-01-15", None, "cn2")]


# -- one current point person per referrer, after every batch ------------------------------------


def split_folder(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A generated practice, and two folders: everything but handoffs, and only the handoffs."""
    from seed.generate import generate

    whole = tmp_path / "seed"
    generate(whole, seed=11, clinicians=8, referrers=60, referrals=200)
    # Our own handoffs: three each for every other referrer, each to the next clinician.
    clinicians = [row.split(",")[0] for row in (whole / "clinicians.csv").read_text().splitlines()[1:]]
    rows = []
    for n, line in enumerate((whole / "referrers.csv").read_text().splitlines()[1:]):
        cells = line.split(",")
        referrer, holder, since = cells[0], cells[-2], date.fromisoformat(cells[-1])
        for k in range(1, 4 if n % 2 else 1):
            holder = clinicians[(clinicians.index(holder) + 1) % len(clinicians)]
            rows.append(f"{since + timedelta(days=10 * k)},{referrer},{holder}")
    (whole / "handoffs.csv").write_text(HANDOFFS + "".join(r + "\n" for r in rows))
    first, second = tmp_path / "first", tmp_path / "second"
    shutil.copytree(whole, first)
    (first / "handoffs.csv").unlink()
    second.mkdir()
    shutil.copy(whole / "handoffs.csv", second / "handoffs.csv")
    return whole, first, second


@pytest.mark.slow
def test_referrers_then_handoffs_leave_one_open_tenure_each(graph, tmp_path):
    whole, first, second = split_folder(tmp_path)
    import_folder(graph, first, batch_size=1)
    assert {len(chain) for chain in tenures(graph).values()} == {1}
    assert_consistent(graph)
    import_folder(graph, second, batch_size=1, workers=3)  # one referrer's handoffs in concurrent batches
    assert_consistent(graph)
    done = snapshot(graph)
    import_folder(graph, whole, batch_size=7)
    assert snapshot(graph) == done  # the same graph as importing the whole folder


def test_an_import_cut_short_between_batches_leaves_one_current_point_person(graph, tmp_path):
    whole, _, _ = split_folder(tmp_path)
    referrers = len((whole / "referrers.csv").read_text().splitlines()) - 1
    written = 0

    class Killed(Exception):
        pass

    def progress(n):  # stop as soon as the first batch of handoffs.csv is written
        nonlocal written
        written += n
        if written > before_handoffs:
            raise Killed

    counts = {p.name: len(p.read_text().splitlines()) - 1 for p in whole.glob("*.csv")}
    before_handoffs = sum(n for name, n in counts.items()
                          if name in ("clinicians.csv", "staff.csv", "external_providers.csv",
                                      "clients.csv", "referrers.csv"))
    with pytest.raises(Killed):
        import_folder(graph, whole, batch_size=3, workers=2, progress=progress)
    chains = tenures(graph)
    assert len(chains) == referrers
    assert any(len(chain) > 1 for chain in chains.values())  # some handoffs were written ...
    assert_consistent(graph)                                  # ... and every referrer has one current tenure
    import_folder(graph, whole)  # running it again completes it
    assert_consistent(graph)


def test_hand_over_still_closes_the_previous_tenure(graph):
    import_folder(graph, SMALL)
    service_of(graph).hand_over({"referrer_id": "rf1", "to_clinician_id": "cn2", "date": "2025-02-01"}, by=someone())
    assert tenures(graph)["rf1"] == [("2023-01-10", "2025-02-01", "cn1"), ("2025-02-01", None, "cn2")]
