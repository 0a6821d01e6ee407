"""Shared pieces of the ``graphsvc`` command: ``--json``, output, errors, the graph,
the analysis options, and finding a referrer by id or name."""

from __future__ import annotations

import functools
import json
import logging
from difflib import get_close_matches

import click

from ..config import Settings
from ..errors import GraphsvcError, InvalidInput, NotFound
from ..logs import configured

log = logging.getLogger("graphsvc.cli")


def cli_user() -> str:
    """The audit log's name for whoever runs a command: ``cli:<login name>``."""
    return command_line_actor().user


def command_line_actor():
    """Whoever runs a command, as the service names who writes (``service.Actor.command_line``)."""
    from ..service import Actor

    return Actor.command_line()


def service(graph):
    """The write service for a command: the settings' analysis options, the audit log of its accounts."""
    from ..accounts import Accounts
    from ..service import Service

    return Service(graph, graph.settings.analysis, audit=Accounts.open(graph.settings))


def json_option(command):
    """``--json``: print a machine-readable result instead of text."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for scripting.")(command)


def emit(data, as_json: bool, text: str | None = None) -> None:
    if as_json:
        click.echo(json.dumps(data, indent=2, sort_keys=True, default=str))
    elif text is not None:
        click.echo(text)


class FriendlyGroup(click.Group):
    """Turns ``GraphsvcError`` into ``Error: <message>`` and exit code 1 (and logs it)."""

    def invoke(self, ctx):
        def where() -> str:
            return f"{ctx.command_path} {ctx.invoked_subcommand or ''}".strip()

        try:
            return super().invoke(ctx)
        except GraphsvcError as e:
            if configured():  # not when the settings themselves were bad: no log file yet
                # A user's bad input is worth a line in the log, not an alarm;
                # an unreachable Neo4j or a failed command is an error.
                level = logging.WARNING if isinstance(e, InvalidInput) else logging.ERROR
                log.log(level, "%s: %s", where(), e)
            raise click.ClickException(str(e)) from None
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except Exception as e:
            if not getattr(e, "_graphsvc_logged", False):  # nested groups log it once
                log.exception("%s: unexpected error", where())
                e._graphsvc_logged = True
            raise


def needs_graph(command):
    """Pass a connected ``Graph`` as the first argument (after the context).

    Arguments declared with ``referrer_argument`` are resolved to a referrer
    id here, once the graph is connected.
    """

    @click.pass_obj
    @functools.wraps(command)
    def wrapper(settings: Settings, *args, **kwargs):
        from ..store.db import Graph

        graph = Graph.connect(settings)
        try:
            for name, value in kwargs.items():
                if isinstance(value, ReferrerRef):
                    kwargs[name] = resolve_referrer(graph, str(value))
            return command(graph, *args, **kwargs)
        finally:
            graph.close()

    return wrapper


# -- analysis options ---------------------------------------------------------

def analysis_options(command):
    """``--window``, ``--stall-days``, ``--lapse-days``, ``--as-of``, defaulting to the settings.

    The options given are folded into the settings' ``analysis`` (the one
    ``AnalysisOptions``) before the command runs, so inside it
    ``graph.settings.analysis`` is what to use; the command itself takes no
    parameter for them.
    """

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        given = {}
        for option in ("window", "stall_days", "lapse_days", "as_of"):
            value = kwargs.pop(option)
            if value is not None:
                given[option] = value.date() if option == "as_of" else value
        if given:
            ctx = click.get_current_context()
            ctx.obj = ctx.obj.with_(analysis=given)
        return command(*args, **kwargs)

    for option in reversed([
        click.option("--window", type=click.IntRange(1, 1000), metavar="N",
                     help="Recent referrals that decide stage 3 [default: setting analysis.window, 5]."),
        click.option("--stall-days", type=click.IntRange(1), metavar="DAYS",
                     help="Days in stage 1 that count as stalled [default: setting analysis.stall_days, 180]."),
        click.option("--lapse-days", type=click.IntRange(1), metavar="DAYS",
                     help="Days without a referral that count as lapsed "
                          "[default: setting analysis.lapse_days, 180]."),
        click.option("--as-of", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="YYYY-MM-DD",
                     help="Analyse the practice as it stood at the end of this day: later events "
                          "do not count [default: setting analysis.as_of, today]."),
    ]):
        wrapper = option(wrapper)
    return wrapper


# -- referrers by id or name ------------------------------------------------


class ReferrerRef(str):
    """A referrer id or name as typed; ``needs_graph`` resolves it to an id."""


def referrer_argument(name: str = "referrer_id"):
    """A REFERRER argument that accepts an id or a unique name (case-insensitive)."""
    return click.argument(name, metavar="REFERRER", callback=lambda ctx, param, value: ReferrerRef(value))


def resolve_referrer(graph, text: str) -> str:
    """The id of the referrer with id ``text``, or else the one named ``text`` (any case).

    Several with that name: ``InvalidInput`` listing them. None: ``NotFound``
    with the closest names.
    """
    from ..store import reads

    rows = reads.referrers_named(graph, text)
    for row in rows:
        if row["id"] == text:
            return text
    if len(rows) == 1:
        return rows[0]["id"]
    if rows:
        raise InvalidInput(f"{len(rows)} referrers are named {text!r}; give one of their ids:\n"
                           + _table(rows))
    everyone = reads.referrer_names(graph)
    by_name: dict[str, list[dict]] = {}
    for row in everyone:
        by_name.setdefault((row["name"] or "").lower(), []).append(row)
    needle = text.strip().lower()
    close = get_close_matches(needle, list(by_name), n=5, cutoff=0.6)
    close += [n for n in by_name if needle and needle in n and n not in close][:5 - len(close)]
    ids = get_close_matches(text, [r["id"] for r in everyone], n=3, cutoff=0.8)
    near = [r for n in close for r in by_name[n]] + [r for r in everyone if r["id"] in ids]
    seen, unique = set(), []
    for r in near:
        if r["id"] not in seen:
            seen.add(r["id"])
            unique.append(r)
    message = f"unknown referrer {text!r}"
    if unique:
        message += " (no referrer has that id or name); did you mean:\n" + _table(unique[:8])
    raise NotFound(message)


def _table(rows: list[dict]) -> str:
    width = max(len(r["id"]) for r in rows)
    name_width = max(len(r["name"] or "") for r in rows)
    return "\n".join(f"  {r['id']:<{width}}  {r['name'] or '':<{name_width}}  {r['organization'] or ''}".rstrip()
                     for r in rows)
