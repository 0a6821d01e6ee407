"""The Docker deployment (Dockerfile, docker-compose.yml, deploy/, docs/docker.md), as far as a machine
without a Docker engine can check it.

* ``docker-compose config`` (Debian's docker-compose, which ``make install`` installs) reads and checks
  docker-compose.yml: the app's data on a named volume at the image's data folder, the backup service,
  the secret, the TLS profile.
* The image's command line (the Dockerfile's CMD, read from it) runs with the image's ENV and the compose
  file's environment for ``app`` (read from them, not copied), a temporary folder standing in for each
  volume and the secret, against the test Neo4j. Its first start makes the first manager from the secret;
  the commands docs/docker.md runs in the container (``docker compose exec app ...``) load the demo
  practice, add an account, back up; a restart finds the accounts, the audit chain and a signed-in
  session still there.
* ``graphsvc.accounts.initial_manager``: made once, by one of processes that start at once, and clear
  errors naming the setting and the file.
"""

from __future__ import annotations

import http.client
import http.cookiejar
import json
import multiprocessing
import os
import re
import shlex
import shutil
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from argon2 import PasswordHasher
from click.testing import CliRunner

from graphsvc.accounts import INITIAL_MANAGER_ACTOR, Accounts, initial_manager
from graphsvc.config import Settings
from graphsvc.errors import GraphsvcError
from tests.conftest import FAST_HASHER, csrf_token_of
from tests.helpers import TEST_QUERIES, free_port

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "docker-compose.yml"
NIGHTLY = ROOT / "deploy" / "nightly-backup.sh"
DOCS = ROOT / "docs" / "docker.md"
BIN = Path(sys.executable).parent
MANAGER_PASSWORD = "kettle orbit violin meadow"  # the secret's first line in these tests

# What docs/docker.md runs inside the containers (`docker compose exec app ...`, `docker compose run --rm
# app ...`), in the order of the walk-through; the restart test runs each. A command of the page that is
# not the start of one of these fails test_every_container_command_of_the_docker_page_is_run_here.
DEMO = [["python", "-m", "seed", "--out", "/tmp/demo", "--end", "yesterday", "--quiet"],
        ["graphsvc", "import", "/tmp/demo"],
        ["graphsvc", "analyze"]]
ADD_ACCOUNT = ["graphsvc", "user", "add", "carl", "--role", "analyst"]  # the password on standard input
BACKUP_NOW = ["graphsvc", "backup", "/backups", "--keep", "14"]
CHECKS = [["graphsvc", "user", "list"], ["graphsvc", "audit", "verify"], ["graphsvc", "config", "show"]]
EXPORT = ["graphsvc", "export", "/tmp/export"]
RESTORE = ["graphsvc", "restore", "--force"]  # and the backup folder
FIRST_MANAGER = ["graphsvc", "user", "add", "alice", "--role", "manager"]  # without the secret
IN_CONTAINER = [*DEMO, FIRST_MANAGER, ADD_ACCOUNT, BACKUP_NOW, *CHECKS, EXPORT, RESTORE, ["graphsvc-nightly-backup"]]


# -- reading the Dockerfile and the compose file ---------------------------------------------------------


def dockerfile() -> dict:
    """The final stage's ENV (a dict), CMD (its JSON list), USER and WORKDIR, as Docker reads them."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())  # continuation lines joined
    final = text[text.rindex("\nFROM "):]
    image: dict = {"env": {}}
    for line in final.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        word, _, rest = line.partition(" ")
        if word == "ENV":
            for pair in shlex.split(rest):
                key, _, value = pair.partition("=")
                image["env"][key] = value
        elif word == "CMD":
            image["cmd"] = json.loads(rest)
        elif word in ("USER", "WORKDIR"):
            image[word.lower()] = rest.strip()
    return image


def interpolate(value: str, variables: dict) -> str:
    """Compose's interpolation: ``${X}``, ``${X:-default}``, ``${X:?error}``, ``$$`` (what the tests use)."""
    def one(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name, how, word = match.group(1), match.group(2), match.group(3)
        given = variables.get(name, "")
        if how == ":?" and not given:
            raise AssertionError(f"compose would refuse: {word}")
        return given if given or how is None else word
    return re.sub(r"\$\$|\$\{(\w+)(?:(:-|:\?)([^}]*))?\}", one, value)


def compose_file(variables: dict) -> dict:
    """docker-compose.yml read with PyYAML (anchors and merges resolved), then interpolated."""
    def walk(node):
        if isinstance(node, dict):
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return interpolate(node, variables) if isinstance(node, str) else node
    return walk(yaml.safe_load(COMPOSE.read_text()))


def compose_tool() -> list[str] | None:
    """The command that runs `config`: Debian's docker-compose, or a Docker CLI's compose plugin."""
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    return None


def compose_config(tmp_path: Path, env_file: str, *args: str) -> subprocess.CompletedProcess:
    tool = compose_tool()
    if tool is None:
        if os.environ.get("CI") or shutil.which("apt-get"):
            pytest.fail("docker-compose is not installed: `make install` installs Debian's docker-compose "
                        "(apt-get install docker-compose); docker-compose.yml cannot be checked without it")
        pytest.skip("NOT CHECKED: docker-compose.yml: no docker-compose and no apt-get to install it on this "
                    "machine (install docker-compose, or Docker's compose plugin, to check it)")
    path = tmp_path / "compose.env"
    path.write_text(env_file)
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}  # nothing of the test's own environment
    return subprocess.run([*tool, "--project-directory", str(ROOT), "-f", str(COMPOSE), "--env-file", str(path),
                           "config", *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)


# -- docker-compose config --------------------------------------------------------------------------------


def test_docker_compose_config_accepts_the_file_and_puts_the_app_data_on_a_named_volume(tmp_path):
    done = compose_config(tmp_path, "NEO4J_PASSWORD=choose-one\nGRAPHSVC_INITIAL_MANAGER=alice\n")
    assert done.returncode == 0, done.stderr
    config = yaml.safe_load(done.stdout)
    image = dockerfile()
    data = image["env"]["GRAPHSVC_DATA_DIR"]
    services = config["services"]
    assert set(services) == {"neo4j", "app", "backup", "caddy"}
    app, backup = services["app"], services["backup"]

    # The image keeps everything in its data folder, which is a named volume for the app and the backup.
    assert image["env"]["GRAPHSVC_SNAPSHOT_DIR"].startswith(data + "/")
    assert image["env"]["GRAPHSVC_LOG_FILE"].startswith(data + "/")
    assert image["env"]["GRAPHSVC_CONFIG"] == "/dev/null" and image["user"] == "graphsvc"
    assert re.search(rf"install -d -m 0700 -o graphsvc -g graphsvc {data} /backups", DOCKERFILE.read_text())
    for service in (app, backup):
        assert f"graphsvc-data:{data}:rw" in service["volumes"], service["volumes"]
        assert f"{ROOT}/backups:/backups:rw" in service["volumes"]
        assert service["image"] == "graphsvc:local" and service["build"]["context"] == str(ROOT)
    assert "graphsvc-data" in config["volumes"]

    # The app runs the image's command (graphsvc serve); the backup the nightly loop, with the app's settings.
    assert "command" not in app and image["cmd"][:2] == ["graphsvc", "serve"]
    assert backup["command"] == ["graphsvc-nightly-backup"]
    assert {k: v for k, v in backup["environment"].items() if not k.startswith("GRAPHSVC_BACKUP_")} == \
        app["environment"]
    assert backup["environment"]["GRAPHSVC_BACKUP_DIR"] == "/backups"
    assert app["environment"]["NEO4J_PASSWORD"] == "choose-one"
    assert app["environment"]["GRAPHSVC_INITIAL_MANAGER"] == "alice"
    assert app["environment"]["NEO4J_URI"] == "bolt://neo4j:7687"

    # The first manager's password is a secret, its file where the setting says.
    assert app["secrets"] == [{"source": "initial_manager_password"}]
    assert config["secrets"]["initial_manager_password"]["file"] == f"{ROOT}/secrets/initial-manager-password"
    assert app["environment"]["GRAPHSVC_INITIAL_MANAGER_PASSWORD_FILE"] == "/run/secrets/initial_manager_password"

    # Only 127.0.0.1 reaches Neo4j and the app; the TLS proxy is a profile, with its config file.
    assert all(p.startswith("127.0.0.1:") for s in ("neo4j", "app") for p in services[s]["ports"])
    assert services["neo4j"]["image"] == "neo4j:5.26-community"
    caddy = services["caddy"]
    assert caddy["profiles"] == ["tls"] and f"{ROOT}/deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in caddy["volumes"]
    assert caddy["environment"]["GRAPHSVC_UPSTREAM"] == "app:8000"


def test_docker_compose_config_takes_the_tls_and_version_settings_and_refuses_no_password(tmp_path):
    done = compose_config(tmp_path, "NEO4J_PASSWORD=choose-one\nGRAPHSVC_HOST=graphsvc.example.org\n"
                                    "GRAPHSVC_TRUSTED_PROXIES=1\nGRAPHSVC_COOKIE_SECURE=true\n"
                                    "NEO4J_VERSION=5.26.30\nGRAPHSVC_BACKUP_AT=03:30\n")
    assert done.returncode == 0, done.stderr
    services = yaml.safe_load(done.stdout)["services"]
    assert services["caddy"]["environment"]["GRAPHSVC_HOST"] == "graphsvc.example.org"
    for name in ("app", "backup"):
        env = services[name]["environment"]
        assert (env["GRAPHSVC_TRUSTED_PROXIES"], env["GRAPHSVC_COOKIE_SECURE"]) == ("1", "true")
    assert services["neo4j"]["image"] == "neo4j:5.26.30-community"
    assert services["backup"]["environment"]["GRAPHSVC_BACKUP_AT"] == "03:30"

    refused = compose_config(tmp_path, "")
    assert refused.returncode != 0 and "set NEO4J_PASSWORD (in .env)" in refused.stderr


def test_the_compose_file_read_here_is_what_docker_compose_reads(tmp_path):
    """The restart test reads the file with PyYAML and interpolates it itself: the same as docker-compose."""
    variables = {"NEO4J_PASSWORD": "choose-one", "GRAPHSVC_INITIAL_MANAGER": "alice"}
    done = compose_config(tmp_path, "".join(f"{k}={v}\n" for k, v in variables.items()))
    assert done.returncode == 0, done.stderr
    theirs = yaml.safe_load(done.stdout)["services"]
    ours = compose_file(variables)["services"]
    for name in ("app", "backup"):
        assert {k: str(v) for k, v in ours[name]["environment"].items()} == theirs[name]["environment"]


# -- the image's command line, restarted -------------------------------------------------------------------


class Container:
    """What a container of the image would run: its ENV, then the compose file's environment for
    ``service``, each path under a mount point moved to the temporary folder standing in for it."""

    def __init__(self, tmp_path: Path, neo4j_env: dict, service: str = "app", **variables: str):
        """``variables``: .env's, beside NEO4J_PASSWORD (the test Neo4j's) and GRAPHSVC_INITIAL_MANAGER=alice."""
        self.image = dockerfile()
        self.variables = {"NEO4J_PASSWORD": neo4j_env["NEO4J_PASSWORD"], "GRAPHSVC_INITIAL_MANAGER": "alice",
                          **variables}
        config = compose_file(self.variables)
        spec = config["services"][service]
        self.mounts = {}
        for volume in spec["volumes"]:
            source, target = volume.split(":")[:2]
            self.mounts[target] = tmp_path / source.strip("./")
            self.mounts[target].mkdir(mode=0o700, parents=True, exist_ok=True)
        for secret in spec.get("secrets", []):
            self.mounts[f"/run/secrets/{secret}"] = tmp_path / "secrets" / secret
        self.mounts["/tmp"] = tmp_path / "container-tmp"  # the container's own /tmp (seed's and export's folders)
        self.mounts["/tmp"].mkdir(parents=True, exist_ok=True)
        for folder in self.mounts.values():
            folder.parent.mkdir(parents=True, exist_ok=True)
        self.home = tmp_path / "home"  # the image user's home: nothing may land there
        self.home.mkdir(exist_ok=True)
        env = {**self.image["env"], **spec["environment"]}
        # The one thing that differs: the test Neo4j is not at the compose network's `neo4j`.
        assert env["NEO4J_URI"] == "bolt://neo4j:7687"
        env.update({k: v for k, v in neo4j_env.items() if k in ("NEO4J_URI", "NEO4J_USER", "NEO4J_DATABASE")})
        self.env = {"PATH": f"{BIN}:{os.environ['PATH']}", "HOME": str(self.home), "LANG": "C.UTF-8",
                    **{k: self.path(str(v)) for k, v in env.items()}}
        # Made 0700 above, as the image makes it (Docker copies its owner and mode into a new named volume).
        self.volume = self.mounts[self.image["env"]["GRAPHSVC_DATA_DIR"]]

    def path(self, value: str) -> str:
        for target, folder in self.mounts.items():
            if value == target or value.startswith(target + "/"):
                return str(folder) + value[len(target):]
        return value

    def argv(self, command: list[str]) -> list[str]:
        return [self.path(word) for word in command]

    def exec(self, command: list[str], stdin: str | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
        """``docker compose exec app COMMAND``: in the image's WORKDIR (its copy of the checkout), its env."""
        argv = self.argv(command)
        if command[0] == "graphsvc-nightly-backup":  # the image's copy of deploy/nightly-backup.sh
            argv = ["sh", str(NIGHTLY), *argv[1:]]  # (a host path: never mapped, even in a checkout under /tmp)
        done = subprocess.run(argv, env=self.env, cwd=ROOT, input=stdin, capture_output=True,
                              text=True, timeout=timeout)
        assert done.returncode == 0, (command, done.stdout, done.stderr)
        return done


def start(container: Container, port: int) -> subprocess.Popen:
    """The image's CMD, its --port moved to a free one; until /login answers."""
    cmd = list(container.image["cmd"])
    assert cmd[cmd.index("--port") + 1] == "8000" and cmd[cmd.index("--host") + 1] == "0.0.0.0"
    cmd[cmd.index("--port") + 1] = str(port)
    server = subprocess.Popen(container.argv(cmd), env=container.env, cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=10) as answer:
                assert answer.status == 200
                return server
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise AssertionError(server.communicate()[1]) from None
            time.sleep(0.3)


def stop(server: subprocess.Popen) -> str:
    server.send_signal(signal.SIGTERM)  # what `docker compose stop` sends
    return server.communicate(timeout=60)[1]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def browser(jar: http.cookiejar.CookieJar) -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect())


def fetch(opener, url, data: dict | None = None) -> tuple[int, str]:
    """``url``: text or a ``urllib.request.Request``; ``data``: a form to post."""
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    try:
        with opener.open(url, data=body, timeout=30) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.mark.slow  # a gunicorn of its own, started twice, and the demo practice
def test_the_image_command_keeps_accounts_audit_and_sessions_across_a_restart(graph, neo4j_env, tmp_path):
    # A new Neo4j, as Docker's first start gives: not even the Practice node (the first import makes it).
    graph.write("wipe_graph", catalog=TEST_QUERIES)
    app = Container(tmp_path, neo4j_env)
    secret = Path(app.path("/run/secrets/initial_manager_password"))
    secret.write_text(MANAGER_PASSWORD + "\n")
    port = free_port()
    base = f"http://127.0.0.1:{port}"

    # First start: the first manager from the secret, made before the workers start, never shown.
    server = start(app, port)
    try:
        jar = http.cookiejar.CookieJar()
        opener = browser(jar)
        status, page = fetch(opener, f"{base}/login")
        status, _ = fetch(opener, f"{base}/login", {"username": "alice", "password": MANAGER_PASSWORD,
                                                    "csrf_token": csrf_token_of(page)})
        assert status == 302
        status, page = fetch(opener, f"{base}/")
        assert status == 200 and "alice" in page and "(manager)" in page

        # The walk-through's commands, inside the "container": the demo practice, another account, a backup.
        for command in DEMO:
            app.exec(command)
        app.exec(ADD_ACCOUNT, stdin="plum tractor quietly 88\n")
        app.exec(BACKUP_NOW)
        listed = app.exec(["graphsvc", "user", "list"]).stdout
        assert "alice" in listed and "carl" in listed
        shown = app.exec(["graphsvc", "config", "show"]).stdout
        assert MANAGER_PASSWORD not in shown and neo4j_env["NEO4J_PASSWORD"] not in shown
        status, page = fetch(opener, f"{base}/referrers")
        assert status == 200
    finally:
        first = stop(server)
    assert "Added the first manager, alice (web.initial_manager)." in first
    assert MANAGER_PASSWORD not in first
    assert f"Serving graphsvc on http://0.0.0.0:{port}/ with gunicorn, 2 worker(s)" in first
    accounts = Accounts(app.volume / "graphsvc-accounts.sqlite3")
    head = accounts.audit_head()
    made = [e for e in accounts.entries(action="user add") if e["ids"] == ["alice"]]
    assert [e["user"] for e in made] == [INITIAL_MANAGER_ACTOR]

    # Everything the app keeps is in the volume; nothing in the home folder, which a new container loses.
    # (With NEO4J_URI set, nothing of a local Neo4j either: no conf, no data, no generated password.)
    kept = {p.relative_to(app.volume).parts[0] for p in app.volume.rglob("*")}
    assert {"graphsvc-accounts.sqlite3", "graphsvc-secret-key", "log", "snapshots"} <= kept <= {
        "graphsvc-accounts.sqlite3", "graphsvc-accounts.sqlite3-wal", "graphsvc-accounts.sqlite3-shm",
        "graphsvc-secret-key", "log", "snapshots"}, kept
    assert any(Path(app.path("/data/snapshots")).iterdir())
    assert MANAGER_PASSWORD not in Path(app.path("/data/log/graphsvc.log")).read_text()  # never logged
    assert list(app.home.rglob("*")) == []
    backups = list(Path(app.path("/backups")).glob("graphsvc-backup-*"))
    assert len(backups) == 1 and (backups[0] / "manifest.json").is_file()

    # A new container of the image (`docker compose up -d` after a new build): the same volume.
    shutil.rmtree(app.home)
    app.home.mkdir()
    server = start(app, port)
    try:
        status, page = fetch(opener, f"{base}/")  # the cookie from before the restart
        assert status == 200 and "alice" in page, status
        status, _ = fetch(browser(http.cookiejar.CookieJar()), f"{base}/")
        assert status == 302  # and without it, the login page
        verified = app.exec(["graphsvc", "audit", "verify"]).stdout
        assert "The audit log is intact" in verified, verified
    finally:
        second = stop(server)
    assert "web.initial_manager (GRAPHSVC_INITIAL_MANAGER) is not used: there are accounts already" in second
    assert [u.username for u in accounts.users()] == ["alice", "carl"]
    # The chain is whole, and still holds the entry that was its head before the restart.
    assert accounts.verify_audit({"id": head["id"], "hash": head["hash"]}).ok


@pytest.mark.slow
def test_the_backup_service_and_a_restore_drill_with_the_compose_settings(small, neo4j_env, tmp_path):
    """The backup service's command (the nightly loop, told to back up now) with the backup's environment,
    then the restore drill's commands with the app's, into an emptied graph and a new volume."""
    backup = Container(tmp_path, neo4j_env, "backup")
    Accounts(backup.volume / "graphsvc-accounts.sqlite3", hasher=PasswordHasher(**FAST_HASHER)).add_user(
        "alice", "manager", MANAGER_PASSWORD)
    backup.env["GRAPHSVC_BACKUP_AT"] = "now"
    said = backup.exec(["graphsvc-nightly-backup"])
    assert "Backed up to" in said.stdout and "The audit log is intact" in said.stdout
    made = sorted(Path(backup.path("/backups")).glob("graphsvc-backup-*"))
    assert len(made) == 1

    # The drill (docs/docker.md): a scratch project, so a new volume and an empty graph, the backups
    # folder the same; the restore, the export compared with the backup's, the checks.
    drill = Container(tmp_path / "drill", neo4j_env)
    shutil.copytree(made[0], Path(drill.path("/backups")) / made[0].name)
    small.write("wipe_graph", catalog=TEST_QUERIES)
    small.write("practice_node", catalog=TEST_QUERIES)
    drill.exec([*RESTORE[:2], f"/backups/{made[0].name}"])
    drill.exec(EXPORT)
    diff = subprocess.run(["diff", "-r", str(made[0] / "graph"), drill.path("/tmp/export")], capture_output=True,
                          text=True)
    assert diff.returncode == 0, diff.stdout
    for command in CHECKS:
        drill.exec(command)
    assert "alice" in drill.exec(["graphsvc", "user", "list"]).stdout

    # A restore over the running service's data, as after a disaster: --force.
    drill.exec([*RESTORE, f"/backups/{made[0].name}"])


# -- the nightly loop's clock -------------------------------------------------------------------------------


def nightly_sleep(tmp_path: Path, at: str) -> int:
    """The seconds the loop first sleeps for GRAPHSVC_BACKUP_AT=at (a `sleep` that says and stops it)."""
    fake = tmp_path / "bin"
    fake.mkdir(exist_ok=True)
    (fake / "sleep").write_text(f'#!/bin/sh\necho "$1" > {tmp_path}/slept\nkill -TERM $PPID\n')
    (fake / "sleep").chmod(0o755)
    env = {"PATH": f"{fake}:{os.environ['PATH']}", "GRAPHSVC_BACKUP_AT": at, "GRAPHSVC_BACKUP_DIR": str(tmp_path),
           "TZ": "UTC"}
    subprocess.run(["sh", str(NIGHTLY)], env=env, capture_output=True, text=True, timeout=30)
    return int((tmp_path / "slept").read_text())


def test_the_nightly_loop_sleeps_until_the_next_backup_time(tmp_path):
    now = datetime.now(UTC)
    later = (now + timedelta(hours=2)).strftime("%H:%M")
    assert 7200 - 120 <= nightly_sleep(tmp_path, later) <= 7200
    earlier = (now - timedelta(hours=2)).strftime("%H:%M")
    assert 22 * 3600 - 120 <= nightly_sleep(tmp_path, earlier) <= 22 * 3600 + 60
    bad = subprocess.run(["sh", str(NIGHTLY)], env={"PATH": os.environ["PATH"], "GRAPHSVC_BACKUP_AT": "25:99",
                                                     "GRAPHSVC_BACKUP_DIR": str(tmp_path)},
                         capture_output=True, text=True, timeout=30)
    assert bad.returncode == 2 and "GRAPHSVC_BACKUP_AT=25:99 is not a time of day" in bad.stderr
    missing = subprocess.run(["sh", str(NIGHTLY)], env={"PATH": os.environ["PATH"],
                                                         "GRAPHSVC_BACKUP_DIR": str(tmp_path / "nowhere")},
                             capture_output=True, text=True, timeout=30)
    assert missing.returncode == 1 and f"{tmp_path / 'nowhere'} is not a folder this user" in missing.stderr


# -- the first manager ----------------------------------------------------------------------------------------


def settings_for(tmp_path: Path, **env) -> Settings:
    return Settings.load(environ={"GRAPHSVC_DATA_DIR": str(tmp_path / "data"), **env})


def make_first(args) -> bool:
    data, password_file = args
    settings = Settings.load(environ={"GRAPHSVC_DATA_DIR": data, "GRAPHSVC_INITIAL_MANAGER": "alice",
                                      "GRAPHSVC_INITIAL_MANAGER_PASSWORD_FILE": password_file})
    accounts = Accounts.open(settings, hasher=PasswordHasher(**FAST_HASHER))
    return initial_manager(settings, accounts) is not None


def test_the_first_manager_is_made_once_by_one_of_processes_starting_at_once(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text(MANAGER_PASSWORD + "\n")
    with multiprocessing.get_context("fork").Pool(6) as pool:
        made = pool.map(make_first, [(str(tmp_path / "data"), str(secret))] * 6)
    assert made.count(True) == 1
    settings = settings_for(tmp_path, GRAPHSVC_INITIAL_MANAGER="alice",
                            GRAPHSVC_INITIAL_MANAGER_PASSWORD_FILE=str(secret))
    accounts = Accounts.open(settings)
    assert [(u.username, u.role) for u in accounts.users()] == [("alice", "manager")]
    assert accounts.check_password("alice", MANAGER_PASSWORD) is not None
    assert [(e["user"], e["ids"]) for e in accounts.entries()] == [(INITIAL_MANAGER_ACTOR, ["alice"])]
    # Once there is an account, the file is not read at all: it may be emptied or removed.
    secret.unlink()
    assert initial_manager(settings, accounts) is None
    assert initial_manager(settings_for(tmp_path), accounts) is None  # unset: nothing


@pytest.mark.parametrize("content, env, message", [
    (None, {}, "web.initial_manager_password_file (GRAPHSVC_INITIAL_MANAGER_PASSWORD_FILE): {file} does not "
               "exist (it holds the password of the first manager, 'alice')"),
    ("\n", {}, "{file} is empty: its first line is the first manager's password"),
    ("password12\n", {}, "{file}: the first manager's password is refused: too easy to guess (strength"),
    ("short\n", {}, "the first manager's password is refused: must be at least 10 characters"),
    ("alice2024alice!\n", {}, "refused: too easy to guess: it is made of the username"),
    (MANAGER_PASSWORD, {"GRAPHSVC_INITIAL_MANAGER_PASSWORD_FILE": ""},
     "web.initial_manager (GRAPHSVC_INITIAL_MANAGER) is 'alice' but web.initial_manager_password_file "
     "(GRAPHSVC_INITIAL_MANAGER_PASSWORD_FILE) is not set"),
    (MANAGER_PASSWORD, {"GRAPHSVC_INITIAL_MANAGER": "Alice Smith"},
     "web.initial_manager (GRAPHSVC_INITIAL_MANAGER): must be 1-64 characters of a-z"),
])
def test_a_first_manager_that_cannot_be_made_names_the_setting_and_the_file(tmp_path, content, env, message):
    secret = tmp_path / "secrets" / "initial_manager_password"
    if content is not None:
        secret.parent.mkdir()
        secret.write_text(content)
    settings = settings_for(tmp_path, **{"GRAPHSVC_INITIAL_MANAGER": "alice",
                                         "GRAPHSVC_INITIAL_MANAGER_PASSWORD_FILE": str(secret), **env})
    with pytest.raises(GraphsvcError) as caught:
        initial_manager(settings)
    assert message.format(file=secret) in str(caught.value)
    if content and content.strip():
        assert content.strip() not in str(caught.value)  # the password is never shown
    assert Accounts.open(settings).users() == []


def test_serve_stops_before_serving_when_the_first_manager_cannot_be_made(tmp_path):
    from graphsvc.cli import main

    missing = tmp_path / "nothing-here"
    result = CliRunner().invoke(main, ["serve", "--dev"], env={
        "GRAPHSVC_CONFIG": os.devnull, "GRAPHSVC_DATA_DIR": str(tmp_path / "data"),
        "NEO4J_URI": f"bolt://127.0.0.1:{free_port()}", "NEO4J_PASSWORD": "unused",
        "GRAPHSVC_INITIAL_MANAGER": "alice", "GRAPHSVC_INITIAL_MANAGER_PASSWORD_FILE": str(missing)})
    assert result.exit_code == 1
    assert f"Error: web.initial_manager_password_file (GRAPHSVC_INITIAL_MANAGER_PASSWORD_FILE): {missing} " \
           f"does not exist" in result.output


# -- the Docker page ------------------------------------------------------------------------------------------


def test_every_container_command_of_the_docker_page_is_run_here():
    """Each `docker compose exec|run ... app|backup COMMAND` of docs/docker.md starts like a command the
    tests above run (up to its first word that is a placeholder or a variable)."""
    found = []
    parts = [part for line in DOCS.read_text().splitlines() for part in re.split(r"&&|\|\||;|\|", line)]
    for line in parts:
        match = re.search(r"docker compose (?:-p \S+ )?(?:exec|run)((?: (?:-T|--rm|--no-deps|-e \S+))*) "
                          r"(app|backup)(?: (.*))?$", line)
        if not match:
            continue
        words = shlex.split(match.group(3) or "", comments=True)
        # Up to the first word that names a particular folder or backup, or is a variable.
        words = words[:next((i for i, w in enumerate(words) if "$" in w or w.startswith(("/tmp/", "/backups/"))),
                            len(words))]
        if match.group(2) == "backup" and not words:
            words = ["graphsvc-nightly-backup"]  # the service's own command
        assert words, line
        found.append(words)
        assert any(command[:len(words)] == words for command in IN_CONTAINER), line
    assert len(found) >= 10 and ["graphsvc", "user", "add"] in [w[:3] for w in found]


def test_the_first_manager_by_a_command_in_the_running_service(tmp_path):
    """`docker compose exec -T app graphsvc user add alice --role manager`, the password on standard input:
    into the volume, where the app reads it (a manager needs no Neo4j to be made)."""
    app = Container(tmp_path, {"NEO4J_URI": f"bolt://127.0.0.1:{free_port()}", "NEO4J_PASSWORD": "unused"})
    app.exec(FIRST_MANAGER, stdin=MANAGER_PASSWORD + "\n")
    assert "alice" in app.exec(["graphsvc", "user", "list"]).stdout
    accounts = Accounts(app.volume / "graphsvc-accounts.sqlite3")
    assert [(u.username, u.role) for u in accounts.users()] == [("alice", "manager")]
    assert list(app.home.rglob("*")) == []


# -- TLS: Caddy with deploy/Caddyfile in front of the image's command ------------------------------------------


def caddy_binary() -> str | None:
    unpacked = ROOT / ".tools" / "caddy" / "usr" / "bin" / "caddy"  # make install's (the Makefile's caddy-tool)
    return (os.environ.get("GRAPHSVC_CADDY") or shutil.which("caddy")
            or (str(unpacked) if os.access(unpacked, os.X_OK) else None))


@pytest.mark.slow
def test_caddy_with_the_caddyfile_in_front_of_the_app_with_the_tls_settings(graph, neo4j_env, tmp_path):
    """docs/docker.md's TLS: deploy/Caddyfile verbatim (after global options that move its ports off 80 and
    443 and use Caddy's own local CA), the app with GRAPHSVC_TRUSTED_PROXIES=1 and GRAPHSVC_COOKIE_SECURE=true
    as .env gives them: HTTPS, a redirect from HTTP, HSTS, no Server header, the app's headers, a Secure session
    cookie that works, and a client's own X-Forwarded-For dropped."""
    caddy = caddy_binary()
    if caddy is None:
        pytest.skip("NOT CHECKED: deploy/Caddyfile in front of the app: no `caddy` on PATH (nor $GRAPHSVC_CADDY); "
                    "Debian's package has one (apt-get download caddy && dpkg -x caddy_*.deb DIR gives DIR/usr/bin/"
                    "caddy without starting a service)")
    app = Container(tmp_path, neo4j_env, GRAPHSVC_TRUSTED_PROXIES="1", GRAPHSVC_COOKIE_SECURE="true")
    assert (app.env["GRAPHSVC_TRUSTED_PROXIES"], app.env["GRAPHSVC_COOKIE_SECURE"]) == ("1", "true")
    Path(app.path("/run/secrets/initial_manager_password")).write_text(MANAGER_PASSWORD + "\n")
    port, http_port, https_port = free_port(), free_port(), free_port()
    caddy_env = compose_file(app.variables)["services"]["caddy"]["environment"]
    assert caddy_env == {"GRAPHSVC_HOST": "localhost", "GRAPHSVC_UPSTREAM": "app:8000"}
    caddyfile = tmp_path / "Caddyfile"
    caddyfile.write_text(f"{{\n\thttp_port {http_port}\n\thttps_port {https_port}\n\tlocal_certs\n"
                         f"\tskip_install_trust\n\tadmin off\n}}\n\n" + (ROOT / "deploy" / "Caddyfile").read_text())
    home = tmp_path / "caddy-home"
    env = {"PATH": os.environ["PATH"], "HOME": str(home), "XDG_DATA_HOME": str(home / "data"),
           "XDG_CONFIG_HOME": str(home / "config"), **caddy_env,
           "GRAPHSVC_UPSTREAM": f"127.0.0.1:{port}"}  # the compose network's `app` is this gunicorn
    server = start(app, port)
    proxy = subprocess.Popen([caddy, "run", "--config", str(caddyfile), "--adapter", "caddyfile"], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        root = home / "data" / "caddy" / "pki" / "authorities" / "local" / "root.crt"
        base = f"https://localhost:{https_port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                context = ssl.create_default_context(cafile=str(root))
                jar = http.cookiejar.CookieJar()
                opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect(),
                                                     urllib.request.HTTPSHandler(context=context))
                with opener.open(f"{base}/login", timeout=10) as answer:
                    headers, page = answer.headers, answer.read().decode()
                break
            except (OSError, ssl.SSLError):
                if proxy.poll() is not None or time.monotonic() > deadline:
                    proxy.kill()
                    raise AssertionError(proxy.communicate()[0]) from None
                time.sleep(0.3)
        assert headers["Strict-Transport-Security"] == "max-age=31536000"
        assert "Server" not in headers  # neither Caddy's nor gunicorn's
        assert headers["Content-Security-Policy"].startswith("default-src 'self'")
        assert headers["X-Frame-Options"] == "DENY"

        # The app believes Caddy's X-Forwarded-Proto: over HTTPS, Flask-WTF wants the Referer a browser sends.
        form = {"username": "alice", "password": MANAGER_PASSWORD, "csrf_token": csrf_token_of(page)}
        assert fetch(opener, f"{base}/login", form)[0] == 400

        # ... and its X-Forwarded-For: a client at 127.0.0.5 that claims another address is 127.0.0.5.
        connection = http.client.HTTPSConnection("localhost", https_port, context=context, timeout=30,
                                                 source_address=("127.0.0.5", 0))
        connection.request("GET", "/login")
        answer = connection.getresponse()
        cookie = "; ".join(value.split(";")[0] for name, value in answer.getheaders() if name == "Set-Cookie")
        token = csrf_token_of(answer.read().decode())
        connection.request("POST", "/login", urllib.parse.urlencode({
            "username": "alice", "password": "not the password at all", "csrf_token": token}),
            headers={"Cookie": cookie, "Referer": f"{base}/login", "X-Forwarded-For": "203.0.113.9",
                     "Content-Type": "application/x-www-form-urlencoded"})
        answer = connection.getresponse()
        assert answer.status == 200 and 'name="password"' in answer.read().decode()  # the form again
        connection.close()

        request = urllib.request.Request(f"{base}/login", headers={"X-Forwarded-For": "203.0.113.9",
                                                                   "Referer": f"{base}/login"},
                                         data=urllib.parse.urlencode({
                                             "username": "alice", "password": MANAGER_PASSWORD,
                                             "csrf_token": csrf_token_of(page)}).encode())
        status, _ = fetch(opener, request)
        assert status == 302
        cookies = {c.name: c for c in jar}
        assert cookies and all(c.secure for c in cookies.values())
        status, page = fetch(opener, f"{base}/")
        assert status == 200 and "alice" in page

        plain = fetch(browser(http.cookiejar.CookieJar()), f"http://localhost:{http_port}/login")
        assert plain[0] in (301, 308)
    finally:
        proxy.terminate()
        proxy.communicate(timeout=30)
        stop(server)
    accounts = Accounts(app.volume / "graphsvc-accounts.sqlite3")
    assert accounts.entries(action="login_failed")[0]["address"] == "127.0.0.5"
    assert accounts.entries(action="login")[0]["address"] == "127.0.0.1"
