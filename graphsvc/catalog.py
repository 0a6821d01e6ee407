"""The Cypher catalog: every statement lives in ``queries/<name>.cypher``.

Statements are read once and cached. Python code refers to them by name, so
analysts can read, copy and run exactly what graphsvc runs.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path

from .errors import GraphsvcError


def queries_dir() -> Path:
    configured = os.environ.get("GRAPHSVC_QUERIES_DIR")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parent.parent / "queries"


@lru_cache(maxsize=None)
def query(name: str) -> str:
    """The text of ``queries/<name>.cypher`` (comments kept, trailing ``;`` removed)."""
    path = queries_dir() / f"{name}.cypher"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise GraphsvcError(f"No Cypher statement named {name!r} (looked for {path})") from None
    return text.strip().rstrip(";").strip()


@lru_cache(maxsize=None)
def statements(name: str) -> tuple[str, ...]:
    """The statements of a file that holds several, each ending in ``;`` at a line end."""
    text = query(name) + ";"
    parts = re.split(r";[ \t]*(?:\n|$)", text)
    out = []
    for part in parts:
        code = "\n".join(l for l in part.splitlines() if not l.strip().startswith("//")).strip()
        if code:
            out.append(code)
    return tuple(out)


def names() -> list[str]:
    return sorted(p.stem for p in queries_dir().glob("*.cypher"))
