"""The local server's password, and the graphsvc-started Neo4j servers running on this machine.

``password`` gives the Neo4j password to use: the configured one, or the
generated one that ``graphsvc db start`` keeps beside the local server's
data (mode 0600). When there is none, its message says where other graphsvc
servers run, found through /proc (``running_local_servers``), so a command
can say "your database is over there" instead of starting a second, empty one.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

from ..config import CONFIG_NAME, Settings
from ..errors import GraphsvcError

MAIN_CLASS = "org.neo4j.server.CommunityEntryPoint"  # what a running Neo4j's command line holds


def password(settings: Settings, create: bool = False) -> str:
    """The Neo4j password: configured, or the local server's generated one (made once with ``create``).

    The local server's password is generated once, stored mode 0600 beside
    its data and never committed anywhere.
    """
    if settings.neo4j_password:
        return settings.neo4j_password
    if settings.manages_local_server:
        file = settings.password_file
        if file.exists():
            return file.read_text().strip()
        if create:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            made = secrets.token_urlsafe(18)
            file.touch(mode=0o600)
            file.write_text(made + "\n")
            return made
        raise GraphsvcError(_no_local_password(settings))
    raise GraphsvcError(
        f"No Neo4j password for {settings.uri}: set NEO4J_PASSWORD (or password under [neo4j] "
        f"in the settings file). {settings.describe_file()}"
    )


def _no_local_password(settings: Settings) -> str:
    lines = [
        f"No Neo4j password for {settings.uri}: NEO4J_PASSWORD is not set and there is no "
        f"{settings.password_file} (data_dir from {settings.source('data_dir')}).",
        settings.describe_file(),
    ]
    others = [s for s in running_local_servers() if s["data_dir"] != settings.data_dir]
    for s in others:
        lines.append(describe_server(s))
    if others:
        lines.append("To use it, run the command where its settings file is (or set GRAPHSVC_CONFIG to "
                     "that file), or set data_dir (GRAPHSVC_DATA_DIR) and bolt_port (GRAPHSVC_BOLT_PORT) "
                     "to match; `graphsvc db start` here would start a second, empty database.")
    else:
        lines.append(f"If your database lives elsewhere, set data_dir (GRAPHSVC_DATA_DIR, or [local] "
                     f"data_dir in {CONFIG_NAME}) to its folder; only if you have never started one, "
                     f"`graphsvc db start` creates a new, empty database in {settings.data_dir}.")
    return "\n".join(lines)


def running_local_servers() -> list[dict]:
    """Every graphsvc-started Neo4j running on this machine: pid, data_dir, bolt_port, settings_file.

    ``settings_file`` is the ``graphsvc.toml`` of the folder it was started
    in (``make run`` writes one there), or None. Found through /proc (empty
    where there is none).
    """
    found = []
    for pid, args in neo4j_processes():
        home = next((a[len(b"--home-dir="):].decode(errors="replace") for a in args
                     if a.startswith(b"--home-dir=")), None)
        if home is None:
            continue
        try:  # where `graphsvc db start` ran: its graphsvc.toml, if any, points at this server
            started_in = Path(os.readlink(f"/proc/{pid}/cwd"))
        except OSError:
            started_in = None
        settings_file = started_in / CONFIG_NAME if started_in is not None else None
        found.append({"pid": pid, "data_dir": Path(home), "bolt_port": _conf_bolt_port(Path(home)),
                      "settings_file": settings_file if settings_file and settings_file.is_file() else None})
    return sorted(found, key=lambda s: s["pid"])


def describe_server(s: dict) -> str:
    """'A graphsvc Neo4j is running (pid 12) with its data in ..., Bolt port 7687; settings file ...'."""
    text = f"A graphsvc Neo4j is running (pid {s['pid']}) with its data in {s['data_dir']}"
    if s.get("bolt_port"):
        text += f", Bolt port {s['bolt_port']}"
    if s.get("settings_file"):
        text += f"; its settings file is {s['settings_file']}"
    return text + "."


def _conf_bolt_port(home: Path) -> int | None:
    try:
        text = (home / "conf" / "neo4j.conf").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("server.bolt.listen_address="):
            try:
                return int(line.rsplit(":", 1)[1])
            except (IndexError, ValueError):
                return None
    return None


def neo4j_processes() -> Iterator[tuple[int, list[bytes]]]:
    """Processes running Neo4j's entry point, as ``(pid, command-line args)``.

    Read from /proc; none where there is no /proc (macOS).
    """
    try:
        entries = os.listdir("/proc")
    except OSError:
        return
    marker = MAIN_CLASS.encode()
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                args = f.read().split(b"\0")
        except OSError:
            continue
        if marker in args:
            yield int(entry), args
