"""``graphsvc backup`` and ``graphsvc restore``: the graph and the accounts database together
(``graphsvc.backups``)."""

from __future__ import annotations

import click

from .common import emit, json_option, needs_graph
from .root import main


@main.command("backup")
@click.argument("folder", type=click.Path(file_okay=False, path_type=str))
@click.option("--keep", type=click.IntRange(1), metavar="N",
              help="Afterwards keep only the newest N backups in FOLDER (only graphsvc's backup folders are "
                   "ever deleted).")
@json_option
@needs_graph
def backup_command(graph, folder, keep, as_json):
    """Back up the graph and the accounts database into a new timestamped folder inside FOLDER.

    Safe while the service runs: the graph is read in one locked transaction (as `graphsvc export`), the
    accounts database with SQLite's online backup API. A manifest.json holds the counts and every file's
    SHA-256; folders are made 0700 and files 0600.
    """
    from ..accounts import Accounts
    from ..backups import backup
    from .common import cli_user

    report = backup(graph, folder, keep=keep)
    Accounts.open(graph.settings).record("backup", user=cli_user(),
                                         detail={"folder": report.folder, "rows": report.manifest["graph"]["rows"],
                                                 "pruned": report.pruned})
    out = report.as_dict()
    graph_rows = sum(report.manifest["graph"]["rows"].values())
    accounts = report.manifest["accounts"]
    lines = [f"Backed up to {report.folder}:",
             f"  graph     {graph_rows:,} rows in {len(report.manifest['graph']['rows'])} files "
             f"(change counter {report.manifest['graph']['version']})",
             f"  accounts  {_many(accounts['users'], 'user')}, {_many(accounts['tokens'], 'token')}, "
             f"{_many(accounts['audit'], 'audit entry', 'audit entries')}"
             + (f" (the last {accounts['audit_head']['id']}, hash {accounts['audit_head']['hash']})"
                if accounts["audit"] else ""),
             f"  {out['files']} files, {out['bytes']:,} bytes, in {report.seconds:.1f}s"]
    if not accounts["audit_intact"]:
        lines.append(f"  warning: the audit log's chain is broken: {accounts['audit_problem']}")
    lines += [f"  removed the older backup {p}" for p in report.pruned]
    emit(out, as_json, "\n".join(lines))


@main.command("restore")
@click.argument("folder", type=click.Path(file_okay=False, path_type=str))
@click.option("--force", is_flag=True,
              help="Restore even though the graph or the accounts database holds data: delete the graph's "
                   "nodes first, and replace the accounts database (kept beside it as "
                   "<name>.before-restore-<time>).")
@json_option
@needs_graph
def restore_command(graph, folder, force, as_json):
    """Restore a backup folder (one `graphsvc backup` made) into an empty database.

    The backup is checked first (every file's checksum, the rows, the counts, the audit chain), and so are
    the graph and the accounts database (both must be empty, unless --force): on any problem nothing is
    written. Stop the web service first: the accounts database is replaced under it.
    """
    from ..backups import restore
    from .common import command_line_actor

    report = restore(graph, folder, by=command_line_actor(), force=force)
    out = report.as_dict()
    lines = [f"Restored {report.folder} (backed up {report.manifest['created_at']}):",
             f"  graph     {sum(report.rows.values()):,} rows imported"
             + (f" after deleting {report.wiped:,} nodes" if report.wiped else ""),
             f"  accounts  {report.accounts_db}"
             + (f" (the previous one kept as {report.kept_aside})" if report.kept_aside else ""),
             f"  audit log {'intact' if report.audit['ok'] else 'BROKEN: ' + report.audit['problem']['message']}, "
             f"{report.audit['entries']:,} entries"]
    if report.differences:
        lines.append("  counts that differ from the backup's: " + "; ".join(report.differences))
    else:
        lines.append("  nodes and relationships: as in the backup")
    lines.append("Run `graphsvc analyze` to store the analysis on the referrers again.")
    emit(out, as_json, "\n".join(lines))


def _many(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else many or one + 's'}"
