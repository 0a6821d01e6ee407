"""A local Neo4j Community server: fetch it from Maven Central, start, stop.

The Neo4j distribution tarball is not on Maven Central, but its jars are.
``pom.xml`` beside this file names the community server's two top modules;
``mvn dependency:copy-dependencies`` resolves them into the same set of jars
the official distribution ships in ``lib/``. We then run the distribution's
own main class, ``org.neo4j.server.CommunityEntryPoint``, with a generated
``neo4j.conf``. It is the real server (Bolt, Cypher, transactions, on-disk
store), only started without the shell-script bootloader.

Neo4j Browser is one more jar, ``org.neo4j.client:neo4j-browser`` (static
files under ``browser/``), which the distribution also ships in ``lib/``. With
``settings.browser`` the server's HTTP connector listens on
127.0.0.1:``http_port`` with only its browser module enabled, and its browser
module serves that jar at ``/browser/``; Browser itself then talks to the
database over Bolt (a WebSocket on ``bolt_port``), with the same user and
password. Without ``settings.browser`` there is no HTTP connector.

Layout::

    <cache_dir>/neo4j-<version>/lib/*.jar      downloaded once, shared (Neo4j Browser's jar too)
    <data_dir>/conf/neo4j.conf                 written at every start
    <data_dir>/data, logs/                     the database; survives restarts
    <data_dir>/graphsvc-neo4j.pid              the running server's pid
    <data_dir>/graphsvc-password               generated password (0600)

``data_dir`` is its owner's only (mode 0700): created so, and tightened at
every start if it was looser. The initial password never appears on a
command line (which every user can read in /proc/*/cmdline): Neo4j's admin
tool reads its arguments from a 0600 file in ``data_dir`` (``@file``, which
its picocli parser expands), deleted as soon as it has run.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ..config import Settings
from ..errors import GraphsvcError
from . import discovery
from .discovery import MAIN_CLASS, neo4j_processes

# org.neo4j.client:neo4j-browser on Maven Central (pom.xml has the same default), served at /browser/.
BROWSER_VERSION = "5.24.0"
BROWSER_ARTIFACT = f"org.neo4j.client:neo4j-browser:{BROWSER_VERSION}:jar"
AUTH_GRACE_SECONDS = 20
ADMIN_CLASS = "org.neo4j.cli.AdminTool"

# The JVM flags the official bootloader adds on Java 17, minus diagnostics.
JVM_FLAGS = [
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    "-XX:+DisableExplicitGC",
    "-Djdk.nio.maxCachedBufferSize=1024",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Dlog4j2.disable.jmx=true",
    "-Dfile.encoding=UTF-8",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--enable-native-access=ALL-UNNAMED",
]


@dataclass
class ServerStatus:
    running: bool
    pid: int | None
    uri: str
    version: str
    data_dir: str
    installed: bool
    browser_url: str | None = None  # where the running server serves Neo4j Browser; None: not served

    def as_dict(self) -> dict:
        return dict(self.__dict__)


class LocalServer:
    """The Neo4j server graphsvc manages for one ``Settings``."""

    def __init__(self, settings: Settings):
        if not settings.manages_local_server:
            raise GraphsvcError(
                f"NEO4J_URI is set ({settings.neo4j_uri}): graphsvc uses that server "
                "and does not start or stop one. Unset NEO4J_URI to manage a local server."
            )
        self.settings = settings
        self.home = settings.cache_dir / f"neo4j-{settings.neo4j_version}"
        self.lib = self.home / "lib"
        self.data_dir = settings.data_dir
        self.conf_dir = self.data_dir / "conf"
        self.logs_dir = self.data_dir / "logs"
        # Not in Neo4j's own run/ folder: the server manages a neo4j.pid there itself.
        self.pid_file = self.data_dir / "graphsvc-neo4j.pid"
        self.run_dir = self.data_dir / "run"

    # -- install -----------------------------------------------------------

    @property
    def installed(self) -> bool:
        return (self.home / ".complete").exists()

    @property
    def browser_jar(self) -> Path:
        return self.lib / f"neo4j-browser-{BROWSER_VERSION}.jar"

    def install(self, echo=print) -> None:
        """Resolve the server's jars from Maven Central into the cache, once.

        A cache installed before graphsvc fetched Neo4j Browser gets just the
        browser's jar added (when the browser is on), never re-resolved whole:
        other servers may be running from it.
        """
        if self.installed:
            if self.settings.browser and not self.browser_jar.exists():
                self._install_browser(echo)
            return
        mvn = _check_mvn()
        _check_java()
        echo(f"Fetching Neo4j Community {self.settings.neo4j_version} from Maven Central ...")
        self.home.mkdir(parents=True, exist_ok=True)
        # Resolve into a scratch folder and rename, so an interrupted download
        # never looks complete.
        with tempfile.TemporaryDirectory(dir=self.home) as scratch:
            pom = Path(scratch) / "pom.xml"
            pom.write_bytes(resources.files(__package__).joinpath("pom.xml").read_bytes())
            target = Path(scratch) / "lib"
            proc = subprocess.run(
                [
                    mvn, "-q", "-B", "-f", str(pom),
                    f"-Dneo4j.version={self.settings.neo4j_version}",
                    f"-Dneo4j.browser.version={BROWSER_VERSION}",
                    "dependency:copy-dependencies",
                    f"-DoutputDirectory={target}",
                    "-DincludeScope=runtime",
                ],
                capture_output=True,
                text=True,
            )
            if proc.returncode != 0 or not any(target.glob("neo4j-*.jar")):
                tail = (proc.stdout + proc.stderr).strip().splitlines()[-15:]
                raise GraphsvcError(
                    "Could not fetch Neo4j from Maven Central:\n" + "\n".join(tail)
                )
            if self.lib.exists():
                shutil.rmtree(self.lib)
            target.rename(self.lib)
        (self.home / ".complete").write_text(self.settings.neo4j_version + "\n")

    def _install_browser(self, echo=print) -> None:
        """Add Neo4j Browser's jar to an installed ``lib/`` (one file, moved in whole)."""
        mvn = _check_mvn()
        echo(f"Fetching Neo4j Browser {BROWSER_VERSION} from Maven Central ...")
        with tempfile.TemporaryDirectory(dir=self.home) as scratch:
            pom = Path(scratch) / "pom.xml"
            pom.write_bytes(resources.files(__package__).joinpath("pom.xml").read_bytes())
            proc = subprocess.run(
                [mvn, "-q", "-B", "-f", str(pom), "dependency:copy",
                 f"-Dartifact={BROWSER_ARTIFACT}", f"-DoutputDirectory={scratch}"],
                capture_output=True, text=True,
            )
            fetched = Path(scratch) / self.browser_jar.name
            if proc.returncode != 0 or not fetched.exists():
                tail = (proc.stdout + proc.stderr).strip().splitlines()[-15:]
                raise GraphsvcError(
                    "Could not fetch Neo4j Browser from Maven Central (set GRAPHSVC_BROWSER=false "
                    "to start Neo4j without it):\n" + "\n".join(tail)
                )
            os.replace(fetched, self.browser_jar)
        # One browser on the classpath: which of two copies of browser/ would be served is not defined.
        for other in self.lib.glob("neo4j-browser-*.jar"):
            if other != self.browser_jar:
                other.unlink(missing_ok=True)

    # -- lifecycle ---------------------------------------------------------

    def pid(self) -> int | None:
        """The pid of our running server, or None (a stale pid file is removed).

        Falls back to looking for a server started on this data folder, so a
        lost pid file never leaves a server nobody can stop.
        """
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            pid = None
        if pid is not None and _alive(pid) and _is_neo4j(pid):
            return pid
        self.pid_file.unlink(missing_ok=True)
        pid = _find_server(self.data_dir)
        if pid is not None:
            self.pid_file.write_text(f"{pid}\n")
        return pid

    def status(self) -> ServerStatus:
        pid = self.pid()
        running = pid is not None and _port_open(self.settings.bolt_port)
        return ServerStatus(
            running=running,
            pid=pid,
            uri=self.settings.uri,
            version=self.settings.neo4j_version,
            data_dir=str(self.data_dir),
            installed=self.installed,
            browser_url=self._served_browser_url() if running else None,
        )

    def browser_url(self, port: int | None = None) -> str:
        return f"http://127.0.0.1:{port or self.settings.http_port}/browser/"

    def _served_browser_url(self) -> str | None:
        """Neo4j Browser's address as the running server was configured (its neo4j.conf), if it serves it."""
        try:
            lines = (self.conf_dir / "neo4j.conf").read_text().splitlines()
        except OSError:
            return None
        conf = dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))
        if conf.get("server.http.enabled") != "true":
            return None
        try:
            port = int(conf.get("server.http.listen_address", "").rsplit(":", 1)[1])
        except (IndexError, ValueError):
            return None
        return self.browser_url(port) if _port_open(port) else None

    def start(self, timeout: float = 120, echo=print) -> ServerStatus:
        """Start the server (installing it first if needed) and wait for Bolt."""
        if self.pid() is not None:
            self._wait_for_bolt(self.pid(), timeout)
            return self.status()
        if _port_open(self.settings.bolt_port):
            raise GraphsvcError(
                f"Port {self.settings.bolt_port} on 127.0.0.1 is already in use by another "
                "process; set GRAPHSVC_BOLT_PORT to a free port"
            )
        if self.settings.browser:
            if self.settings.http_port == self.settings.bolt_port:
                raise GraphsvcError(
                    f"GRAPHSVC_HTTP_PORT and GRAPHSVC_BOLT_PORT are both {self.settings.bolt_port}; "
                    "Neo4j Browser's HTTP port must be another one"
                )
            if _port_open(self.settings.http_port):
                raise GraphsvcError(
                    f"Port {self.settings.http_port} on 127.0.0.1 (Neo4j Browser) is already in use by "
                    "another process; set GRAPHSVC_HTTP_PORT to a free port, or GRAPHSVC_BROWSER=false "
                    "to start Neo4j without Browser"
                )
        self.install(echo=echo)
        java = _check_java()
        self._private_data_dir()
        for d in (self.conf_dir, self.logs_dir, self.run_dir):
            d.mkdir(parents=True, exist_ok=True)
        self._write_conf()
        first_start = not (self.data_dir / "data" / "dbms").exists()
        password = discovery.password(self.settings, create=True)
        if first_start:
            # "--": a password may begin with "-" (token_urlsafe can), which picocli would read as an option.
            self._admin(java, "dbms", "set-initial-password", "--", password, secret=True)
        heap = self.settings.heap_size
        console = open(self.logs_dir / "console.log", "ab")
        proc = subprocess.Popen(
            [
                java, f"-Xms{heap}", f"-Xmx{heap}", *JVM_FLAGS,
                "-cp", str(self.lib / "*"), MAIN_CLASS,
                f"--home-dir={self.data_dir}", f"--config-dir={self.conf_dir}",
            ],
            stdin=subprocess.DEVNULL,
            stdout=console,
            stderr=subprocess.STDOUT,
            env=self._env(),
            start_new_session=True,  # survives the CLI that started it
        )
        console.close()
        self.pid_file.write_text(f"{proc.pid}\n")
        echo(f"Starting Neo4j {self.settings.neo4j_version} on {self.settings.uri} (pid {proc.pid}) ...")
        self._wait_for_bolt(proc.pid, timeout, proc)
        if self.settings.browser:
            self._wait_for_http(proc, timeout)
        return self.status()

    def stop(self, timeout: float = 60) -> bool:
        """Stop the server; True if one was running."""
        pid = self.pid()
        if pid is None:
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
        _reap(pid)
        self.pid_file.unlink(missing_ok=True)
        return True

    # -- internals ---------------------------------------------------------

    def _env(self) -> dict:
        env = dict(os.environ)
        env["NEO4J_HOME"] = str(self.data_dir)
        env["NEO4J_CONF"] = str(self.conf_dir)
        return env

    def _write_conf(self) -> None:
        s = self.settings
        conf = f"""\
# Written by graphsvc at every `graphsvc db start`; edits here are overwritten.
server.default_listen_address=127.0.0.1
server.default_advertised_address=127.0.0.1
server.bolt.enabled=true
server.bolt.listen_address=127.0.0.1:{s.bolt_port}
server.bolt.advertised_address=127.0.0.1:{s.bolt_port}
server.bolt.tls_level=DISABLED
{self._http_conf()}server.https.enabled=false
dbms.security.auth_enabled=true
initial.dbms.default_database={s.neo4j_database}
server.memory.pagecache.size={s.pagecache_size}
db.tx_log.rotation.retention_policy=2 files
db.shutdown_transaction_end_timeout=2s
server.directories.data={self.data_dir / 'data'}
server.directories.logs={self.logs_dir}
server.directories.run={self.run_dir}
server.directories.plugins={self.data_dir / 'plugins'}
server.directories.import={self.data_dir / 'import'}
dbms.usage_report.enabled=false
"""
        (self.conf_dir / "neo4j.conf").write_text(conf)

    def _http_conf(self) -> str:
        """The HTTP connector's lines: Neo4j Browser only, on 127.0.0.1; or no connector at all."""
        if not self.settings.browser:
            return "server.http.enabled=false\n"
        port = self.settings.http_port
        # Only the browser module: no HTTP Cypher endpoints (transactional, Query API), no
        # unmanaged extensions. Browser runs its queries over Bolt, as the same user.
        # No usage data from Browser either (like dbms.usage_report.enabled=false).
        return (
            "server.http.enabled=true\n"
            f"server.http.listen_address=127.0.0.1:{port}\n"
            f"server.http.advertised_address=127.0.0.1:{port}\n"
            "server.http_enabled_modules=BROWSER\n"
            "client.allow_telemetry=false\n"
        )

    def _private_data_dir(self) -> None:
        """``data_dir``, created mode 0700 (its parents as usual), or tightened to 0700 if looser."""
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.data_dir.mkdir(mode=0o700)
        except FileExistsError:
            pass
        if self.data_dir.stat().st_mode & 0o777 != 0o700:  # looser, or cut by the umask
            os.chmod(self.data_dir, 0o700)

    def _admin(self, java: str, *args: str, secret: bool = False) -> None:
        """Run Neo4j's admin tool; with ``secret``, its arguments go through a 0600 ``@file``
        in ``data_dir`` (picocli expands it), never on the command line."""
        argfile = None
        command = list(args)
        if secret:
            fd, argfile = tempfile.mkstemp(prefix=".graphsvc-admin-", dir=self.data_dir)  # mode 0600
            with os.fdopen(fd, "w") as f:
                f.write("\n".join(_argfile_quote(a) for a in args) + "\n")
            command = [f"@{argfile}"]
        try:
            proc = subprocess.run(
                [java, "-cp", str(self.lib / "*"), ADMIN_CLASS, *command],
                capture_output=True, text=True, env=self._env(),
            )
        finally:
            if argfile is not None:
                os.unlink(argfile)
        if proc.returncode != 0:
            raise GraphsvcError(f"neo4j-admin {args[0]} {args[1]} failed:\n{proc.stdout}{proc.stderr}")

    def _wait_for_bolt(self, pid: int, timeout: float, proc=None) -> None:
        deadline = time.monotonic() + timeout
        refused_since = None  # Bolt can answer before auth is ready: allow a grace period
        while time.monotonic() < deadline:
            if proc is not None and proc.poll() is not None:
                self.pid_file.unlink(missing_ok=True)
                raise GraphsvcError(
                    f"Neo4j exited with code {proc.returncode} while starting; last log lines:\n"
                    + self._log_tail()
                )
            answer = self._bolt_answer() if _port_open(self.settings.bolt_port) else "closed"
            if answer == "ok":
                return
            if answer == "auth":
                refused_since = refused_since or time.monotonic()
                if time.monotonic() - refused_since > AUTH_GRACE_SECONDS:
                    raise GraphsvcError(
                        f"Neo4j at {self.settings.uri} rejected the password: its database in "
                        f"{self.data_dir} was created with another one (NEO4J_PASSWORD or "
                        f"{self.settings.password_file})"
                    )
            time.sleep(0.5)
        raise GraphsvcError(
            f"Neo4j did not answer on {self.settings.uri} within {timeout:.0f}s; "
            f"see {self.logs_dir / 'neo4j.log'}\n" + self._log_tail()
        )

    def _wait_for_http(self, proc, timeout: float) -> None:
        """Bolt answers: the HTTP connector is up too, or about to be (it starts before Bolt)."""
        deadline = time.monotonic() + min(timeout, 30)
        while not _port_open(self.settings.http_port):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise GraphsvcError(
                    f"Neo4j answers on {self.settings.uri} but not on HTTP port {self.settings.http_port} "
                    f"(Neo4j Browser); see {self.logs_dir / 'neo4j.log'}\n" + self._log_tail()
                )
            time.sleep(0.2)

    def _bolt_answer(self) -> str:
        """'ok', 'auth' (our password was refused) or 'down'."""
        from neo4j import GraphDatabase
        from neo4j.exceptions import AuthError, DriverError, Neo4jError

        auth = (self.settings.neo4j_user, discovery.password(self.settings))
        try:
            with GraphDatabase.driver(self.settings.uri, auth=auth) as driver:
                driver.verify_connectivity()
            return "ok"
        except AuthError:
            return "auth"
        except (Neo4jError, DriverError, OSError):
            return "down"

    def _log_tail(self, lines: int = 15) -> str:
        chunks = []
        for name in ("neo4j.log", "console.log"):
            path = self.logs_dir / name
            if path.exists():
                chunks += path.read_text(errors="replace").splitlines()[-lines:]
        return "\n".join(chunks)


def _argfile_quote(arg: str) -> str:
    r"""One argument as a line of a picocli ``@file``: in double quotes, ``\`` and ``"`` escaped.

    >>> print(_argfile_quote('pa ss"w\\rd'))
    "pa ss\"w\\rd"
    """
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _check_mvn() -> str:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise GraphsvcError("Maven (`mvn`) is needed to fetch Neo4j and is not on PATH")
    return mvn


def _check_java() -> str:
    java_home = os.environ.get("JAVA_HOME")
    java = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java")
    if not java or not Path(java).exists():
        raise GraphsvcError("Java 17 is needed to run Neo4j 5.26 and `java` is not on PATH")
    out = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    # e.g. 'openjdk version "17.0.15" 2025-04-15'
    try:
        major = int(out.split('"')[1].split(".")[0])
    except (IndexError, ValueError):
        major = 0
    if major < 17:
        raise GraphsvcError(f"Neo4j 5.26 needs Java 17 or newer; {java} reports: {out.strip()}")
    return java


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still "exists"; treat it as gone.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[-1].split()[0] != "Z"
    except OSError:
        return True


def _is_neo4j(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return MAIN_CLASS.encode() in f.read()
    except OSError:
        return True  # no /proc (macOS): trust the pid file


def _find_server(data_dir: Path) -> int | None:
    """A live Neo4j started with ``--home-dir=data_dir``, found through /proc."""
    marker = f"--home-dir={data_dir}".encode()
    return next((pid for pid, args in neo4j_processes() if marker in args and _alive(pid)), None)


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
