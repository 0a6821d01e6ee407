"""`graphsvc backup` and `graphsvc restore`, the restore drill, and the modes of exports, backups and the log."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import threading
from pathlib import Path

import pytest

from graphsvc.accounts import Accounts
from graphsvc.backups import backup, backups_in, check_backup
from graphsvc.csvio.exporter import export_folder
from graphsvc.errors import InvalidInput
from graphsvc.store.exports import graph_state
from graphsvc.store.weights import stored_weights
from tests.conftest import PASSWORD, USERS
from tests.helpers import TEST_QUERIES, add_words, fixture_path, service_of, someone

SMALL = Path(fixture_path("small"))
# A result of `graphsvc evaluate --tune`, as Service.store_weights takes it.
TUNED = {"weights": {"fit": 0.5, "trust": 0.3, "track": 0.2}, "decay": 0.9, "cut": "2024-06-30",
         "kept_defaults": False, "why": None, "cases": {"learn": 40, "validate": 12},
         "validation": {"hit_at_1": 0.42}}


def contents(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def wipe(graph) -> None:
    graph.write("wipe_graph", catalog=TEST_QUERIES)
    graph.write("practice_node", catalog=TEST_QUERIES)


def modes(folder: Path) -> dict[str, int]:
    """Every folder and file under ``folder`` (itself included) and its mode."""
    out = {".": folder.stat().st_mode & 0o777}
    for p in sorted(folder.rglob("*")):
        out[p.relative_to(folder).as_posix()] = p.stat().st_mode & 0o777
    return out


@pytest.fixture
def umask():
    old = os.umask(0o002)  # looser than graphsvc wants: the modes must not come from it
    yield
    os.umask(old)


@pytest.fixture
def practice(small):
    """The small practice and a few writes, so that a backup holds a word, a status-free referral and more."""
    add_words(small, needs=["ocd"])
    service_of(small).save("client", {"id": "cx1", "needs": ["ocd"], "population": "child",
                                      "insurance": "medicaid"}, by=someone())
    service_of(small).record_referral({"id": "rx1", "date": "2024-05-01", "referrer_id": "rf1", "client_id": "cx1",
                                       "addressed_to": "cn1"}, by=someone())
    return small


def run_backup(cli, folder, accounts_db, *args):
    result = cli("backup", str(folder), "--json", *args, env={"GRAPHSVC_ACCOUNTS_DB": str(accounts_db)})
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


# -- the drill -------------------------------------------------------------------------------------------------


def test_the_restore_drill(practice, app, client_as, web_accounts, cli, tmp_path, umask):
    graph = practice
    client_as("manager").get("/")  # signed in through the app: the audit log has its login
    service_of(graph).store_weights(TUNED)  # what `evaluate --tune` stores on the Practice node
    token_id, token = web_accounts.create_token("analyst", "reports")
    writes = service_of(graph, audit=web_accounts)
    stop, written = threading.Event(), []

    def keep_writing():  # the service keeps writing while the backup is taken
        n = 0
        while not stop.is_set() and n < 40:
            n += 1
            writes.save("client", {"id": f"cw{n}", "needs": ["adhd"], "population": "child",
                                   "insurance": "medicaid"}, by=someone())
            written.append(n)

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        made = run_backup(cli, tmp_path / "backups", web_accounts.path)
    finally:
        stop.set()
        writer.join()
    folder = Path(made["folder"])
    assert folder.parent == tmp_path / "backups" and folder.name.startswith("graphsvc-backup-")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert check_backup(folder) == manifest
    assert manifest["format"] == 1 and manifest["graphsvc"] == "0.1.0"
    assert set(manifest["files"]) == {"accounts.sqlite3", "practice.json"} | {
        f"graph/{p.name}" for p in (folder / "graph").iterdir()}
    assert manifest["graph"]["labels"]["Referral"] == manifest["graph"]["rows"]["referrals.csv"] == \
        manifest["files"]["graph/referrals.csv"]["rows"]
    assert manifest["graph"]["labels"]["Term"] == manifest["graph"]["rows"]["vocabularies.csv"] > 0
    assert b"needs,ocd" in (folder / "graph" / "vocabularies.csv").read_bytes()
    assert manifest["graph"]["version"] > 0
    assert manifest["accounts"]["users"] == len(USERS) and manifest["accounts"]["tokens"] == 1
    assert manifest["accounts"]["audit_intact"] is True
    assert modes(folder.parent)["."] == 0o700
    assert set(modes(folder).values()) <= {0o700, 0o600}
    assert modes(folder)["."] == modes(folder)["graph"] == 0o700
    assert modes(folder)["manifest.json"] == modes(folder)["accounts.sqlite3"] == modes(folder)["practice.json"] \
        == 0o600
    tuned = stored_weights(graph)
    assert json.loads((folder / "practice.json").read_text()) == {"suggestion_weights": tuned}
    # the backup is recorded in the live log (after the copy: not in it)
    assert web_accounts.entries(action="backup")[0]["detail"]["folder"] == str(folder)
    assert web_accounts.verify_audit().ok

    # Disaster: the graph is gone, and so is the accounts database.
    wipe(graph)
    restored_db = tmp_path / "restored" / "accounts.sqlite3"
    result = cli("restore", str(folder), env={"GRAPHSVC_ACCOUNTS_DB": str(restored_db)})
    assert result.exit_code == 0, result.output
    assert f"Restored {folder}" in result.output and "nodes and relationships: as in the backup" in result.output
    assert "audit log intact" in result.output

    # The export after the restore is the backup's, byte for byte.
    export_folder(graph, tmp_path / "after")
    assert contents(tmp_path / "after") == contents(folder / "graph")
    # The tuned weights are back (stored again: their tuned_at is the restore's).
    assert {**stored_weights(graph), "tuned_at": None} == {**tuned, "tuned_at": None}
    after = graph_state(graph)
    assert (after["labels"], after["relationships"]) == (manifest["graph"]["labels"],
                                                        manifest["graph"]["relationships"])
    # Accounts, tokens and the audit chain came back; the restore is its last entry.
    accounts = Accounts(restored_db)
    assert sorted(u.username for u in accounts.users()) == sorted(USERS)
    assert accounts.check_password("manager", PASSWORD).role == "manager"
    assert accounts.user_for_token(token).username == "analyst"
    assert [t["id"] for t in accounts.tokens()] == [token_id]
    entries = accounts.entries()
    assert entries[0]["action"] == "restore" and entries[0]["detail"]["counts_match"] is True
    assert len(entries) == manifest["accounts"]["audit"] + 1
    assert restored_db.stat().st_mode & 0o777 == 0o600
    with sqlite3.connect(restored_db) as db:  # a restore ends every web session (the app signed one in)
        if db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sessions'").fetchone():
            assert db.execute("SELECT count(*) FROM sessions").fetchone()[0] == 0
    db.close()
    verified = cli("audit", "verify", env={"GRAPHSVC_ACCOUNTS_DB": str(restored_db)})
    assert verified.exit_code == 0 and verified.output.startswith(
        f"The audit log is intact: {len(entries)} entries chained")


def test_a_restore_refuses_a_graph_or_accounts_that_hold_data_unless_forced(practice, cli, tmp_path, web_accounts):
    graph = practice
    folder = Path(run_backup(cli, tmp_path / "b", web_accounts.path)["folder"])
    before = export_folder(graph, tmp_path / "before")
    service_of(graph).save("client", {"id": "cz9", "needs": ["adhd"], "population": "child",
                                      "insurance": "medicaid"}, by=someone())
    web_accounts.add_user("zed", "analyst", PASSWORD)
    result = cli("restore", str(folder), env={"GRAPHSVC_ACCOUNTS_DB": str(web_accounts.path)})
    assert result.exit_code == 1
    assert "is not empty (" in result.output and "give --force to delete its nodes first" in result.output
    assert f"the accounts database {web_accounts.path} holds 5 users, 0 tokens, " in result.output
    assert web_accounts.exists("zed")  # nothing written
    result = cli("restore", str(folder), "--force", "--json", env={"GRAPHSVC_ACCOUNTS_DB": str(web_accounts.path)})
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert answer["counts_match"] is True and answer["nodes_deleted_first"] > 0
    assert answer["audit"]["ok"] is True
    export_folder(graph, tmp_path / "after")
    assert contents(tmp_path / "after") == contents(tmp_path / "before") == contents(folder / "graph")
    assert before.files["clients.csv"] > 0
    assert not Accounts(web_accounts.path).exists("zed")
    kept = Path(answer["previous_accounts_db"])  # the replaced database is kept beside it
    assert kept.parent == web_accounts.path.parent and kept.stat().st_mode & 0o777 == 0o600
    assert Accounts(kept).exists("zed")


# -- damaged backups --------------------------------------------------------------------------------------------


def _edit_manifest(folder: Path, change) -> None:
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text())
    change(manifest)
    path.write_text(json.dumps(manifest))


def _flip_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def _rewrite(folder: Path, rel: str, data: bytes) -> None:
    """Replace a file and fix its checksum and size in the manifest: only its contents are wrong."""
    import hashlib

    (folder / rel).write_bytes(data)
    _edit_manifest(folder, lambda m: m["files"][rel].update(sha256=hashlib.sha256(data).hexdigest(),
                                                           bytes=len(data)))


def _set_rows(manifest):
    manifest["graph"]["rows"]["referrals.csv"] += 1
    manifest["files"]["graph/referrals.csv"]["rows"] += 1


DAMAGE = {
    "a file missing": (lambda f: (f / "graph" / "referrals.csv").unlink(),
                       "graph/referrals.csv: missing (the manifest lists it)"),
    "a changed file": (lambda f: _flip_byte(f / "graph" / "clients.csv"),
                       "graph/clients.csv: checksum mismatch"),
    "a damaged accounts copy": (lambda f: _flip_byte(f / "accounts.sqlite3"), "accounts.sqlite3: checksum mismatch"),
    "no manifest": (lambda f: (f / "manifest.json").unlink(), "manifest.json: missing"),
    "a manifest that is not JSON": (lambda f: (f / "manifest.json").write_text("{"), "not readable JSON"),
    "rows that do not match the file": (lambda f: _edit_manifest(f, _set_rows),
                                        "graph/referrals.csv: 7 rows where the manifest says 8"),
    "counts that do not match": (
        lambda f: _edit_manifest(f, lambda m: m["graph"]["labels"].update(Client=99)),
        "graph.labels.Client is 99 but graph/clients.csv holds"),
    "audit counts that do not match": (
        lambda f: _edit_manifest(f, lambda m: m["accounts"].update(audit=m["accounts"]["audit"] + 1)),
        "audit where the manifest says"),
    "a file not in the manifest": (lambda f: (f / "graph" / "notes.txt").write_text("hi"),
                                   "graph/notes.txt: not in the manifest"),
    "a practice file that is not JSON": (lambda f: _rewrite(f, "practice.json", b"{"),
                                         "practice.json: not readable JSON"),
    "a file left out of the manifest": (lambda f: _edit_manifest(f, lambda m: m["files"].pop("graph/staff.csv")),
                                        "graph/staff.csv: not in the manifest"),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_backup_is_refused_and_nothing_is_written(practice, cli, tmp_path, web_accounts, damage):
    graph = practice
    folder = Path(run_backup(cli, tmp_path / "b", web_accounts.path)["folder"])
    assert json.loads((folder / "manifest.json").read_text())["graph"]["rows"]["referrals.csv"] == 7
    harm, message = DAMAGE[damage]
    harm(folder)
    wipe(graph)
    target = tmp_path / "fresh" / "accounts.sqlite3"
    result = cli("restore", str(folder), env={"GRAPHSVC_ACCOUNTS_DB": str(target)})
    assert result.exit_code == 1
    assert message in result.output
    assert str(folder) in result.output
    state = graph_state(graph)
    assert sum(n for label, n in state["labels"].items() if label != "Practice") == 0
    assert not target.exists()


def test_a_backup_of_a_broken_audit_chain_says_so_and_restores_as_it_was(practice, cli, tmp_path, web_accounts):
    web_accounts.record("login", user="manager")
    web_accounts.record("logout", user="manager")
    with sqlite3.connect(web_accounts.path) as db:
        db.execute("DROP TRIGGER audit_no_delete")
        db.execute("DELETE FROM audit WHERE id = 1")
    db.close()
    result = cli("backup", str(tmp_path / "b"), env={"GRAPHSVC_ACCOUNTS_DB": str(web_accounts.path)})
    assert result.exit_code == 0 and "warning: the audit log's chain is broken: entry 1 was removed" in result.output


def test_the_folder_of_the_backups_is_not_a_backup(practice, cli, tmp_path, web_accounts):
    folder = Path(run_backup(cli, tmp_path / "b", web_accounts.path)["folder"])
    result = cli("restore", str(tmp_path / "b"))
    assert result.exit_code == 1
    assert f"holds 1 graphsvc backup; restore one of them, the newest is {folder}" in result.output
    result = cli("restore", str(tmp_path / "nowhere"))
    assert result.exit_code == 1 and "nowhere: no such backup folder" in result.output


def test_a_failed_backup_leaves_nothing_behind(practice, tmp_path, monkeypatch):
    import graphsvc.backups

    def broken(source, target):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(graphsvc.backups, "backup_database", broken)
    with pytest.raises(OSError, match="No space left"):
        backup(practice, tmp_path / "b")
    assert list((tmp_path / "b").iterdir()) == []


# -- pruning ----------------------------------------------------------------------------------------------------


def test_keep_prunes_only_older_graphsvc_backups(practice, cli, tmp_path, web_accounts, monkeypatch):
    from datetime import UTC, datetime

    into = tmp_path / "nightly"
    monkeypatch.setenv("GRAPHSVC_ACCOUNTS_DB", str(web_accounts.path))
    made = [backup(practice, into, now=datetime(2026, 1, day, 2, 0, tzinfo=UTC)).folder for day in (1, 2, 3)]
    same_second = backup(practice, into, now=datetime(2026, 1, 3, 2, 0, tzinfo=UTC)).folder
    assert Path(same_second).name == "graphsvc-backup-20260103T020000Z-2"
    (into / "graphsvc-backup-20250101T000000Z").mkdir()  # named like one, but no manifest: not ours
    (into / "notes").mkdir()
    (into / "graphsvc-backup-20250101T000000Z.tar").write_text("x")
    assert [p.name for p in backups_in(into)] == [Path(p).name for p in made + [same_second]]
    answer = run_backup(cli, into, web_accounts.path, "--keep", "2")
    assert answer["pruned"] == made
    assert sorted(p.name for p in into.iterdir()) == sorted(
        ["graphsvc-backup-20250101T000000Z", "graphsvc-backup-20250101T000000Z.tar", "notes",
         Path(same_second).name, Path(answer["folder"]).name])
    result = cli("backup", str(into), "--keep", "0")
    assert result.exit_code == 2 and "0 is not in the range x>=1" in result.output
    with pytest.raises(InvalidInput, match="exists and is not a folder"):
        backup(practice, into / "notes" / ".." / "graphsvc-backup-20250101T000000Z.tar")


# -- file modes -------------------------------------------------------------------------------------------------


def test_an_export_is_private_whatever_the_umask(small, tmp_path, umask):
    out = tmp_path / "out"
    export_folder(small, out)
    assert set(modes(out).items()) == {(".", 0o700)} | {(p.name, 0o600) for p in out.iterdir()}
    os.chmod(out, 0o755)  # an earlier export made looser: the new one is private again
    for p in out.iterdir():
        os.chmod(p, 0o644)
    export_folder(small, out)
    assert set(modes(out).values()) == {0o700, 0o600} and modes(out)["."] == 0o700


def test_the_log_file_is_private(tmp_path, umask):
    from graphsvc.config import Settings
    from graphsvc.logs import configure_logging

    log = tmp_path / "logs" / "graphsvc.log"
    try:
        configure_logging(Settings.load(environ={}, log_file=str(log)))
        assert log.stat().st_mode & 0o777 == 0o600
        os.chmod(log, 0o644)
        configure_logging(Settings.load(environ={}, log_file=str(log)))
        assert log.stat().st_mode & 0o777 == 0o600
    finally:
        import logging

        for handler in list(logging.getLogger().handlers):
            if getattr(handler, "_graphsvc_handler", False):
                logging.getLogger().removeHandler(handler)
                handler.close()
    shutil.rmtree(tmp_path / "logs")


# -- the client-id key ------------------------------------------------------------------------------------------


def test_a_backup_carries_the_client_id_key_and_a_restore_puts_it_back(practice, cli, tmp_path, web_accounts):
    """Without its key a restored practice would give a patient it knows a new client id on the next FHIR
    import: the generated key travels in the backup, 0600, and comes back; another key is not overwritten
    unless forced, and then kept aside."""
    from graphsvc.config import Settings
    from graphsvc.fhir.pseudonym import client_id_key

    data = tmp_path / "data"
    env = {"GRAPHSVC_ACCOUNTS_DB": str(web_accounts.path), "GRAPHSVC_DATA_DIR": str(data)}
    key = client_id_key(Settings.load({"GRAPHSVC_DATA_DIR": str(data)}))
    key_file = data / "graphsvc-client-id-key"
    result = cli("backup", str(tmp_path / "b"), "--json", env=env)
    assert result.exit_code == 0, result.output
    folder = Path(json.loads(result.output)["folder"])
    assert (folder / "client-id-key").read_bytes().strip() == key
    assert (folder / "client-id-key").stat().st_mode & 0o777 == 0o600
    assert "client-id-key" in json.loads((folder / "manifest.json").read_text())["files"]

    key_file.unlink()  # a new machine: no key yet
    result = cli("restore", str(folder), "--force", "--json", env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["client_id_key"] == "restored"
    assert key_file.read_bytes().strip() == key and key_file.stat().st_mode & 0o777 == 0o600

    key_file.write_text("another-key\n")
    result = cli("restore", str(folder), env=env)
    assert result.exit_code == 1
    assert f"{key_file} holds another client-id key than the backup's" in result.output
    assert key_file.read_text() == "another-key\n"  # nothing written
    result = cli("restore", str(folder), "--force", "--json", env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["client_id_key"].startswith("replaced (the key before kept as ")
    assert key_file.read_bytes().strip() == key
    assert [p.read_text() for p in data.glob("graphsvc-client-id-key.before-restore-*")] == ["another-key\n"]
