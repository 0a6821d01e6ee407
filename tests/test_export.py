"""graphsvc export: one consistent state of the graph, swapped into place whole."""

from __future__ import annotations

import csv
import threading
import time
from pathlib import Path

import pytest

from graphsvc.csvio import exporter
from graphsvc.csvio.exporter import export_folder
from graphsvc.errors import InvalidInput
from graphsvc.store.schema import init_schema
from tests.helpers import TEST_QUERIES, fixture_path, import_folder, service_of, snapshot, someone

SMALL = Path(fixture_path("small"))


def ids(folder: Path, name: str, column: str = "id") -> list[str]:
    with open(folder / name, newline="") as f:
        return [row[column] for row in csv.DictReader(f)]


def contents(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_export_during_writes_is_consistent_and_imports_again(graph, tmp_path):
    import_folder(graph, SMALL)
    stop = threading.Event()
    recorded = []

    def keep_writing():  # a new client, then a referral for it, each its own transaction
        n = 0
        while not stop.is_set():
            n += 1
            service_of(graph).save("client", {"id": f"cw{n}", "needs": ["adhd"], "population": "child",
                                              "insurance": "medicaid"}, by=someone())
            service_of(graph).record_referral({"id": f"rw{n}", "date": "2024-05-01", "referrer_id": "rf1",
                                               "client_id": f"cw{n}", "addressed_to": "cn1"}, by=someone())
            recorded.append(n)

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        for k in range(8):
            out = tmp_path / f"out{k}"
            export_folder(graph, out)
            clients = set(ids(out, "clients.csv"))
            referred = ids(out, "referrals.csv", "client_id")
            assert [c for c in referred if c not in clients] == []
            # The snapshot holds whole writes: every client written has its referral, except maybe the
            # last, whose referral is its own later transaction.
            written = [c for c in clients if c.startswith("cw")]
            assert len(written) - len([c for c in referred if c.startswith("cw")]) in (0, 1)
    finally:
        stop.set()
        writer.join()
    assert len(recorded) > 0
    graph.write("wipe_graph", catalog=TEST_QUERIES)
    init_schema(graph)
    report = import_folder(graph, tmp_path / "out7")
    assert report.problems == []
    assert report.files["referrals.csv"].written == len(ids(tmp_path / "out7", "referrals.csv"))


def test_a_write_waits_for_the_export_so_no_file_sees_it(graph, tmp_path, monkeypatch):
    import_folder(graph, SMALL)
    real = exporter._write_file
    started = []

    def write_file(spec, path, rows):
        if not started:  # the first file read (referrals_out.csv): a new clinician is saved meanwhile
            thread = threading.Thread(target=lambda: service_of(graph).save("clinician", {
                "id": "cn9", "name": "Ida Wu", "specialties": ["adhd"], "populations": ["adult"],
                "insurances": ["aetna"], "schedule": ["weekend"], "accepting_new": True}, by=someone()))
            thread.start()
            started.append(thread)
            time.sleep(1.0)
            assert thread.is_alive()  # waiting for the export's lock on the Practice node
        return real(spec, path, rows)

    monkeypatch.setattr(exporter, "_write_file", write_file)
    export_folder(graph, tmp_path / "out")
    started[0].join(timeout=30)
    assert "cn9" not in ids(tmp_path / "out", "clinicians.csv")  # clinicians.csv is read last
    assert [r["id"] for r in graph.read("export_clinicians")][-1] == "cn9"  # and the write went through after


def test_a_failed_export_leaves_the_old_folder_as_it_was(graph, tmp_path, monkeypatch):
    import_folder(graph, SMALL)
    out = tmp_path / "out"
    export_folder(graph, out)
    old = contents(out)
    service_of(graph).save("client", {"id": "cl9", "needs": ["adhd"], "population": "adult",
                                      "insurance": "aetna"}, by=someone())
    real = exporter._write_file
    calls = []

    def write_file(spec, path, rows):
        calls.append(spec.name)
        if len(calls) == 5:
            raise OSError(28, "No space left on device")
        return real(spec, path, rows)

    monkeypatch.setattr(exporter, "_write_file", write_file)
    with pytest.raises(OSError):
        export_folder(graph, out)
    assert contents(out) == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temporary folder left beside it

    monkeypatch.setattr(exporter, "_write_file", real)
    export_folder(graph, out)  # a good export replaces the folder whole
    assert "cl9" in ids(out, "clients.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert sorted(contents(out)) == sorted(old)


def test_export_refuses_a_folder_holding_other_files(graph, tmp_path):
    import_folder(graph, SMALL)
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    before = snapshot(graph)
    with pytest.raises(InvalidInput, match="notes.txt"):
        export_folder(graph, out)
    assert (out / "notes.txt").read_text() == "keep me"
    assert snapshot(graph) == before
