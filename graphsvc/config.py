"""Settings: defaults, then a settings file, then environment variables, then explicit overrides.

The settings file is TOML: ``$GRAPHSVC_CONFIG`` if set, otherwise
``graphsvc.toml`` in the working directory (if there is one). Every setting
has a place in it and an environment variable::

    [neo4j]                       # NEO4J_URI, NEO4J_USER, NEO4J_PASSWORD, NEO4J_DATABASE
    uri = "bolt://db.example:7687"  # absent: the local server graphsvc manages
    user = "neo4j"
    database = "neo4j"

    [local]                       # the local Neo4j graphsvc fetches, starts and stops
    bolt_port = 7687              # GRAPHSVC_BOLT_PORT
    data_dir = "~/.local/share/graphsvc/neo4j"   # GRAPHSVC_DATA_DIR
    cache_dir = "~/.cache/graphsvc"              # GRAPHSVC_CACHE_DIR
    neo4j_version = "5.26.30"     # GRAPHSVC_NEO4J_VERSION
    heap = "1g"                   # GRAPHSVC_NEO4J_HEAP
    pagecache = "512m"            # GRAPHSVC_NEO4J_PAGECACHE
    browser = true                # GRAPHSVC_BROWSER: Neo4j Browser at http://127.0.0.1:<http_port>/browser/
    http_port = 7474              # GRAPHSVC_HTTP_PORT: the HTTP connector, on only with the browser

    [import]                      # every batched write: import and analysis write-back
    batch_size = 5000             # GRAPHSVC_BATCH_SIZE
    workers = 3                   # GRAPHSVC_IMPORT_WORKERS

    [analysis]                    # defaults of every command that analyses, the web and the API
    window = 5                    # GRAPHSVC_ANALYSIS_WINDOW
    stall_days = 180              # GRAPHSVC_ANALYSIS_STALL_DAYS
    lapse_days = 180              # GRAPHSVC_ANALYSIS_LAPSE_DAYS
    as_of = 2024-12-31            # GRAPHSVC_ANALYSIS_AS_OF; "today" (the default) or a date
    snapshot_dir = "~/.local/state/graphsvc/snapshots"  # GRAPHSVC_SNAPSHOT_DIR: warm starts (graphsvc.live)
    follow_up_days = 14           # GRAPHSVC_FOLLOW_UP_DAYS: the follow-up worklist's days to close the loop
    unseen_days = 21              # GRAPHSVC_UNSEEN_DAYS: days after a referral with no first visit: the unseen list

    [web]
    page_size = 50                # GRAPHSVC_WEB_PAGE_SIZE
    today_items = 15              # GRAPHSVC_TODAY_ITEMS: how many things /today and /api/today list
    poll_seconds = 1              # GRAPHSVC_WEB_POLL_SECONDS: how often a web worker reads the change feed
    accounts_db = "~/.local/share/graphsvc/neo4j/graphsvc-accounts.sqlite3"  # GRAPHSVC_ACCOUNTS_DB; in data_dir
    secret_key = "..."            # GRAPHSVC_SECRET_KEY; default: generated into data_dir (graphsvc-secret-key)
    cookie_secure = false         # GRAPHSVC_COOKIE_SECURE: the session cookie Secure always (it is over HTTPS anyway)
    trusted_proxies = 0           # GRAPHSVC_TRUSTED_PROXIES: proxies in front that set X-Forwarded-For/-Proto
    ratelimit_storage = "memory://"  # GRAPHSVC_RATELIMIT_STORAGE: checked, no longer used (logins: accounts_db)
    session_idle_minutes = 30     # GRAPHSVC_SESSION_IDLE_MINUTES: a web session ends after this long without a request
    session_max_hours = 12        # GRAPHSVC_SESSION_MAX_HOURS: and this long after signing in, whatever
    initial_manager = "alice"     # GRAPHSVC_INITIAL_MANAGER: `graphsvc serve` makes this manager when no account exists
    initial_manager_password_file = "/run/secrets/initial_manager_password"  # GRAPHSVC_INITIAL_MANAGER_PASSWORD_FILE

    [practice]
    npi = "1234567893"            # GRAPHSVC_PRACTICE_NPI: the practice's own (organization) NPI, for FHIR

    [fhir]                        # graphsvc import/export --format fhir (graphsvc.fhir)
    client_id_key = "..."         # GRAPHSVC_CLIENT_ID_KEY; default: generated into data_dir (graphsvc-client-id-key)
    role_kinds = "kinds.csv"      # GRAPHSVC_FHIR_ROLE_KINDS: system,code,kind rows over the built-in role table
    reason_needs = "needs.csv"    # GRAPHSVC_FHIR_REASON_NEEDS: system,code,need rows over the built-in reason table

    [console]                     # the analysts' queries: the web's /console and `graphsvc query`
    timeout = 10                  # GRAPHSVC_CONSOLE_TIMEOUT: seconds; the query is stopped after them
    max_rows = 5000               # GRAPHSVC_CONSOLE_MAX_ROWS: the answer is cut after this many rows
    max_bytes = 5000000           # GRAPHSVC_CONSOLE_MAX_BYTES: ... or before it passes this many bytes (as JSON)

    [log]
    file = "~/.local/state/graphsvc/graphsvc.log"   # GRAPHSVC_LOG_FILE
    level = "INFO"                # GRAPHSVC_LOG_LEVEL
    echo = false                  # GRAPHSVC_LOG_ECHO: also print the log on stderr (`graphsvc -v`)

Relative paths in the file are relative to the file's folder. A key the
file does not know, or a value of the wrong type, is an error naming the
file and the key. ``graphsvc config show`` prints the effective settings and
where each came from.

Two ways to reach Neo4j:

* ``uri`` (``NEO4J_URI``) is set: graphsvc uses that server and never starts one.
* it is unset: graphsvc manages a local Neo4j Community server
  (``graphsvc db start``) bound to 127.0.0.1 on ``bolt_port``, its data and its
  generated password (``graphsvc-password``, mode 0600) in ``data_dir``.
  With ``browser`` (the default) it also serves Neo4j Browser over HTTP on
  127.0.0.1:``http_port``; without it, it has no HTTP connector at all (the
  test suite's servers and the benchmarks' turn it off).

Accounts, API tokens and the audit log (``graphsvc.accounts``) are a SQLite
file outside the graph: ``accounts_db``, by default
``<data_dir>/graphsvc-accounts.sqlite3`` (it follows ``data_dir`` unless set).
The key that signs web sessions is ``secret_key`` if set, otherwise generated
once into ``<data_dir>/graphsvc-secret-key`` (mode 0600); never a constant.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from .errors import GraphsvcError

NEO4J_VERSION = "5.26.30"
CONFIG_ENV = "GRAPHSVC_CONFIG"
CONFIG_NAME = "graphsvc.toml"
ACCOUNTS_DB_NAME = "graphsvc-accounts.sqlite3"  # in data_dir unless accounts_db says otherwise
SECRET_KEY_NAME = "graphsvc-secret-key"  # in data_dir, unless secret_key is set
CLIENT_ID_KEY_NAME = "graphsvc-client-id-key"  # in data_dir, unless fhir.client_id_key is set
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def _xdg(environ: Mapping[str, str], var: str, *fallback: str) -> Path:
    base = environ.get(var) or Path.home().joinpath(*fallback)
    return Path(base)


def _default_cache_dir(environ: Mapping[str, str] = os.environ) -> Path:
    return _xdg(environ, "XDG_CACHE_HOME", ".cache") / "graphsvc"


def _default_data_dir(environ: Mapping[str, str] = os.environ) -> Path:
    return _xdg(environ, "XDG_DATA_HOME", ".local", "share") / "graphsvc" / "neo4j"


def _default_snapshot_dir(environ: Mapping[str, str] = os.environ) -> Path:
    return _xdg(environ, "XDG_STATE_HOME", ".local", "state") / "graphsvc" / "snapshots"




def _default_log_file(environ: Mapping[str, str] = os.environ) -> Path:
    return _xdg(environ, "XDG_STATE_HOME", ".local", "state") / "graphsvc" / "graphsvc.log"


@dataclass(frozen=True)
class AnalysisOptions:
    """The options every analysis runs with: the one shape, the one place each default is written.

    ``Settings.analysis`` holds the ones in force (``[analysis]`` in the
    settings file, ``GRAPHSVC_ANALYSIS_*``); the CLI's ``--window`` and the
    rest, the web and the API start from it.
    """

    window: int = 5  # recent referrals that decide stage 3
    stall_days: int = 180  # days in stage 1 that count as stalled
    lapse_days: int = 180  # days without a referral that count as lapsed
    as_of: date | None = None  # the day judged on; None: today
    follow_up_days: int = 14  # the follow-up worklist: days after a referral to close the loop
    unseen_days: int = 21  # the unseen worklist, and conversion: days after a referral to a first visit

    def day(self) -> date:
        return self.as_of or date.today()

    def stored(self) -> dict:
        """The properties a stored analysis keeps beside ``analysed_at`` (``as_of`` is the day judged on)."""
        return {"analysis_window": self.window, "analysis_stall_days": self.stall_days,
                "analysis_lapse_days": self.lapse_days, "analysis_as_of": self.day()}


# The defaults, for the analysis functions' own keyword defaults (each written once, above).
DEFAULT_ANALYSIS = AnalysisOptions()
ANALYSIS_PREFIX = "analysis."  # the Spec fields of AnalysisOptions: analysis.window, ...


@dataclass(frozen=True)
class Spec:
    """One setting: its ``Settings`` field, its place in the file, its environment variables."""

    field: str
    section: str
    key: str
    kind: str  # str, optional_str, int, path, date, level, bool
    env: tuple[str, ...]  # the first is its name; the others are older names still read
    minimum: int | None = None
    maximum: int | None = None
    secret: bool = False

    @property
    def name(self) -> str:
        return f"{self.section}.{self.key}"


SPECS: tuple[Spec, ...] = (
    Spec("neo4j_uri", "neo4j", "uri", "optional_str", ("NEO4J_URI",)),
    Spec("neo4j_user", "neo4j", "user", "str", ("NEO4J_USER",)),
    Spec("neo4j_password", "neo4j", "password", "optional_str", ("NEO4J_PASSWORD",), secret=True),
    Spec("neo4j_database", "neo4j", "database", "str", ("NEO4J_DATABASE",)),
    Spec("bolt_port", "local", "bolt_port", "int", ("GRAPHSVC_BOLT_PORT",), 1, 65535),
    Spec("data_dir", "local", "data_dir", "path", ("GRAPHSVC_DATA_DIR",)),
    Spec("cache_dir", "local", "cache_dir", "path", ("GRAPHSVC_CACHE_DIR",)),
    Spec("neo4j_version", "local", "neo4j_version", "str", ("GRAPHSVC_NEO4J_VERSION",)),
    Spec("heap_size", "local", "heap", "str", ("GRAPHSVC_NEO4J_HEAP",)),
    Spec("pagecache_size", "local", "pagecache", "str", ("GRAPHSVC_NEO4J_PAGECACHE",)),
    Spec("browser", "local", "browser", "bool", ("GRAPHSVC_BROWSER",)),
    Spec("http_port", "local", "http_port", "int", ("GRAPHSVC_HTTP_PORT",), 1, 65535),
    Spec("batch_size", "import", "batch_size", "int", ("GRAPHSVC_BATCH_SIZE",), 1, 1_000_000),
    Spec("import_workers", "import", "workers", "int", ("GRAPHSVC_IMPORT_WORKERS",), 1, 16),
    Spec("analysis.window", "analysis", "window", "int",
         ("GRAPHSVC_ANALYSIS_WINDOW", "GRAPHSVC_WEB_ANALYSIS_WINDOW"), 1, 1000),
    Spec("analysis.stall_days", "analysis", "stall_days", "int",
         ("GRAPHSVC_ANALYSIS_STALL_DAYS", "GRAPHSVC_WEB_ANALYSIS_STALL_DAYS"), 1),
    Spec("analysis.lapse_days", "analysis", "lapse_days", "int",
         ("GRAPHSVC_ANALYSIS_LAPSE_DAYS", "GRAPHSVC_WEB_ANALYSIS_LAPSE_DAYS"), 1),
    Spec("analysis.as_of", "analysis", "as_of", "date",
         ("GRAPHSVC_ANALYSIS_AS_OF", "GRAPHSVC_WEB_ANALYSIS_AS_OF")),
    Spec("analysis_snapshot_dir", "analysis", "snapshot_dir", "path", ("GRAPHSVC_SNAPSHOT_DIR",)),
    Spec("analysis.follow_up_days", "analysis", "follow_up_days", "int", ("GRAPHSVC_FOLLOW_UP_DAYS",), 1, 365),
    Spec("analysis.unseen_days", "analysis", "unseen_days", "int", ("GRAPHSVC_UNSEEN_DAYS",), 1, 365),
    Spec("web_page_size", "web", "page_size", "int", ("GRAPHSVC_WEB_PAGE_SIZE",), 1, 1000),
    Spec("web_today_items", "web", "today_items", "int", ("GRAPHSVC_TODAY_ITEMS",), 1, 200),
    Spec("web_poll_seconds", "web", "poll_seconds", "int", ("GRAPHSVC_WEB_POLL_SECONDS",), 0, 3600),
    Spec("accounts_db", "web", "accounts_db", "path", ("GRAPHSVC_ACCOUNTS_DB",)),
    Spec("web_secret_key", "web", "secret_key", "optional_str", ("GRAPHSVC_SECRET_KEY",), secret=True),
    Spec("web_cookie_secure", "web", "cookie_secure", "bool", ("GRAPHSVC_COOKIE_SECURE",)),
    Spec("web_trusted_proxies", "web", "trusted_proxies", "int", ("GRAPHSVC_TRUSTED_PROXIES",), 0, 10),
    Spec("web_ratelimit_storage", "web", "ratelimit_storage", "str", ("GRAPHSVC_RATELIMIT_STORAGE",)),
    Spec("web_session_idle_minutes", "web", "session_idle_minutes", "int", ("GRAPHSVC_SESSION_IDLE_MINUTES",),
         1, 24 * 60),
    Spec("web_session_max_hours", "web", "session_max_hours", "int", ("GRAPHSVC_SESSION_MAX_HOURS",), 1, 30 * 24),
    Spec("web_initial_manager", "web", "initial_manager", "optional_str", ("GRAPHSVC_INITIAL_MANAGER",)),
    Spec("web_initial_manager_password_file", "web", "initial_manager_password_file", "path",
         ("GRAPHSVC_INITIAL_MANAGER_PASSWORD_FILE",)),
    Spec("practice_npi", "practice", "npi", "optional_str", ("GRAPHSVC_PRACTICE_NPI",)),
    Spec("fhir_client_id_key", "fhir", "client_id_key", "optional_str", ("GRAPHSVC_CLIENT_ID_KEY",), secret=True),
    Spec("fhir_role_kinds", "fhir", "role_kinds", "optional_str", ("GRAPHSVC_FHIR_ROLE_KINDS",)),
    Spec("fhir_reason_needs", "fhir", "reason_needs", "optional_str", ("GRAPHSVC_FHIR_REASON_NEEDS",)),
    Spec("console_timeout", "console", "timeout", "int", ("GRAPHSVC_CONSOLE_TIMEOUT",), 1, 3600),
    Spec("console_max_rows", "console", "max_rows", "int", ("GRAPHSVC_CONSOLE_MAX_ROWS",), 1, 1_000_000),
    Spec("console_max_bytes", "console", "max_bytes", "int", ("GRAPHSVC_CONSOLE_MAX_BYTES",), 1_000, 1_000_000_000),
    Spec("log_file", "log", "file", "path", ("GRAPHSVC_LOG_FILE",)),
    Spec("log_level", "log", "level", "level", ("GRAPHSVC_LOG_LEVEL",)),
    Spec("log_echo", "log", "echo", "bool", ("GRAPHSVC_LOG_ECHO",)),
)
SPEC_BY_FIELD = {s.field: s for s in SPECS}
SECTIONS: dict[str, dict[str, Spec]] = {}
for _spec in SPECS:
    SECTIONS.setdefault(_spec.section, {})[_spec.key] = _spec


@dataclass(frozen=True)
class Settings:
    neo4j_uri: str | None = None
    neo4j_user: str = "neo4j"
    neo4j_password: str | None = None
    neo4j_database: str = "neo4j"
    bolt_port: int = 7687
    cache_dir: Path = field(default_factory=_default_cache_dir)
    data_dir: Path = field(default_factory=_default_data_dir)
    neo4j_version: str = NEO4J_VERSION
    heap_size: str = "1g"
    pagecache_size: str = "512m"
    # Neo4j Browser, served by the local server over HTTP on 127.0.0.1:http_port (graphsvc.localdb);
    # off: no HTTP connector.
    browser: bool = True
    http_port: int = 7474
    batch_size: int = 5_000
    import_workers: int = 3  # also the write-back's concurrent transactions
    # The analysis options of every command that analyses, the web and the API.
    analysis: AnalysisOptions = field(default_factory=AnalysisOptions)
    analysis_snapshot_dir: Path = field(default_factory=_default_snapshot_dir)
    web_page_size: int = 50
    web_today_items: int = 15  # the things /today lists for a person
    web_poll_seconds: int = 1  # 0: no poller thread; requests read the change feed themselves
    # Accounts, tokens and the audit log (graphsvc.accounts). Given as None (not
    # set), it is <data_dir>/graphsvc-accounts.sqlite3, filled in on construction
    # and kept following data_dir through ``with_``; so it is always a Path.
    accounts_db: Path | None = None
    web_secret_key: str | None = None  # None: generated into <data_dir>/graphsvc-secret-key
    # The web's door (graphsvc.web.auth): the session cookie Secure even over plain HTTP (it is
    # Secure over HTTPS anyway); how many proxies in front may be believed about the client's
    # address and scheme (0: none, so nobody can choose the address failed logins count against);
    # a Flask-Limiter storage URI, still checked at start but no longer used: failed logins are
    # counted in accounts_db, which every worker shares.
    web_cookie_secure: bool = False
    web_trusted_proxies: int = 0
    web_ratelimit_storage: str = "memory://"
    # A web session (a row in accounts_db) ends after this long without a request, and this long after
    # it began (graphsvc.web.auth).
    web_session_idle_minutes: int = 30
    web_session_max_hours: int = 12
    # The first manager, made by `graphsvc serve` when the accounts database holds no account
    # (graphsvc.accounts.initial_manager): its username, and the file its password is read from
    # (a Docker secret); never a password in a setting.
    web_initial_manager: str | None = None
    web_initial_manager_password_file: Path | None = None
    # The practice's own NPI (its Organization in FHIR: a ServiceRequest to it is a referral to the practice).
    practice_npi: str | None = None
    # The key of the pseudonymous client ids a FHIR import derives from patients (graphsvc.fhir.pseudonym);
    # None: generated once into <data_dir>/graphsvc-client-id-key. Tables (CSV files) over the built-in
    # role-code -> referrer-kind and reason-code -> need tables (graphsvc.fhir.mapping).
    fhir_client_id_key: str | None = None
    fhir_role_kinds: str | None = None
    fhir_reason_needs: str | None = None
    # The analysts' queries (graphsvc.store.readonly), in the web's console and `graphsvc query`: the
    # seconds before a query is stopped, and the rows and bytes (its answer as JSON) it is cut at.
    console_timeout: int = 10
    console_max_rows: int = 5_000
    console_max_bytes: int = 5_000_000
    log_file: Path = field(default_factory=_default_log_file)
    log_level: str = "INFO"
    log_echo: bool = False
    # Where the values came from: the settings file read (None: none), and per
    # field "default", "file <path>", "environment <VAR>" or "override".
    config_file: Path | None = field(default=None, compare=False)
    config_looked_for: Path | None = field(default=None, compare=False, repr=False)
    sources: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    # environment variable -> field name (every name, old ones included)
    ENV = {var: s.field for s in SPECS for var in s.env}

    def __post_init__(self):
        if self.accounts_db is None:
            object.__setattr__(self, "accounts_db", Path(self.data_dir) / ACCOUNTS_DB_NAME)

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None, *, config_file: str | Path | None = None,
             **overrides) -> Settings:
        """Defaults, then the settings file, then ``environ``, then ``overrides``.

        ``environ`` defaults to ``os.environ``; then (and only then) a
        ``graphsvc.toml`` in the working directory is read when
        ``$GRAPHSVC_CONFIG`` is unset. With an explicit ``environ`` only its
        ``GRAPHSVC_CONFIG`` or ``config_file`` names a file, so tests are not
        affected by a file a developer keeps in the checkout. Overrides
        that are ``None`` are ignored.
        """
        real = environ is None
        environ = os.environ if real else environ
        path, looked_for = locate_config(environ, config_file, cwd=Path.cwd() if real else None)
        values: dict[str, Any] = {
            "cache_dir": _default_cache_dir(environ),
            "data_dir": _default_data_dir(environ),
            "log_file": _default_log_file(environ),
            "analysis_snapshot_dir": _default_snapshot_dir(environ),
        }
        sources = {s.field: "default" for s in SPECS}
        if path is not None:
            for name, value in read_config_file(path).items():
                values[name] = value
                sources[name] = f"file {path}"
        for spec in SPECS:
            for var in spec.env:
                raw = environ.get(var)
                if raw in (None, ""):
                    continue
                values[spec.field] = _parse_text(spec, raw, var)
                sources[spec.field] = f"environment {var}"
                break
        analysis_overrides = overrides.pop("analysis", None) or {}
        if isinstance(analysis_overrides, AnalysisOptions):
            analysis_overrides = asdict(analysis_overrides)
        wanted = {**overrides, **{ANALYSIS_PREFIX + k: v for k, v in analysis_overrides.items()}}
        for name, value in wanted.items():
            spec = SPEC_BY_FIELD.get(name)
            if spec is None or name in ("config_file", "config_looked_for", "sources"):
                raise TypeError(f"Settings has no setting {name!r}")
            if value is None:
                continue
            values[name] = _typed(spec, value, f"override {name}")
            sources[name] = "override"
        analysis = {name.removeprefix(ANALYSIS_PREFIX): values.pop(name) for name in list(values)
                    if name.startswith(ANALYSIS_PREFIX)}
        return cls(**values, analysis=AnalysisOptions(**analysis), config_file=path, config_looked_for=looked_for,
                   sources=sources)

    def value(self, name: str):
        """The value of the setting whose ``Spec.field`` is ``name`` (``analysis.window`` included)."""
        if name.startswith(ANALYSIS_PREFIX):
            return getattr(self.analysis, name.removeprefix(ANALYSIS_PREFIX))
        return getattr(self, name)

    @property
    def manages_local_server(self) -> bool:
        return self.neo4j_uri is None

    @property
    def uri(self) -> str:
        return self.neo4j_uri or f"bolt://127.0.0.1:{self.bolt_port}"

    @property
    def password_file(self) -> Path:
        return self.data_dir / "graphsvc-password"

    @property
    def secret_key_file(self) -> Path:
        """Where the web's generated secret key lives (``graphsvc.accounts.secret_key``)."""
        return self.data_dir / SECRET_KEY_NAME

    @property
    def client_id_key_file(self) -> Path:
        """Where the generated key of pseudonymous client ids lives (``graphsvc.fhir.pseudonym``)."""
        return self.data_dir / CLIENT_ID_KEY_NAME

    def source(self, name: str) -> str:
        """Where the value of field ``name`` came from."""
        return self.sources.get(name, "default")

    def describe_file(self) -> str:
        """One sentence: which settings file was read, or where one was looked for."""
        if self.config_file is not None:
            return f"Settings file: {self.config_file}."
        if self.config_looked_for is not None:
            return (f"No settings file ({self.config_looked_for} does not exist; "
                    f"{CONFIG_ENV} is unset).")
        return f"No settings file ({CONFIG_ENV} is unset)."

    def with_(self, **changes) -> Settings:
        """These settings with some changed (each then from "override"); ``analysis`` takes a dict of
        option changes (``with_(analysis={"as_of": day})``) or a whole ``AnalysisOptions``."""
        sources = dict(self.sources)
        analysis = changes.pop("analysis", None)
        if analysis is not None:
            given = asdict(analysis) if isinstance(analysis, AnalysisOptions) else analysis
            typed = {k: _typed(SPEC_BY_FIELD[ANALYSIS_PREFIX + k], v, f"override analysis.{k}")
                     for k, v in given.items() if v is not None or k == "as_of"}
            changes["analysis"] = replace(self.analysis, **typed)
            sources.update({ANALYSIS_PREFIX + k: "override" for k in typed})
        sources.update({name: "override" for name in changes if name != "analysis"})
        if "data_dir" in changes and "accounts_db" not in changes and self.source("accounts_db") == "default":
            changes["accounts_db"] = None  # the default follows data_dir
        return replace(self, **changes, sources=sources)

    def explain(self) -> dict:
        """Every setting with its value (secrets hidden) and where it came from."""
        out = {}
        for spec in SPECS:
            value = self.value(spec.field)
            if spec.field == "web_secret_key":
                value = self._secret_key_display()
            elif spec.field == "fhir_client_id_key":
                value = self._client_id_key_display()
            elif spec.secret:
                value = self._password_display()
            elif spec.field == "neo4j_uri" and value is None:
                value = f"(unset: the local server at {self.uri})"
            elif spec.field == "analysis.as_of" and value is None:
                value = "today"
            elif isinstance(value, (Path, date)):
                value = str(value)
            out[spec.name] = {"value": value, "source": self.source(spec.field), "env": spec.env[0],
                              "field": spec.field}
        return out

    def _secret_key_display(self) -> str:
        return _generated_display(self.web_secret_key, self.secret_key_file, "the web view")

    def _client_id_key_display(self) -> str:
        return _generated_display(self.fhir_client_id_key, self.client_id_key_file, "the first FHIR import")

    def _password_display(self) -> str:
        if self.neo4j_password:
            return "(hidden)"
        if not self.manages_local_server:
            return "(not set)"
        if self.password_file.exists():
            return f"(generated, in {self.password_file})"
        return f"(not generated yet: `graphsvc db start` writes {self.password_file})"


def _generated_display(given: str | None, path: Path, writer: str) -> str:
    """How ``config show`` shows a key that a setting gives or graphsvc generates into ``path``: never itself."""
    if given:
        return "(hidden)"
    if path.exists():
        return f"(generated, in {path})"
    return f"(not generated yet: {writer} writes {path})"


# -- the settings file -------------------------------------------------------


def locate_config(environ: Mapping[str, str], config_file: str | Path | None = None,
                  cwd: Path | None = None) -> tuple[Path | None, Path | None]:
    """``(file to read or None, file looked for)``: explicit, then $GRAPHSVC_CONFIG, then ./graphsvc.toml."""
    named, how = None, None
    if config_file is not None:
        named, how = config_file, "the settings file"
    elif environ.get(CONFIG_ENV):
        named, how = environ[CONFIG_ENV], CONFIG_ENV
    if named is not None:
        path = _path(named)
        if not path.exists() or path.is_dir():  # /dev/null is fine: no settings
            raise GraphsvcError(f"{how} names {path}, which is not a file")
        return path, path
    if cwd is None:
        return None, None
    path = cwd / CONFIG_NAME
    return (path if path.is_file() else None), path


def read_config_file(path: Path) -> dict[str, Any]:
    """The settings a TOML file sets, by field name; ``GraphsvcError`` naming file and key if bad."""
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise GraphsvcError(f"{path}: not valid TOML: {e}") from None
    except OSError as e:
        raise GraphsvcError(f"Cannot read settings file {path}: {e.strerror}") from None
    values = {}
    for section, table in data.items():
        if section not in SECTIONS:
            raise GraphsvcError(f"{path}: unknown {_what(section, table)} {section!r} "
                                f"(sections: {', '.join('[' + s + ']' for s in SECTIONS)})")
        if not isinstance(table, dict):
            raise GraphsvcError(f"{path}: {section!r} must be a section [{section}], not a value")
        known = SECTIONS[section]
        for key, raw in table.items():
            spec = known.get(key)
            if spec is None:
                raise GraphsvcError(f"{path}: unknown key {key!r} in [{section}] "
                                    f"(known: {', '.join(known)})")
            values[spec.field] = _parse_toml(spec, raw, path)
    return values


def _what(section: str, table) -> str:
    return "section" if isinstance(table, dict) else "key"


def _parse_toml(spec: Spec, raw, path: Path):
    where = f"{path}: [{spec.section}] {spec.key}"
    kind = spec.kind
    if kind in ("str", "optional_str"):
        if not isinstance(raw, str):
            raise GraphsvcError(f"{where} must be a string, got {_shown(raw)}")
        return raw
    if kind == "int":
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise GraphsvcError(f"{where} must be a whole number, got {_shown(raw)}")
        return _in_range(spec, raw, where)
    if kind == "bool":
        if not isinstance(raw, bool):
            raise GraphsvcError(f"{where} must be true or false, got {_shown(raw)}")
        return raw
    if kind == "path":
        if not isinstance(raw, str) or not raw:
            raise GraphsvcError(f"{where} must be a path (a string), got {_shown(raw)}")
        p = Path(raw).expanduser()
        return p if p.is_absolute() else (path.parent / p).absolute()
    if kind == "date":
        if isinstance(raw, date) and not hasattr(raw, "hour"):
            return raw
        if isinstance(raw, str):
            return _parse_text(spec, raw, where)
        raise GraphsvcError(f"{where} must be a date (2024-12-31) or \"today\", got {_shown(raw)}")
    if kind == "level":
        if not isinstance(raw, str):
            raise GraphsvcError(f"{where} must be one of {', '.join(LOG_LEVELS)}, got {_shown(raw)}")
        return _parse_text(spec, raw, where)
    raise AssertionError(kind)  # pragma: no cover


def _shown(raw) -> str:
    kind = {str: "string", bool: "boolean", int: "number", float: "number", list: "list",
            dict: "table"}.get(type(raw), type(raw).__name__)
    return f"{kind} {raw!r}" if not isinstance(raw, (list, dict)) else kind


def _parse_text(spec: Spec, raw: str, where: str):
    """A value given as text (environment, override, or a string in the file)."""
    kind = spec.kind
    if kind in ("str", "optional_str"):
        return raw
    if kind == "int":
        try:
            value = int(raw.strip())
        except ValueError:
            raise GraphsvcError(f"{where} must be a whole number, got {raw!r}") from None
        return _in_range(spec, value, where)
    if kind == "path":
        return _path(raw)
    if kind == "date":
        if raw.strip().lower() == "today":
            return None
        try:
            return date.fromisoformat(raw.strip())
        except ValueError:
            raise GraphsvcError(f"{where} must be a date YYYY-MM-DD (or \"today\"), got {raw!r}") from None
    if kind == "level":
        level = raw.strip().upper()
        if level not in LOG_LEVELS:
            raise GraphsvcError(f"{where} must be one of {', '.join(LOG_LEVELS)}, got {raw!r}")
        return level
    if kind == "bool":
        word = raw.strip().lower()
        if word in ("1", "true", "yes", "on"):
            return True
        if word in ("0", "false", "no", "off"):
            return False
        raise GraphsvcError(f"{where} must be true or false, got {raw!r}")
    raise AssertionError(kind)  # pragma: no cover


def _typed(spec: Spec, value, where: str):
    """An override's value as its setting takes it: text parsed as the environment's would be."""
    if isinstance(value, str) and spec.kind not in ("str", "optional_str"):
        return _parse_text(spec, value, where)
    if spec.kind == "path":
        return _path(value)
    return value


def _in_range(spec: Spec, value: int, where: str) -> int:
    if spec.minimum is not None and value < spec.minimum:
        raise GraphsvcError(f"{where} must be at least {spec.minimum}, got {value}")
    if spec.maximum is not None and value > spec.maximum:
        raise GraphsvcError(f"{where} must be at most {spec.maximum}, got {value}")
    return value


def _path(value) -> Path:
    return Path(value).expanduser().absolute()
