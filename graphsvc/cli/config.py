"""``graphsvc config show`` and ``config init``: the effective settings, and the settings file."""

from __future__ import annotations

import json
import os
import shutil
from datetime import date, datetime
from pathlib import Path

import click

from ..config import CONFIG_NAME, SPECS, Settings, read_config_file
from ..errors import GraphsvcError
from .common import FriendlyGroup, emit, json_option
from .root import main


@main.group("config", cls=FriendlyGroup)
def config():
    """Show the effective settings, or write the settings file."""


@config.command("show")
@json_option
@click.pass_obj
def config_show(settings: Settings, as_json):
    """Every setting, its value and where it came from (default, file, environment); secrets hidden."""
    rows = settings.explain()
    data = {"file": str(settings.config_file) if settings.config_file else None,
            "looked_for": str(settings.config_looked_for) if settings.config_looked_for else None,
            "settings": rows}
    width = max(len(name) for name in rows)
    value_width = min(48, max(len(_text(r["value"])) for r in rows.values()))
    lines = [settings.describe_file()]
    for name, r in rows.items():
        lines.append(f"  {name:<{width}}  {_text(r['value']):<{value_width}}  {r['source']}")
    data["suggestion_weights"] = weights = _weights_in_force(settings)
    if weights.get("weights"):
        fit, trust, track = weights["weights"]
        lines.append(f"Suggestion weights in force: fit {fit:.2f}, trust {trust:.2f}, track {track:.2f}, "
                     f"decay {weights['decay']:.2f}: {weights['source']}.")
    else:
        lines.append(f"Suggestion weights in force: not known: {weights['source']}.")
    emit(data, as_json, "\n".join(lines))


def _weights_in_force(settings: Settings) -> dict:
    """The suggestion weights in force (stored in the graph by `evaluate --tune`, or the defaults);
    when Neo4j cannot be asked, why not."""
    from ..analysis.tuning import in_force
    from ..store.db import Graph
    from ..store.weights import stored_weights

    try:
        graph = Graph.connect(settings, retry_seconds=2)
    except GraphsvcError as error:
        return {"weights": None, "decay": None, "source": f"the database was not asked ({error})".split("\n")[0]}
    try:
        found = in_force(stored_weights(graph))
    except GraphsvcError as error:
        return {"weights": None, "decay": None, "source": f"the database did not answer ({error})".split("\n")[0]}
    finally:
        graph.close()
    return {**found, "weights": list(found["weights"])}


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@config.command("init")
@click.option("--path", "target", type=click.Path(dir_okay=False, path_type=Path),
              help=f"The file to write [default: the settings file in use, else ./{CONFIG_NAME}].")
@click.option("--force", is_flag=True, help="Replace a file that says otherwise (the old one is kept as .bak).")
@json_option
@click.pass_obj
def config_init(settings: Settings, target, force, as_json):
    """Write the settings this shell uses (never the password) to the settings file.

    Then any graphsvc command run in that folder reaches the same Neo4j
    without environment variables. An existing file that already gives the
    same settings is left as it is; one that says otherwise is kept, with a
    warning, unless --force.
    """
    target = (target or settings.config_file or Path.cwd() / CONFIG_NAME).absolute()
    # A password the user keeps in this very file stays there; none is ever added.
    keep_password = settings.source("neo4j_password") == f"file {target}"
    text, written_keys = settings_file_text(settings, keep_password=keep_password)
    out = {"path": str(target), "written": False, "backup": None, "differences": [],
           "settings": written_keys}
    if target.exists():
        differences = _differences(settings, target)
        out["differences"] = differences
        if not differences:
            emit(out, as_json, f"{target} already gives these settings; left it as it is.")
            return
        if not force:
            listed = "\n".join(f"  {d['setting']}: {_text(d['file'])} in the file, {_text(d['now'])} here "
                               f"({d['source']})" for d in differences)
            message = (f"{target} exists and says otherwise; kept it (your edits win). "
                       f"Commands run there will use the file's values:\n{listed}\n"
                       f"To replace it with this shell's settings: graphsvc config init --force")
            if as_json:
                emit(out, True)
            else:
                click.echo("Warning: " + message, err=True)
            return
        backup = target.with_name(target.name + ".bak")
        target.replace(backup)
        out["backup"] = str(backup)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    if out["backup"]:
        shutil.copymode(out["backup"], target)  # e.g. 0600 for a file holding a password
    read_config_file(target)  # what we write must read back
    out["written"] = True
    shown = ", ".join(f"{k} = {_text(v)}" for k, v in written_keys.items())
    note = f" (the old one is {out['backup']})" if out["backup"] else ""
    emit(out, as_json, f"Wrote {target}{note}: {shown}.\n"
                       f"graphsvc commands run in {target.parent} now use these settings "
                       "without environment variables.")


def settings_file_text(settings: Settings, keep_password: bool = False) -> tuple[str, dict]:
    """The settings file for ``settings``: what locates Neo4j and whatever the environment set.

    Every other setting is listed commented out with its current value. The
    password only with ``keep_password`` (it was in the file being replaced).
    """
    keep = {"data_dir", "bolt_port"} if settings.manages_local_server else {"neo4j_uri", "neo4j_user",
                                                                             "neo4j_database"}
    for spec in SPECS:
        if settings.source(spec.field).startswith(("environment ", "file ")) and spec.field != "log_echo":
            keep.add(spec.field)
    keep.discard("neo4j_password")
    stamp = datetime.now().strftime("%Y-%m-%d %H:%M")
    if keep_password:
        password = "kept under [neo4j] as in the file this one replaced"
    elif settings.manages_local_server:
        password = f"not kept here: generated, in {settings.password_file} (mode 0600)"
    else:
        password = "not kept here: set NEO4J_PASSWORD (or add password under [neo4j])"
    lines = [
        f"# graphsvc settings, written by `graphsvc config init` on {stamp}.",
        "# graphsvc reads this file when run in this folder (or wherever GRAPHSVC_CONFIG",
        "# points); environment variables override it. `graphsvc config show` prints the",
        "# effective settings and where each came from.",
        f"# The Neo4j password is {password}.",
    ]
    written = {}
    section = None
    for spec in SPECS:
        if spec.secret:
            if keep_password and spec.field == "neo4j_password":  # never another secret
                lines.append(f"{spec.key} = {_toml(settings.value(spec.field))}")
            continue
        if spec.section != section:
            section = spec.section
            lines += ["", f"[{section}]"]
        value = settings.value(spec.field)
        if spec.field == "neo4j_uri" and value is None:
            lines.append("# uri = \"bolt://host:7687\"   # unset: the local server graphsvc manages")
            continue
        literal = _toml(value) if value is not None else '"today"'
        if spec.field in keep:
            lines.append(f"{spec.key} = {literal}")
            written[spec.name] = value if not isinstance(value, (Path, date)) else str(value)
        else:
            lines.append(f"# {spec.key} = {literal}")
    return "\n".join(lines) + "\n", written


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return json.dumps(str(value), ensure_ascii=False)


def _differences(settings: Settings, path: Path) -> list[dict]:
    """Settings that a shell with no graphsvc environment variables, reading ``path``, would get otherwise."""
    try:
        base = {k: v for k, v in os.environ.items() if k.startswith("XDG_")}
        from_file = Settings.load(environ=base, config_file=path)
    except GraphsvcError as e:
        return [{"setting": "(the whole file)", "file": str(e), "now": "", "source": ""}]
    out = []
    for spec in SPECS:
        if spec.secret or spec.field == "log_echo" or settings.source(spec.field) == "override":
            continue  # the password is never written; -v and the like are for one command
        mine, theirs = settings.value(spec.field), from_file.value(spec.field)
        if mine != theirs:
            out.append({"setting": spec.name, "file": _plain(theirs), "now": _plain(mine),
                        "source": settings.source(spec.field)})
    return out


def _plain(value):
    return str(value) if isinstance(value, (Path, date)) else value
