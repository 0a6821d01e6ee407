"""The ``graphsvc`` command: a thin click layer over the library.

Every command that prints a result takes ``--json`` for scripting. Errors
meant for people (bad input, Neo4j down) print one clear message and exit 1;
only real bugs show a traceback.
"""

from __future__ import annotations

import functools
import json
import sys
import time

import click

from ..config import Settings
from ..errors import GraphsvcError


def json_option(command):
    """``--json``: print a machine-readable result instead of text."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for scripting.")(command)


def emit(data, as_json: bool, text: str | None = None) -> None:
    if as_json:
        click.echo(json.dumps(data, indent=2, sort_keys=True, default=str))
    elif text is not None:
        click.echo(text)


class FriendlyGroup(click.Group):
    """Turns ``GraphsvcError`` into ``Error: <message>`` and exit code 1."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except GraphsvcError as e:
            raise click.ClickException(str(e)) from None


def needs_graph(command):
    """Pass a connected ``Graph`` as the first argument (after the context)."""

    @click.pass_obj
    @functools.wraps(command)
    def wrapper(settings: Settings, *args, **kwargs):
        from ..store.db import Graph

        graph = Graph.connect(settings)
        try:
            return command(graph, *args, **kwargs)
        finally:
            graph.close()

    return wrapper


@click.group(cls=FriendlyGroup)
@click.version_option(package_name="graphsvc")
@click.pass_context
def main(ctx):
    """graphsvc: the referral-relationship graph of a group practice.

    Configuration comes from environment variables (see the README):
    NEO4J_URI, NEO4J_USER, NEO4J_PASSWORD, NEO4J_DATABASE, GRAPHSVC_BOLT_PORT,
    GRAPHSVC_DATA_DIR, GRAPHSVC_CACHE_DIR, ...
    """
    ctx.obj = Settings.load()


# -- db ------------------------------------------------------------------------


@main.group(cls=FriendlyGroup)
def db():
    """Manage the local Neo4j server, or the schema of any Neo4j."""


def _server(settings: Settings):
    from ..localdb import LocalServer

    return LocalServer(settings)


@db.command("install")
@click.pass_obj
def db_install(settings):
    """Fetch Neo4j Community from Maven Central into the cache (once)."""
    if not settings.manages_local_server:
        click.echo(f"NEO4J_URI is set ({settings.neo4j_uri}); nothing to install.")
        return
    server = _server(settings)
    server.install(echo=lambda m: click.echo(m, err=True))
    click.echo(f"Neo4j {settings.neo4j_version} is installed in {server.lib}")


@db.command("start")
@click.option("--timeout", default=180, show_default=True, help="Seconds to wait for Bolt.")
@json_option
@click.pass_obj
def db_start(settings, timeout, as_json):
    """Start the local Neo4j on 127.0.0.1 (installing it if needed) and create the schema."""
    from ..store.db import Graph
    from ..store.schema import init_schema

    status = _server(settings).start(timeout=timeout, echo=lambda m: click.echo(m, err=True))
    graph = Graph.connect(settings)
    try:
        init_schema(graph)
    finally:
        graph.close()
    emit(status.as_dict(), as_json, f"Neo4j is running at {status.uri} (pid {status.pid}); data in {status.data_dir}")


@db.command("stop")
@json_option
@click.pass_obj
def db_stop(settings, as_json):
    """Stop the local Neo4j."""
    stopped = _server(settings).stop()
    emit({"stopped": stopped}, as_json, "Neo4j stopped." if stopped else "Neo4j was not running.")


@db.command("status")
@json_option
@click.pass_obj
def db_status(settings, as_json):
    """Say whether the local Neo4j is running (exit 3 if not)."""
    if not settings.manages_local_server:
        from ..store.db import Graph

        Graph.connect(settings).close()
        emit({"running": True, "uri": settings.uri}, as_json, f"Neo4j answers at {settings.uri}")
        return
    status = _server(settings).status()
    text = (f"running at {status.uri} (pid {status.pid}); data in {status.data_dir}"
            if status.running else f"not running (would listen on {status.uri})")
    emit(status.as_dict(), as_json, text)
    if not status.running:
        sys.exit(3)


@db.command("init")
@needs_graph
def db_init(graph):
    """Create missing constraints and indexes (idempotent)."""
    from ..store.schema import init_schema

    init_schema(graph)
    click.echo(f"Schema is in place in database {graph.database!r} at {graph.settings.uri}")


# -- import / export ---------------------------------------------------------------


@main.command("import")
@click.argument("folder", type=click.Path(file_okay=False, path_type=str))
@click.option("--skip-bad", is_flag=True, help="Write the good rows and list the bad ones.")
@click.option("--batch-size", type=click.IntRange(1, 1_000_000),
              help="Rows per transaction [default: GRAPHSVC_BATCH_SIZE or 5000].")
@click.option("--workers", type=click.IntRange(1, 16),
              help="Concurrent write transactions [default: GRAPHSVC_IMPORT_WORKERS or 3].")
@json_option
@needs_graph
def import_command(graph, folder, skip_bad, batch_size, workers, as_json):
    """Validate a folder of CSV files and load it into the graph."""
    from ..csvio.importer import ImportRejected, import_folder

    bar = _ProgressBar(enabled=not as_json and sys.stderr.isatty())
    try:
        report = import_folder(graph, folder, skip_bad=skip_bad, batch_size=batch_size,
                               workers=workers, progress=bar.update, on_total=bar.start)
    except ImportRejected as e:
        if as_json:
            emit({"ok": False, "written": 0, "problems": e.problems}, True)
            sys.exit(1)
        raise
    finally:
        bar.finish()
    for problem in report.problems:
        click.echo(f"skipped {problem}", err=True)
    from ..procinfo import peak_rss_mb

    emit({"ok": True, **report.as_dict(), "peak_rss_mb": peak_rss_mb()}, as_json,
         _summary(report.files, report.seconds, "written"))


@main.command("export")
@click.argument("folder", type=click.Path(file_okay=False, path_type=str))
@json_option
@needs_graph
def export_command(graph, folder, as_json):
    """Write the graph as a folder of CSV files (the import format)."""
    from ..csvio.exporter import export_folder

    report = export_folder(graph, folder)
    emit(report.as_dict(), as_json, _summary({k: {"rows": v} for k, v in report.files.items()},
                                             report.seconds, "rows"))


def _summary(files: dict, seconds: float, key: str) -> str:
    width = max((len(n) for n in files), default=0)
    lines = []
    for name, count in files.items():
        count = count if isinstance(count, dict) else vars(count)
        extra = f"  ({count['bad']} bad)" if count.get("bad") else ""
        lines.append(f"  {name:<{width}}  {count[key]:>9,}{extra}")
    total = sum((c if isinstance(c, dict) else vars(c))[key] for c in files.values())
    lines.append(f"  {'total':<{width}}  {total:>9,} rows {key} in {seconds:.1f}s")
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


# -- analysis ------------------------------------------------------------------------


def analysis_options(command):
    """The analysis thresholds shared by every analysis command."""
    for option in reversed([
        click.option("--window", default=5, show_default=True, type=click.IntRange(1, 1000),
                     help="Recent referrals that decide stage 3."),
        click.option("--stall-days", default=180, show_default=True, type=click.IntRange(1)),
        click.option("--lapse-days", default=180, show_default=True, type=click.IntRange(1)),
        click.option("--as-of", type=click.DateTime(formats=["%Y-%m-%d"]),
                     help="Judge stalls, lapses and trends on this day (default today)."),
    ]):
        command = option(command)
    return command


def _options(window, stall_days, lapse_days, as_of):
    from ..insights import AnalysisOptions

    return AnalysisOptions(window=window, stall_days=stall_days, lapse_days=lapse_days,
                           as_of=as_of.date() if as_of else None)


@main.command("analyze")
@analysis_options
@click.option("--no-write", is_flag=True, help="Do not store stages and metrics on Referrer nodes.")
@json_option
@needs_graph
def analyze(graph, window, stall_days, lapse_days, as_of, no_write, as_json):
    """Analyse the whole practice: stages now, and write them back for Cypher."""
    from ..insights import Insights

    began = time.perf_counter()
    insights = Insights.from_graph(graph, _options(window, stall_days, lapse_days, as_of))
    summary = insights.summary(monthly=as_json)
    written = 0 if no_write else insights.write_back(graph)
    summary["written_back"] = written
    summary["seconds"] = round(time.perf_counter() - began, 3)
    names = {0: "new", 1: "point person", 2: "trying colleagues", 3: "whole practice"}
    lines = [f"{summary['referrers']:,} referrers, {summary['referrals']:,} referrals, as of {summary['as_of']}:"]
    for stage, count in summary["stages"].items():
        share = count / summary["referrers"] if summary["referrers"] else 0
        lines.append(f"  stage {stage} ({names[stage]:<17}) {count:>7,}  {share:6.1%}")
    lines.append(f"  jumped to stage 3: {summary['jumped']:,}; stalled: {summary['stalled']:,}; "
                 f"lapsed: {summary['lapsed']:,}")
    if written:
        lines.append(f"Stored stage and metrics on {written:,} Referrer nodes ({summary['seconds']:.1f}s).")
    emit(summary, as_json, "\n".join(lines))


@main.command("stage")
@click.argument("referrer_id")
@analysis_options
@json_option
@needs_graph
def stage(graph, referrer_id, window, stall_days, lapse_days, as_of, as_json):
    """One referrer's stage, how it got there, and its metrics."""
    from ..insights import Insights

    info = Insights.from_graph(graph, _options(window, stall_days, lapse_days, as_of)).referrer(referrer_id)
    m = info["metrics"]
    lines = [f"{info['name']} ({info['id']}, {info['kind'].replace('_', ' ')}): stage {info['stage']}",
             f"  point person: {m['point_person']}; {info['referrals']} referrals, first {info['first_referral']}, "
             f"last {info['last_referral']}"]
    for change in info["history"]:
        lines.append(f"  {change['date']}  stage {change['stage']}  (after referral {change['referral']})")
    lines.append(f"  reached {m['reached']} members; breadth {m['breadth']}; point-person share "
                 f"{m['point_person_share']}; practice share {m['practice_share']}")
    flags = [f for f in ("jumped", "stalled", "lapsed") if info[f]]
    if flags:
        lines.append("  " + ", ".join(flags))
    emit(info, as_json, "\n".join(lines))


@main.command("suggest")
@click.argument("referrer_id")
@click.option("--limit", default=5, show_default=True, type=click.IntRange(1, 100))
@json_option
@needs_graph
def suggest(graph, referrer_id, limit, as_json):
    """The next colleagues to introduce to a referrer, with reasons."""
    from ..insights import Insights

    found = Insights.from_graph(graph).suggestions(referrer_id, limit=limit)
    lines = []
    for rank, s in enumerate(found, 1):
        lines.append(f"{rank}. {s['name']} ({s['member']})  score {s['score']:.3f}")
        lines += [f"     - {reason}" for reason in s["reasons"]]
    emit({"referrer": referrer_id, "suggestions": found}, as_json,
         "\n".join(lines) or f"No one left to introduce to {referrer_id}.")


@main.command("match")
@click.option("--needs", default="", help="Specialties the client needs, ;-separated.")
@click.option("--population", help="child, adolescent, adult, older_adult, couples or family.")
@click.option("--insurance")
@click.option("--schedule", help="weekday_day, weekday_evening or weekend.")
@click.option("--addressed-to", help="The clinician the referral names, to check for a better match.")
@click.option("--limit", default=3, show_default=True, type=int)
@json_option
@needs_graph
def match(graph, needs, population, insurance, schedule, addressed_to, limit, as_json):
    """Best clinicians for a new client; a pass suggestion; outside providers for uncovered needs."""
    from pydantic import ValidationError

    from ..errors import InvalidInput
    from ..insights import Insights
    from ..records import MatchRequest, explain

    try:
        request = MatchRequest(needs=needs, population=population or "", insurance=insurance or "",
                               schedule=schedule or "", addressed_to=addressed_to or "", limit=limit)
    except ValidationError as e:
        raise InvalidInput(explain(e)) from None
    out = Insights.from_graph(graph).match(request)
    lines = ["Best matches:"]
    for c in out["candidates"]:
        flag = "" if c["accepting_new"] else "  (not accepting new clients)"
        lines.append(f"  {c['name']} ({c['member']})  fit {c['fit']:.2f}{flag}: {'; '.join(c['reasons']) or '-'}")
    if out["pass"]:
        lines.append(f"Pass to {out['pass']['name']} (reason: {out['pass']['reason']}):")
        lines += [f"  - {w}" for w in out["pass"]["why"]]
    elif out["addressed"]:
        lines.append(f"{out['addressed']['name']} is the best match available: keep it.")
    if out["uncovered_needs"]:
        lines.append("No clinician covers: " + ", ".join(out["uncovered_needs"]))
        lines += [f"  refer out: {x['name']} ({x['niche']}, used {x['referred_before']} times)"
                  for x in out["external_providers"]]
    emit(out, as_json, "\n".join(lines))


@main.command("evaluate")
@click.option("--limit-cases", type=click.IntRange(1), help="Only the first N introductions (quick runs).")
@json_option
@needs_graph
def evaluate_command(graph, limit_cases, as_json):
    """Backtest the suggestions on past introductions (hit@1, hit@3 vs baselines)."""
    from ..analysis.backtest import evaluate
    from ..store.projection import project

    began = time.perf_counter()
    out = evaluate(project(graph), limit_cases=limit_cases)
    out["seconds"] = round(time.perf_counter() - began, 1)
    lines = [f"{out['cases']} introductions followed by a referral ({out['skipped']} skipped: "
             "already referred to before the introduction)",
             "| method | hit@1 | hit@3 |", "| --- | ---: | ---: |"]
    for name, label in (("suggestions", "graphsvc suggestions"), ("random", "random eligible member"),
                        ("most_referred", "most referred member")):
        r = out[name]
        lines.append(f"| {label} | {_pct(r['hit@1'])} | {_pct(r['hit@3'])} |")
    emit(out, as_json, "\n".join(lines))


def _pct(x) -> str:
    return "-" if x is None else f"{x:.1%}"


# -- web -----------------------------------------------------------------------------


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--debug", is_flag=True, help="Flask debug mode (auto-reload).")
@click.pass_obj
def serve(settings, host, port, debug):
    """Serve the web view (Flask's server; use gunicorn in production)."""
    from ..web import create_app

    app = create_app(settings=settings)
    click.echo(f"Serving graphsvc on http://{host}:{port}/ (Neo4j at {settings.uri})", err=True)
    app.run(host=host, port=port, debug=debug, use_reloader=debug)


if __name__ == "__main__":  # pragma: no cover
    main()
