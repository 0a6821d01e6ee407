"""The Cypher catalog: every statement graphsvc runs is a ``.cypher`` file.

``queries/app/<name>.cypher`` holds the service's own statements and
``queries/analyst/`` the analysts' library. Python code names a statement
literally where it runs it (``graph.read("project_members")``), so "who runs
``upsert_contacts``?" is one grep. Files are read once and cached.

Where the folder is found, first match wins:

1. ``GRAPHSVC_QUERIES_DIR`` (a folder holding ``app/``);
2. the ``queries/`` folder of a source checkout (beside the package);
3. the copy installed inside the package (``graphsvc/queries``), which is
   how a wheel and the Docker image carry it.
"""

from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path

from ..errors import GraphsvcError

_PACKAGE = Path(__file__).resolve().parent.parent


def queries_dir() -> Path:
    """The folder holding ``app/`` (and ``analyst/``)."""
    configured = os.environ.get("GRAPHSVC_QUERIES_DIR")
    if configured:
        return Path(configured)
    checkout = _PACKAGE.parent / "queries"
    if (checkout / "app").is_dir():
        return checkout
    return _PACKAGE / "queries"


class Catalog:
    """The named statements of one folder of ``.cypher`` files."""

    def __init__(self, folder: Path | None = None, part: str = "app"):
        self._folder = folder
        self.part = part

    @property
    def folder(self) -> Path:
        return self._folder or queries_dir() / self.part

    def query(self, name: str) -> str:
        """The text of ``<name>.cypher`` (comments kept, trailing ``;`` removed)."""
        return _read(self.folder / f"{name}.cypher", name)

    def statements(self, name: str) -> tuple[str, ...]:
        """The statements of a file that holds several, each ending in ``;`` at a line end."""
        return _split(self.query(name))

    def names(self) -> list[str]:
        return sorted(p.stem for p in self.folder.glob("*.cypher"))


@cache
def _read(path: Path, name: str) -> str:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise GraphsvcError(f"No Cypher statement named {name!r} (looked for {path})") from None
    return text.strip().rstrip(";").strip()


@cache
def _split(text: str) -> tuple[str, ...]:
    out = []
    for part in re.split(r";[ \t]*(?:\n|$)", text + ";"):
        code = "\n".join(line for line in part.splitlines() if not line.strip().startswith("//")).strip()
        if code:
            out.append(code)
    return tuple(out)


APP = Catalog()
query = APP.query
statements = APP.statements
names = APP.names
