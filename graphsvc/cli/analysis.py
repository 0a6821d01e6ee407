"""``graphsvc analyze``, ``stage``, ``suggest``, ``match`` and ``evaluate``."""

from __future__ import annotations

import time

import click

from ..limits import MATCH_LIMIT, SUGGESTIONS_LIMIT, limit_help  # light: no pydantic
from ..presentation import STAGE_NAMES, count_of, flag_words, pace_words, pct, stage_label, trend_words, words
from .common import analysis_options, emit, json_option, needs_graph, referrer_argument
from .root import main

# Every command here takes --window, --stall-days, --lapse-days and --as-of
# (``common.analysis_options``), defaulting to the analysis settings; inside
# a command, ``graph.settings.analysis`` is what to use.


@main.command("analyze")
@analysis_options
@click.option("--no-write", is_flag=True, help="Do not store stages and metrics on Referrer nodes.")
@json_option
@needs_graph
def analyze(graph, no_write, as_json):
    """Analyse the whole practice: stages now, and write them back for Cypher."""
    from ..live import build
    from ..service import Actor
    from .common import service

    began = time.perf_counter()
    insights = build(graph, graph.settings.analysis)
    summary = insights.summary(monthly=as_json)
    written = 0 if no_write else service(graph).store_analysis(insights)
    summary["written_back"] = written
    # Tasks whose rows' reasons went are closed, so that Cypher tells them from the work in hand.
    summary["tasks_closed"] = 0 if no_write else service(graph).close_gone_tasks(insights, by=Actor.command_line())
    summary["seconds"] = round(time.perf_counter() - began, 3)
    lines = [f"{summary['referrers']:,} referrers, {summary['referrals']:,} referrals, as of {summary['as_of']}:"]
    width = max(len(stage_label(s)) for s in STAGE_NAMES)
    for stage, count in summary["stages"].items():
        share = count / summary["referrers"] if summary["referrers"] else 0
        lines.append(f"  stage {stage_label(stage):<{width}} {count:>6,}  {share:6.1%}")
    lines.append(f"  jumped to stage 3: {summary['jumped']:,}; stalled: {summary['stalled']:,}; "
                 f"lapsed: {summary['lapsed']:,}")
    if summary["not_started"]:
        lines.append(f"  left out: {count_of(summary['not_started'], 'referrer')} whose relationship began "
                     f"after {summary['as_of']}")
    if written:
        lines.append(f"Stored stage and metrics on {written:,} Referrer nodes ({summary['seconds']:.1f}s).")
    if summary["tasks_closed"]:
        lines.append(f"Closed {count_of(summary['tasks_closed'], 'worklist task')} whose rows' reasons went.")
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
    from ..live import build

    options = graph.settings.analysis
    insights = build(graph, options, referrers=[referrer_id])
    info = insights.referrer(referrer_id)
    m = info["metrics"]
    info["point_person_name"] = insights.name_of(m["point_person"])
    when = f", as of {options.as_of}" if options.as_of else ""
    if info["referrals"]:
        referrals = (f"{count_of(info['referrals'], 'referral')}, first {info['first_referral']}, "
                     f"last {info['last_referral']}")
    else:
        referrals = "no referral yet"
    lines = [f"{info['name']} ({info['id']}, {words(info['kind'])}): stage {stage_label(info['stage'])}{when}",
             f"  point person: {_named(insights, m['point_person'])}; {referrals}"]
    for change in info["history"]:
        lines.append(f"  {change['date']}  stage {stage_label(change['stage'])}  "
                     f"(after referral {change['referral']})")
    lines.append(f"  reached {count_of(m['reached'], 'member')}; breadth {count_of(m['breadth'], 'clinician')}; "
                 f"point-person share {pct(m['point_person_share'])}; practice share {pct(m['practice_share'])}")
    lines.append(f"  pace from the first referral: {pace_words(info)}")
    lines.append(f"  trend: {trend_words(m['trend'])}")
    flags = flag_words(info, stall_days=options.stall_days, lapse_days=options.lapse_days)
    if flags:
        lines.append("  " + "; ".join(flags))
    emit(info, as_json, "\n".join(lines))




@main.command("suggest")
@referrer_argument("referrer_id")
@click.option("--limit", metavar="N", help=limit_help("suggestions", SUGGESTIONS_LIMIT))
@analysis_options
@json_option
@needs_graph
def suggest(graph, referrer_id, limit, as_json):
    """The next colleagues to introduce to a referrer, with reasons."""
    from ..inputs import SuggestionsQuery, given, parse
    from ..live import build

    query = parse(SuggestionsQuery, given(limit=limit))
    insights = build(graph, graph.settings.analysis)
    info = insights.referrer(referrer_id)
    found = insights.suggestions(referrer_id, limit=query.limit)
    pp = info["metrics"]["point_person"]
    who = f"point person {insights.name_of(pp)}" if pp else "no point person"
    note = insights.weights_note()
    lines = [f"Suggestions for {info['name']} ({referrer_id}, {words(info['kind'])}; {who}, "
             f"stage {stage_label(info['stage'])}):",
             f"  ({note['weighs_most'][:1].upper()}{note['weighs_most'][1:]}: {note['source']}.)"]
    for rank, s in enumerate(found, 1):
        lines.append(f"  {rank}. {s['name']} ({s['member']})  score {s['score']:.3f}")
        lines += [f"       - {reason}" for reason in s["reasons"]]
    if not found:
        lines.append(f"  No one left to introduce to {info['name']}.")
    emit({"referrer": referrer_id, "referrer_name": info["name"], "point_person": pp,
          "point_person_name": insights.name_of(pp), "stage": info["stage"], "suggestions": found,
          "weights": note},
         as_json, "\n".join(lines))


@main.command("match")
@click.option("--needs", help="Specialties the client needs, separated by ; or , (\"adhd, anxiety\").")
@click.option("--population", help="child, adolescent, adult, older_adult, couples or family (a hard constraint).")
@click.option("--insurance")
@click.option("--schedule", help="weekday_day, weekday_evening or weekend.")
@click.option("--addressed-to", help="The clinician the referral names, to check for a better match; "
                                     "practice, or a staff member, for the practice as a whole.")
@click.option("--limit", metavar="N", help=limit_help("candidates", MATCH_LIMIT))
@analysis_options
@json_option
@needs_graph
def match(graph, needs, population, insurance, schedule, addressed_to, limit, as_json):
    """Best clinicians for a new client; a pass suggestion; outside providers.

    Give at least one of --needs, --population or --insurance (any case). A
    clinician who does not see the population or is not accepting new clients
    is never kept. Needs and an insurance nobody knows are named with the
    closest known ones and left out; if nothing known is left, it is an error.
    """
    from ..inputs import MatchRequest, given, parse
    from ..live import build
    from ..presentation import match_report
    from .common import service

    request = parse(MatchRequest, given(needs=needs, population=population, insurance=insurance,
                                        schedule=schedule, addressed_to=addressed_to, limit=limit))
    service(graph).check_match_words(request)
    out = build(graph, graph.settings.analysis).match(request)
    emit(out, as_json, match_report(out))


@main.command("evaluate")
@click.option("--limit-cases", type=click.IntRange(1), help="Only the first N introductions (quick runs).")
@click.option("--tune", is_flag=True,
              help="Learn the suggestion weights from this practice's history (a time split: learn on the "
                   "earlier introductions, validate on the later ones) and store them for suggestions, the "
                   "API and the web.")
@analysis_options
@json_option
@needs_graph
def evaluate_command(graph, limit_cases, tune, as_json):
    """Backtest the suggestions on past introductions (hit@1, hit@3, MRR vs baselines); --tune learns weights.

    The suggestions use --window (stage-3 readiness); each case is judged on
    the events before its introduction. --as-of replays only the practice
    as it stood that day (introductions and referrals up to it); the day
    thresholds do not change the table. Without --tune the suggestions use
    the weights in force (see `graphsvc config show`).
    """
    from dataclasses import asdict

    from ..live import build

    began = time.perf_counter()
    options = graph.settings.analysis
    if tune and limit_cases is not None:
        raise click.UsageError("--tune learns from every introduction: leave out --limit-cases")
    insights = build(graph, options)
    if tune:
        _tune(graph, insights, began, as_json)
        return
    force = insights.weights
    out = insights.backtest(limit_cases=limit_cases)
    out["weights"] = {"fit": force["weights"][0], "trust": force["weights"][1], "track": force["weights"][2],
                      "decay": force["decay"], "source": force["source"]}
    out["options"] = asdict(options)
    out["seconds"] = round(time.perf_counter() - began, 1)
    lines = [f"{count_of(out['cases'], 'introduction')} followed by a referral ({out['skipped']} skipped: "
             "already referred to before the introduction)",
             f"Weights in force: {_weights_text(out['weights'])} ({force['source']})",
             "| method | hit@1 | hit@3 | MRR |", "| --- | ---: | ---: | ---: |"]
    for name, label in METHODS:
        r = out[name]
        lines.append(f"| {label} | {_pct(r['hit@1'])} | {_pct(r['hit@3'])} | {_mrr(r.get('mrr'))} |")
    emit(out, as_json, "\n".join(lines))


METHODS = (("suggestions", "graphsvc suggestions"), ("random", "random eligible member"),
           ("most_referred", "most referred member"), ("observed_fit", "observed fit to its clients"))


def _tune(graph, insights, began, as_json) -> None:
    from .common import service

    out = insights.tune()
    service(graph).store_weights(out)
    out["stored"] = True
    out["seconds"] = round(time.perf_counter() - began, 1)
    w = out["weights"]
    lines = [f"Learned on {count_of(out['cases']['learn'], 'introduction')} before {out['cut']}, "
             f"validated on {count_of(out['cases']['validate'], 'introduction')} after.",
             (f"Kept the defaults: {out['why']}" if out["kept_defaults"] else
              f"Tuned weights: {_weights_text({**w, 'decay': out['decay']})}. "
              f"{out['summary'][:1].upper()}{out['summary'][1:]}."),
             "| on the validation cases | hit@1 | hit@3 | MRR |", "| --- | ---: | ---: | ---: |"]
    for name, label in (("tuned", "tuned weights"), ("defaults", "default weights (0.3, 0.5, 0.2)"),
                        ("random", "random eligible member"), ("most_referred", "most referred member"),
                        ("observed_fit", "observed fit to its clients")):
        r = out["validation"].get(name) or {}
        lines.append(f"| {label} | {_pct(r.get('hit@1'))} | {_pct(r.get('hit@3'))} | {_mrr(r.get('mrr'))} |")
    lines.append("Stored: suggestions, the API and the web use these weights from now on "
                 "(`graphsvc config show` says which are in force).")
    emit(out, as_json, "\n".join(lines))


def _weights_text(w: dict) -> str:
    return f"fit {w['fit']:.2f}, trust {w['trust']:.2f}, track {w['track']:.2f}, decay {w['decay']:.2f}"


def _mrr(x) -> str:
    return "-" if x is None else f"{x:.3f}"


def _pct(x) -> str:
    return "-" if x is None else f"{x:.1%}"


def _named(insights, member) -> str:
    """'Ana Ruiz (cn1)' as the web shows a member; the id alone if it has no name."""
    if member is None:
        return "none"
    name = insights.name_of(member)
    return f"{name} ({member})" if name != member else str(member)

