"""``graphsvc analyze``, ``stage``, ``suggest``, ``match`` and ``evaluate``."""

from __future__ import annotations

import time

import click

from . import main
from .common import emit, json_option, needs_graph


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

