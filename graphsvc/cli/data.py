"""``graphsvc import`` and ``export``: the CSV folder format (``--format csv``), and the outside-provider
directory as HSDS JSON (``--format hsds``, ``graphsvc.hsds``) or FHIR (``--format fhir``, ``graphsvc.fhir``)."""

from __future__ import annotations

import sys

import click

from .common import emit, json_option, needs_graph
from .root import main

FORMATS = ("csv", "hsds", "fhir")


def format_option(what: str):
    return click.option("--format", "data_format", type=click.Choice(FORMATS), default="csv", show_default=True,
                        help=f"csv: graphsvc's folder of CSV files; hsds: the outside providers as an Open "
                             f"Referral HSDS 3.0 JSON directory; fhir: FHIR resources. {what}")


@main.command("import")
# A folder, or (--format fhir) a Bundle's JSON file: what it must be is said by each format's reader.
@click.argument("folder", metavar="PATH", type=click.Path(path_type=str))
@click.option("--skip-bad", is_flag=True, help="Write the good rows and list the bad ones.")
@click.option("--add-values", is_flag=True,
              help="Add the words no vocabulary holds (needs, insurances, niches, ...) to the practice's "
                   "vocabularies instead of refusing their rows; each added word is listed and audited. A first "
                   "import into an empty practice does so anyway.")
@click.option("--batch-size", type=click.IntRange(1, 1_000_000),
              help="Rows per transaction [default: setting import.batch_size (GRAPHSVC_BATCH_SIZE), 5000].")
@click.option("--workers", type=click.IntRange(1, 16),
              help="Concurrent write transactions [default: setting import.workers "
                   "(GRAPHSVC_IMPORT_WORKERS), 3].")
@format_option("What PATH is: a folder (csv, hsds; fhir: a Bulk Data NDJSON folder) or a Bundle's JSON file "
               "(fhir).")
@json_option
@needs_graph
def import_command(graph, folder, skip_bad, add_values, batch_size, workers, data_format, as_json):
    """Validate a folder of CSV files (or an HSDS directory, or a FHIR export) and load it into the graph."""
    from .common import command_line_actor, service

    svc = service(graph)
    options = {"by": command_line_actor(), "skip_bad": skip_bad, "add_values": add_values,
               "batch_size": batch_size, "workers": workers}
    if data_format == "fhir":
        from ..fhir.importer import import_fhir, summary

        def run():
            report, counts = import_fhir(graph, folder, service=svc, **options)
            return report, {"fhir": counts.as_dict()}, summary(report, counts), []

        return _import(run, as_json, "fhir", lambda e: {"fhir": e.detail.as_dict() if e.detail else None})
    if data_format == "hsds":
        from ..hsds import import_directory

        def run():
            report, reading = import_directory(svc, folder, **options)
            text = _summary(report.files, report.seconds, "written") + "".join(
                f"\n  {n} {what.replace('_', ' ')}" for what, n in reading.became.items())
            return (report, {"entries": reading.entries, "became": reading.became, "skipped": reading.skipped},
                    text, [f"not imported: {line}" for line in reading.skipped])

        return _import(run, as_json, "hsds", lambda e: {"skipped": e.detail.skipped if e.detail else []})

    def run():
        bar = _ProgressBar(enabled=not as_json and sys.stderr.isatty())
        try:
            report = svc.import_folder(folder, progress=bar.update, on_total=bar.start, **options)
        finally:
            bar.finish()
        return report, {}, _summary(report.files, report.seconds, "written"), []

    _import(run, as_json)


def _import(run, as_json: bool, data_format: str | None = None, refused=lambda e: {}) -> None:
    """Run one import and print it as every format does: ``run()`` gives the ``ImportReport``, the format's
    own JSON keys, its text summary and the lines it says on stderr (what it did not import). A refused
    import (nothing written) is the error, or with ``--json`` an answer with ``ok: false``, the problems
    and ``refused(error)``'s keys, exit 1."""
    from ..csvio.importer import ImportRejected
    from ..procinfo import peak_rss_mb

    named = {"format": data_format} if data_format else {}
    try:
        report, extra, text, notes = run()
    except ImportRejected as e:
        if as_json:
            emit({"ok": False, **named, "written": 0, "problems": e.problems, "unknown_values": e.words,
                  **refused(e)}, True)
            sys.exit(1)
        raise
    for problem in report.problems:
        click.echo(f"skipped {problem}", err=True)
    if not as_json:
        for line in notes:
            click.echo(line, err=True)
        for vocabulary, added in report.values_added.items():
            click.echo(f"added to {vocabulary}: {', '.join(added)}")
    emit({"ok": True, **named, **report.as_dict(), **extra, "peak_rss_mb": peak_rss_mb()}, as_json, text)


@main.command("export")
@click.argument("folder", type=click.Path(file_okay=False, path_type=str))
@format_option("What to write into FOLDER.")
@json_option
@needs_graph
def export_command(graph, folder, data_format, as_json):
    """Write the graph as a folder of CSV files (the import format), or its outside providers as HSDS or
    FHIR."""
    if data_format == "fhir":
        from ..fhir.exporter import export_fhir

        report = export_fhir(graph, folder)
        rows = dict(report.files)
        text = _summary({k: {"rows": v} for k, v in rows.items()}, report.seconds, "rows").replace(
            " rows in ", " resources in ") + "".join(f"\n  not written: {n:,} {what}"
                                                   for what, n in report.skipped.items())
    elif data_format == "hsds":
        from ..hsds import export_directory

        report = export_directory(graph, folder)
        rows = dict(report.files)
        text = _summary({k: {"rows": v} for k, v in rows.items()}, report.seconds, "rows")
    else:
        from ..csvio.exporter import export_folder

        report = export_folder(graph, folder)
        rows = dict(report.files)
        text = _summary({k: {"rows": v} for k, v in rows.items()}, report.seconds, "rows")
    _audit(graph, "export", folder, rows, **({"data_format": data_format} if data_format != "csv" else {}))
    emit(report.as_dict(), as_json, text)


def _audit(graph, action: str, folder: str, rows: dict, **detail) -> None:
    """The audit log's entry for an export: who ran it, the folder and the rows per file (as an import's,
    which the service records).

    (Not the ids: an export holds a hundred thousand; the folder holds them.)
    """
    import os

    from ..accounts import Accounts
    from .common import cli_user

    Accounts.open(graph.settings).record(action, user=cli_user(),
                                         detail={"folder": os.path.abspath(folder), "rows": rows, **detail})


def _summary(files: dict, seconds: float, key: str) -> str:
    width = max((len(n) for n in files), default=0)
    lines = []
    for name, count in files.items():
        count = count if isinstance(count, dict) else vars(count)
        extra = f"  ({count['bad']} bad)" if count.get("bad") else ""
        lines.append(f"  {name:<{width}}  {count[key]:>9,}{extra}")
    total = sum((c if isinstance(c, dict) else vars(c))[key] for c in files.values())
    what = "rows" if key == "rows" else f"rows {key}"  # "29 rows written", "29 rows" (not "rows rows")
    lines.append(f"  {'total':<{width}}  {total:>9,} {what} in {seconds:.1f}s")
    return "\n".join(lines)


class _ProgressBar:
    """click's progress bar on stderr, only on a terminal."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.bar = None

    def start(self, total: int) -> None:
        if self.enabled and total:
            self.bar = click.progressbar(length=total, label="Writing", file=sys.stderr)
            self.bar.__enter__()

    def update(self, n: int) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def finish(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None

