"""Shared pieces of the ``graphsvc`` command: ``--json``, output, errors, the graph."""

from __future__ import annotations

import functools
import json

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
