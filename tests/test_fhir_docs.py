"""docs/fhir.md's mapping tables are graphsvc.fhir.mapping's: every row the code maps is in the docs, and no
row of the docs is one the code does not map. No Neo4j here."""

from __future__ import annotations

import re
from pathlib import Path

from graphsvc.fhir import mapping

DOC = (Path(__file__).resolve().parents[1] / "docs" / "fhir.md").read_text(encoding="utf-8")


def table_rows(heading: str) -> set[tuple[str, ...]]:
    """The rows of the first table under ``## heading`` as tuples of their cells (backticks taken off)."""
    section = DOC.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = set()
    for line in section.splitlines():
        if line.startswith("| ") and not line.startswith("| ---"):
            rows.add(tuple(cell.strip().strip("`") for cell in line.strip("|").split("|")))
    return rows


def test_the_role_table_in_the_docs_is_the_code_s():
    rows = table_rows("Role codes to referrer kinds") - {("system", "code", "referrer kind")}
    assert rows == {(s, c, k) for (s, c), k in mapping.ROLE_KINDS.items()}


def test_the_reason_table_in_the_docs_is_the_code_s():
    rows = {r for r in table_rows("Reason codes to needs") if r[0] != "system"}
    assert rows == {(s, c, k) for (s, c), k in mapping.REASON_NEEDS.items()}


def test_the_task_status_table_in_the_docs_is_the_code_s():
    rows = {r for r in table_rows("Task status to closing-the-loop status") if r[0] != "Task.status"}
    want = {(s, k if k else "none (still `received`)".replace("`", "")) for s, k in mapping.TASK_STATUSES.items()}
    assert {(s, re.sub("`", "", k)) for s, k in rows} == want
