"""Settings: defaults, then environment variables, then explicit overrides.

Two ways to reach Neo4j:

* ``NEO4J_URI`` is set: graphsvc uses that server and never starts one.
* ``NEO4J_URI`` is unset: graphsvc manages a local Neo4j Community server
  (``graphsvc db start``) bound to 127.0.0.1 on ``GRAPHSVC_BOLT_PORT``.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, fields, replace
from datetime import date
from pathlib import Path

NEO4J_VERSION = "5.26.30"


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "graphsvc"


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "graphsvc" / "neo4j"


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
    batch_size: int = 5_000
    import_workers: int = 3
    # Analysis options: the defaults of every command that analyses, the web and the API.
    analysis_window: int = 5
    analysis_stall_days: int = 180
    analysis_lapse_days: int = 180
    analysis_as_of: date | None = None  # None: today
    web_page_size: int = 50

    # environment variable -> field name
    ENV = {
        "NEO4J_URI": "neo4j_uri",
        "NEO4J_USER": "neo4j_user",
        "NEO4J_PASSWORD": "neo4j_password",
        "NEO4J_DATABASE": "neo4j_database",
        "GRAPHSVC_BOLT_PORT": "bolt_port",
        "GRAPHSVC_CACHE_DIR": "cache_dir",
        "GRAPHSVC_DATA_DIR": "data_dir",
        "GRAPHSVC_NEO4J_VERSION": "neo4j_version",
        "GRAPHSVC_NEO4J_HEAP": "heap_size",
        "GRAPHSVC_NEO4J_PAGECACHE": "pagecache_size",
        "GRAPHSVC_BATCH_SIZE": "batch_size",
        "GRAPHSVC_IMPORT_WORKERS": "import_workers",
        "GRAPHSVC_ANALYSIS_WINDOW": "analysis_window",
        "GRAPHSVC_ANALYSIS_STALL_DAYS": "analysis_stall_days",
        "GRAPHSVC_ANALYSIS_LAPSE_DAYS": "analysis_lapse_days",
        "GRAPHSVC_ANALYSIS_AS_OF": "analysis_as_of",
        "GRAPHSVC_WEB_PAGE_SIZE": "web_page_size",
    }

    @classmethod
    def load(cls, environ=None, **overrides) -> "Settings":
        """Defaults, overlaid by ``environ`` (default ``os.environ``), then ``overrides``."""
        environ = os.environ if environ is None else environ
        kinds = {f.name: f.type for f in fields(cls)}
        values = {}
        for var, name in cls.ENV.items():
            raw = environ.get(var)
            if raw in (None, ""):
                continue
            values[name] = _convert(var, raw, kinds[name])
        values.update({k: v for k, v in overrides.items() if v is not None})
        for name in ("cache_dir", "data_dir"):
            if name in values:
                values[name] = Path(values[name]).expanduser()
        return cls(**values)

    @property
    def manages_local_server(self) -> bool:
        return self.neo4j_uri is None

    @property
    def uri(self) -> str:
        return self.neo4j_uri or f"bolt://127.0.0.1:{self.bolt_port}"

    @property
    def password_file(self) -> Path:
        return self.data_dir / "graphsvc-password"

    def resolved_password(self, create: bool = False) -> str:
        """The Neo4j password: configured, or the local server's generated one.

        The local server's password is generated once, stored mode 0600 beside
        its data and never committed anywhere.
        """
        if self.neo4j_password:
            return self.neo4j_password
        if self.manages_local_server:
            if self.password_file.exists():
                return self.password_file.read_text().strip()
            if create:
                self.data_dir.mkdir(parents=True, exist_ok=True)
                password = secrets.token_urlsafe(18)
                self.password_file.touch(mode=0o600)
                self.password_file.write_text(password + "\n")
                return password
        from .errors import GraphsvcError

        raise GraphsvcError(
            f"No Neo4j password for {self.uri}: set NEO4J_PASSWORD"
            + (" or run `graphsvc db start` once" if self.manages_local_server else "")
        )

    def with_(self, **changes) -> "Settings":
        return replace(self, **changes)


def _convert(var: str, raw: str, kind) -> object:
    if kind in ("date | None",):
        try:
            return date.fromisoformat(raw)
        except ValueError:
            from .errors import GraphsvcError

            raise GraphsvcError(f"{var} must be a date YYYY-MM-DD, got {raw!r}") from None
    if kind in (int, "int"):
        try:
            return int(raw)
        except ValueError:
            from .errors import GraphsvcError

            raise GraphsvcError(f"{var} must be a whole number, got {raw!r}") from None
    return raw
