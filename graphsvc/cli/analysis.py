"""``graphsvc analyze``, ``stage``, ``suggest``, ``match`` and ``evaluate``."""

from __future__ import annotations

import time

import click

from ..presentation import STAGE_NAMES, stage_label, words
from ..requests import MATCH_LIMIT, SUGGESTIONS_LIMIT, limit_help  # light: no pydantic
from . import main
from .common import analysis_options, emit, json_option, needs_graph, referrer_argument

# Every command here takes --window, --stall-days, --lapse-days and --as-of
# (``common.analysis_options``), defaulting to the analysis settings; inside
# a command, ``graph.settings.analysis_options()`` is what to use.


@main.command("analyze")
@analysis_options
@click.option("--no-write", is_flag=True, help="Do not store stages and metrics on Referrer nodes.")
@json_option
@needs_graph
def analyze(graph, no_write, as_json):
    """Analyse the whole practice: stages now, and write them back for Cypher."""
    from ..insights import Insights

    began = time.perf_counter()
    insights = Insights.from_graph(graph, graph.settings.analysis_options())
    summary = insights.summary(monthly=as_json)
    written = 0 if no_write else insights.write_back(graph)
    summary["written_back"] = written
    summary["seconds"] = round(time.perf_counter() - began, 3)
    lines = [f"{summary['referrers']:,} referrers, {summary['referrals']:,} referrals, as of {summary['as_of']}:"]
    for stage, count in summary["stages"].items():
        share = count / summary["referrers"] if summary["referrers"] else 0
        lines.append(f"  stage {stage} ({STAGE_NAMES[stage]:<17}) {count:>7,}  {share:6.1%}")
    lines.append(f"  jumped to stage 3: {summary['jumped']:,}; stalled: {summary['stalled']:,}; "
                 f"lapsed: {summary['lapsed']:,}")
    if written:
        lines.append(f"Stored stage and metrics on {written:,} Referrer nodes ({summary['seconds']:.1f}s).")
    emit(summary, as_json, "\n".join(lines))


@main.command("stage")
@referrer_argument("referrer_id")
@analysis_options
@json_option
@needs_graph
def stage(graph, referrer_id, as_json):
    """One referrer's stage, how it got there, and its metrics.

    REFERRER is its id or its name (exact, any case). Only this referrer's
    events are read, not the whole graph.
    """
    from ..insights import Insights
    from ..store.projection import project

    insights = Insights(project(graph, referrers=[referrer_id]), graph.settings.analysis_options())
    info = insights.referrer(referrer_id)
    m = info["metrics"]
    info["point_person_name"] = _name_of(insights.G, m["point_person"])
    lines = [f"{info['name']} ({info['id']}, {words(info['kind'])}): stage {stage_label(info['stage'])}",
             f"  point person: {_named(insights.G, m['point_person'])}; {info['referrals']} referrals, "
             f"first {info['first_referral']}, last {info['last_referral']}"]
    for change in info["history"]:
        lines.append(f"  {change['date']}  stage {stage_label(change['stage'])}  "
                     f"(after referral {change['referral']})")
    lines.append(f"  reached {m['reached']} members; breadth {m['breadth']}; point-person share "
                 f"{m['point_person_share']}; practice share {m['practice_share']}")
    flags = [f for f in ("jumped", "stalled", "lapsed") if info[f]]
    if flags:
        lines.append("  " + ", ".join(flags))
    emit(info, as_json, "\n".join(lines))




@main.command("suggest")
@referrer_argument("referrer_id")
@click.option("--limit", metavar="N", help=limit_help("suggestions", SUGGESTIONS_LIMIT))
@analysis_options
@json_option
@needs_graph
def suggest(graph, referrer_id, limit, as_json):
    """The next colleagues to introduce to a referrer, with reasons."""
    from ..insights import Insights
    from ..records import SuggestionsQuery
    from ..requests import given, parse

    query = parse(SuggestionsQuery, given(limit=limit))
    found = Insights.from_graph(graph).suggestions(referrer_id, limit=query.limit)
    lines = []
    for rank, s in enumerate(found, 1):
        lines.append(f"{rank}. {s['name']} ({s['member']})  score {s['score']:.3f}")
        lines += [f"     - {reason}" for reason in s["reasons"]]
    emit({"referrer": referrer_id, "suggestions": found}, as_json,
         "\n".join(lines) or f"No one left to introduce to {referrer_id}.")


@main.command("match")
@click.option("--needs", help="Specialties the client needs, ;-separated.")
@click.option("--population", help="child, adolescent, adult, older_adult, couples or family (a hard constraint).")
@click.option("--insurance")
@click.option("--schedule", help="weekday_day, weekday_evening or weekend.")
@click.option("--addressed-to", help="The clinician the referral names, to check for a better match.")
@click.option("--limit", metavar="N", help=limit_help("candidates", MATCH_LIMIT))
@analysis_options
@json_option
@needs_graph
def match(graph, needs, population, insurance, schedule, addressed_to, limit, as_json):
    """Best clinicians for a new client; a pass suggestion; outside providers.

    Give at least one of --needs, --population or --insurance. A clinician who
    does not see the population or is not accepting new clients is never kept.
    """
    from ..insights import Insights
    from ..presentation import match_report
    from ..records import MatchRequest
    from ..requests import given, parse

    request = parse(MatchRequest, given(needs=needs, population=population, insurance=insurance,
                                        schedule=schedule, addressed_to=addressed_to, limit=limit))
    out = Insights.from_graph(graph).match(request)
    emit(out, as_json, match_report(out))


@main.command("evaluate")
@click.option("--limit-cases", type=click.IntRange(1), help="Only the first N introductions (quick runs).")
@analysis_options
@json_option
@needs_graph
def evaluate_command(graph, limit_cases, as_json):
    """Backtest the suggestions on past introductions (hit@1, hit@3 vs baselines).

    The suggestions use --window (stage-3 readiness); each case is judged on
    the events before its introduction, so --as-of and the day thresholds do
    not change the table.
    """
    from dataclasses import asdict

    from ..analysis.backtest import evaluate
    from ..store.projection import project

    began = time.perf_counter()
    options = graph.settings.analysis_options()
    out = evaluate(project(graph), limit_cases=limit_cases, window=options.window)
    out["options"] = asdict(options)
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


def _name_of(G, member):
    return G.nodes[member].get("name") if member is not None and member in G else None


def _named(G, member) -> str:
    """'Ana Ruiz (cn1)' as the web shows a member; the id alone if it has no name."""
    if member is None:
        return "none"
    name = _name_of(G, member)
    return f"{name} ({member})" if name else str(member)

