"""``graphsvc user``, ``token`` and ``audit``: accounts, API tokens and the audit log.

They live in the accounts database (``graphsvc.accounts``, setting
``web.accounts_db``), outside the graph. A password is read from standard
input when it is not a terminal (its first line), otherwise prompted for
twice; it is never a command-line option, where other users of the machine
could see it. Every change is recorded in the audit log as
``cli:<login name>``.
"""

from __future__ import annotations

import secrets
import sys

import click

from ..accounts import ROLES, Accounts, normalise_username, password_problem
from ..config import Settings
from ..errors import InvalidInput, NotFound
from .common import FriendlyGroup, emit, json_option
from .common import cli_user as _who
from .root import main


def _read_password(prompt: str, username: str | None = None) -> str:
    """The first line of standard input if it is not a terminal, else typed twice (hidden).

    Typed, a password too short or too easy to guess (``password_problem``, with zxcvbn's reasons)
    is refused and asked for again; read from standard input, ``Accounts`` refuses it.
    """
    if not sys.stdin.isatty():
        line = sys.stdin.readline()
        if not line:
            raise InvalidInput("no password on standard input (give it as the first line, "
                               "or run the command in a terminal to be asked for it)")
        line = line[:-1] if line.endswith("\n") else line
        return line[:-1] if line.endswith("\r") else line

    def check(value: str) -> str:
        problem = password_problem(value, username)
        if problem:
            raise click.BadParameter(problem.removeprefix("field 'password': "), param_hint="password")
        return value

    return click.prompt(prompt, hide_input=True, confirmation_prompt=True, value_proc=check)


def _check_role(role: str, clinician_id: str | None) -> None:
    if role == "clinician" and not clinician_id:
        raise InvalidInput("role clinician needs --clinician ID: the id of the user's Clinician in the graph")
    if role != "clinician" and clinician_id is not None:
        raise InvalidInput(f"--clinician is only for role clinician (not {role})")


def _check_clinician(settings: Settings, clinician_id: str) -> None:
    """``clinician_id`` names a Clinician in the graph (not a staff member, not anything else)."""
    from ..store import reads
    from ..store.db import Graph

    graph = Graph.connect(settings)
    try:
        rows = reads.held_by(graph, [clinician_id])
    finally:
        graph.close()
    if not rows:
        raise NotFound(f"--clinician {clinician_id!r}: no clinician has that id in the graph "
                       f"at {settings.uri}")
    row = rows[0]
    if row["member"] == "clinician":
        return
    if row["member"] == "staff":
        what = "a staff member"
    else:
        what = next((f"a {kind}" for kind in ("referrer", "client", "provider") if row.get(kind)), "not a member")
    raise InvalidInput(f"--clinician {clinician_id!r} is {what}, not a clinician")


def _clinician_option(command):
    return click.option("--clinician", "clinician_id", metavar="ID",
                        help="The id of the user's Clinician in the graph (role clinician only).")(command)


def _iso(value):
    return value.isoformat() if value is not None else None


def _day(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value is not None else "never"


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=False)).rstrip() for r in rows)


# -- graphsvc user -------------------------------------------------------------------


@main.group("user", cls=FriendlyGroup)
def user():
    """Accounts: add, list, change a password or a role, end its web sessions, remove.

    Roles: manager, intake, clinician (linked to its Clinician in the graph
    with --clinician ID) and analyst.
    """


@user.command("add")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(ROLES), help="What the user may do.")
@_clinician_option
@json_option
@click.pass_obj
def user_add(settings: Settings, username, role, clinician_id, as_json):
    """Add an account; its password is read from standard input or asked for twice.

    A password is 10 to 1024 characters and must not be easy to guess (zxcvbn's
    strength at least 3 of 4): a weak one is refused with the reason.
    """
    name = normalise_username(username)
    _check_role(role, clinician_id)
    accounts = Accounts.open(settings)
    if accounts.exists(name):
        raise InvalidInput(f"user {name!r} already exists")
    if clinician_id is not None:
        _check_clinician(settings, clinician_id)
    added = accounts.add_user(name, role, _read_password(f"Password for {name}", name), clinician_id)
    accounts.record("user add", user=_who(), ids=[added.username],
                    detail={"role": role, "clinician_id": clinician_id})
    linked = f", clinician {clinician_id}" if clinician_id else ""
    emit(added.as_dict(), as_json, f"Added user {added.username} ({role}{linked}).")


@user.command("list")
@json_option
@click.pass_obj
def user_list(settings: Settings, as_json):
    """Every account: username, role, clinician, created."""
    users = Accounts.open(settings).users()
    if not users:
        text = "No users yet. Add the first manager with: graphsvc user add NAME --role manager"
    else:
        text = _table([["username", "role", "clinician", "created (UTC)"]]
                      + [[u.username, u.role, u.clinician_id or "-", _day(u.created_at)] for u in users])
    emit([u.as_dict() for u in users], as_json, text)


@user.command("passwd")
@click.argument("username")
@json_option
@click.pass_obj
def user_passwd(settings: Settings, username, as_json):
    """Set a user's password (read from standard input or asked for twice); it must be hard to
    guess. The user's web sessions end."""
    accounts = Accounts.open(settings)
    name = accounts.user(username).username
    accounts.set_password(name, _read_password(f"New password for {name}", name))
    accounts.record("user passwd", user=_who(), ids=[name])
    emit({"username": name, "password_changed": True}, as_json, f"Changed the password of {name}.")


@user.command("role")
@click.argument("username")
@click.argument("role", type=click.Choice(ROLES))
@_clinician_option
@json_option
@click.pass_obj
def user_role(settings: Settings, username, role, clinician_id, as_json):
    """Change a user's role (and, for role clinician, its Clinician)."""
    accounts = Accounts.open(settings)
    before = accounts.user(username)
    _check_role(role, clinician_id)
    if clinician_id is not None:
        _check_clinician(settings, clinician_id)
    after = accounts.set_role(before.username, role, clinician_id)
    accounts.record("user role", user=_who(), ids=[after.username],
                    detail={"role": role, "clinician_id": clinician_id,
                            "was": {"role": before.role, "clinician_id": before.clinician_id}})
    linked = f", clinician {clinician_id}" if clinician_id else ""
    emit(after.as_dict(), as_json, f"User {after.username} is now {role}{linked} (was {before.role}).")


@user.command("logout")
@click.argument("username")
@json_option
@click.pass_obj
def user_logout(settings: Settings, username, as_json):
    """End every web session of a user now (a lost laptop, a shared computer): a cookie saved
    before opens nothing. The account and its password stay; its API tokens are not touched."""
    accounts = Accounts.open(settings)
    name = accounts.user(username).username
    ended = accounts.end_sessions(name, "ended by the command line")
    accounts.record("user logout", user=_who(), ids=[name], detail={"sessions_ended": ended})
    emit({"username": name, "sessions_ended": ended}, as_json,
         f"Ended {ended} web session{'s' if ended != 1 else ''} of {name}.")


@user.command("remove")
@click.argument("username")
@json_option
@click.pass_obj
def user_remove(settings: Settings, username, as_json):
    """Remove an account and revoke its tokens (its entries in the audit log stay)."""
    accounts = Accounts.open(settings)
    name = accounts.user(username).username
    revoked = accounts.remove_user(name)
    accounts.record("user remove", user=_who(), ids=[name], detail={"tokens_revoked": revoked})
    tokens = f"; {revoked} token{'s' if revoked != 1 else ''} revoked" if revoked else ""
    emit({"username": name, "removed": True, "tokens_revoked": revoked}, as_json,
         f"Removed user {name}{tokens}.")


@user.command("demo")
@json_option
@click.pass_obj
def user_demo(settings: Settings, as_json):
    """Create the demo's accounts and print their passwords (this once).

    `manager` (role manager) and `clinician` (role clinician, linked to the
    clinician who is point person for the most referrers), each with a random
    password. An account that exists is left alone: its password is not
    shown again (`graphsvc user passwd NAME` sets a new one).
    """
    from ..store import reads
    from ..store.db import Graph

    accounts = Accounts.open(settings)
    graph = Graph.connect(settings)
    try:
        busiest = reads.busiest_point_person(graph)
    finally:
        graph.close()
    if busiest is None:
        raise InvalidInput("no referrer has a point person yet: import the practice first "
                           "(`graphsvc import FOLDER`), then run `graphsvc user demo`")
    wanted = [("manager", "manager", None), ("clinician", "clinician", busiest["id"])]
    out, lines = [], []
    for name, role, clinician_id in wanted:
        linked = f", clinician {clinician_id} ({busiest['name']}, point person of " \
                 f"{busiest['referrers']} referrers)" if clinician_id else ""
        if accounts.exists(name):
            existing = accounts.user(name)
            out.append({**existing.as_dict(), "created": False, "password": None})
            lines.append(f"User {name} exists ({existing.role}); its password is not shown again. "
                         f"Set a new one with: graphsvc user passwd {name}")
            continue
        password = secrets.token_urlsafe(12)
        added = accounts.add_user(name, role, password, clinician_id)
        accounts.record("user add", user=_who(), ids=[added.username],
                        detail={"role": role, "clinician_id": clinician_id, "demo": True})
        out.append({**added.as_dict(), "created": True, "password": password})
        lines.append(f"Created user {name} ({role}{linked}): password {password}")
    if any(u["created"] for u in out):
        lines.append("The passwords are shown only now: graphsvc keeps only their hashes.")
    emit(out, as_json, "\n".join(lines))


# -- graphsvc token -----------------------------------------------------------------


@main.group("token", cls=FriendlyGroup)
def token():
    """API tokens: create, list, revoke.

    A client sends its token as `Authorization: Bearer <token>`. graphsvc
    stores only a hash of it: the token is shown once, when it is created.
    """


@token.command("create")
@click.argument("username")
@click.option("--name", default="", metavar="TEXT", help="What the token is for (shown by `token list`).")
@json_option
@click.pass_obj
def token_create(settings: Settings, username, name, as_json):
    """Create an API token for a user and print it (only this once)."""
    accounts = Accounts.open(settings)
    owner = accounts.user(username).username
    token_id, secret = accounts.create_token(owner, name)
    accounts.record("token create", user=_who(), ids=[token_id], detail={"username": owner, "name": name.strip()})
    if as_json:
        emit({"id": token_id, "username": owner, "name": name.strip(), "token": secret}, True)
        return
    click.echo(secret)
    click.echo(f"Token {token_id} for {owner}. It is shown only now: graphsvc keeps only its hash, so "
               f"copy it somewhere safe (`graphsvc token revoke {token_id}` withdraws it).", err=True)


@token.command("list")
@click.option("--user", "username", metavar="NAME", help="Only this user's tokens.")
@json_option
@click.pass_obj
def token_list(settings: Settings, username, as_json):
    """Every API token: id, user, name, created, last used (never the token itself)."""
    tokens = Accounts.open(settings).tokens(username)
    if not tokens:
        text = "No tokens."
    else:
        text = _table([["id", "user", "name", "created (UTC)", "last used (UTC)"]]
                      + [[t["id"], t["username"], t["name"] or "-", _day(t["created_at"]), _day(t["last_used_at"])]
                         for t in tokens])
    emit([{**t, "created_at": _iso(t["created_at"]), "last_used_at": _iso(t["last_used_at"])} for t in tokens],
         as_json, text)


@token.command("revoke")
@click.argument("token_id")
@json_option
@click.pass_obj
def token_revoke(settings: Settings, token_id, as_json):
    """Revoke an API token by its id (`graphsvc token list` shows them)."""
    accounts = Accounts.open(settings)
    revoked = accounts.revoke_token(token_id)
    accounts.record("token revoke", user=_who(), ids=[revoked["id"]], detail={"username": revoked["username"]})
    emit({"id": revoked["id"], "username": revoked["username"], "revoked": True}, as_json,
         f"Revoked token {revoked['id']} of {revoked['username']}.")


# -- graphsvc audit ---------------------------------------------------------------------


@main.group("audit", cls=FriendlyGroup, invoke_without_command=True)
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="YYYY-MM-DD",
              help="Only entries from this day on (UTC).")
@click.option("--user", "username", metavar="NAME",
              help="Only this user's entries (as recorded: a username, or cli:<login> for the CLI).")
@click.option("--action", metavar="ACTION",
              help="Only this action (login, export, ...); ending in '*', every action it begins ('write *').")
@click.option("--limit", type=click.IntRange(1), metavar="N", help="At most N entries (the newest).")
@json_option
@click.pass_context
def audit(ctx, since, username, action, limit, as_json):
    """The audit log, newest first: when (UTC), who, from where, what, the ids it touched.

    `graphsvc audit verify` checks its hash chain instead.
    """
    if ctx.invoked_subcommand is not None:
        return
    settings: Settings = ctx.obj
    entries = Accounts.open(settings).entries(since=since.date() if since else None, user=username, limit=limit,
                                              action=action)
    emit([{**e, "at": _iso(e["at"])} for e in entries], as_json,
         "\n".join(_entry_line(e) for e in entries) if entries else "No entries.")


def _entry_line(e: dict) -> str:
    import json

    parts = [e["at"].strftime("%Y-%m-%d %H:%M:%S"), e["user"] or "-", e["address"] or "-", e["action"]]
    if e["ids"]:
        parts.append(",".join(e["ids"]))
    if e["detail"]:
        parts.append(json.dumps(e["detail"], sort_keys=True))
    return "  ".join(parts)


@audit.command("verify")
@click.option("--anchor", metavar="ID:HASH",
              help="An entry's id and hash kept elsewhere (an earlier `audit verify --json`'s head, a backup's "
                   "manifest): the log must still hold that entry, unchanged.")
@click.option("--db", "path", type=click.Path(dir_okay=False, path_type=str), metavar="FILE",
              help="Check this accounts database (a backup's accounts.sqlite3), opened read-only, instead of "
                   "the setting web.accounts_db.")
@json_option
@click.pass_obj
def audit_verify(settings: Settings, anchor, path, as_json):
    """Check the audit log's hash chain: exit 0 with the count when intact, else name the first entry
    changed or removed (its id, time, action) and exit 1."""
    from ..accounts import verify_audit_file

    kept = _anchor(anchor) if anchor else None
    verdict = verify_audit_file(path, kept) if path else Accounts.open(settings).verify_audit(kept)
    out = verdict.as_dict()
    if verdict.ok:
        last = f", the last {verdict.head['id']} with hash {verdict.head['hash']}" if verdict.entries else ""
        emit(out, as_json, f"The audit log is intact: {verdict.entries:,} "
                           f"entr{'y' if verdict.entries == 1 else 'ies'} chained{last}.")
        return
    if as_json:
        emit(out, True)
    else:
        click.echo(f"The audit log was tampered with: {verdict.problem['message']}.", err=True)
    sys.exit(1)


def _anchor(text: str) -> dict:
    entry_id, _, digest = text.partition(":")
    if not entry_id.isdigit() or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise InvalidInput(f"--anchor: give an entry's id and its hash as ID:HASH (64 hex digits), "
                           f"as `graphsvc audit verify --json` prints its head (got {text[:80]!r})")
    return {"id": int(entry_id), "hash": digest}
