"""The audit log's hash chain: each entry's hash covers its fields and the hash of the entry before it.

Pure functions, no database: ``graphsvc.accounts`` stores ``prev_hash`` and
``hash`` with every entry (in the transaction that appends it) and hands the
rows back here to be checked.

An entry's hash is the SHA-256 (hex) of a canonical JSON text of its stored
fields (``id``, ``at``, ``username``, ``address``, ``action``, ``ids`` and
``detail``, the last two as the JSON text stored) and ``prev_hash``: the keys
sorted, no spaces, non-ASCII as itself, UTF-8. The first entry's
``prev_hash`` is ``GENESIS`` (64 zeros).

``verify`` walks the rows in id order and names the first entry that was
changed or removed:

* an entry whose stored hash is not the hash of its fields was **changed**
  (a field, its ``prev_hash``, or its hash);
* an entry whose fields match its hash but whose ``prev_hash`` is not the
  hash of the entry before it: entries between were **removed** when the ids
  skip (the first missing id is named), else the entry before it was
  **changed** and its hash recomputed;
* the chain's head, kept apart from the rows (``head``: the last entry's id
  and hash, and how many entries there are), names an entry later than the
  last one left: the last entries were **removed** (truncated);
* an ``anchor`` (an id and hash seen earlier, kept outside the database) that
  the chain no longer holds: the log was truncated or rewritten below it.

What the chain cannot show: someone able to write the file who recomputes
every hash after the entry they changed, and the head with them. The anchor
outside the database (and the head hash a backup's manifest keeps) catch
that only for the entries before them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

GENESIS = "0" * 64
FIELDS = ("id", "at", "username", "address", "action", "ids", "detail")


def entry_hash(entry: Mapping, prev_hash: str) -> str:
    """The hash of one entry (a mapping with ``FIELDS``) chained to ``prev_hash``."""
    return hashlib.sha256(canonical(entry, prev_hash).encode("utf-8")).hexdigest()


def canonical(entry: Mapping, prev_hash: str) -> str:
    """The text that is hashed: the entry's fields and ``prev_hash`` as canonical JSON."""
    fields = {name: entry[name] for name in FIELDS}
    fields["id"] = int(fields["id"])
    fields["prev_hash"] = prev_hash
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class Head:
    """The chain's end as recorded apart from the rows: how many entries, the last one's id and hash."""

    entries: int
    last_id: int
    hash: str
    at: str | None = None
    action: str | None = None


@dataclass
class Verdict:
    """What ``verify`` found: ``ok``, how many entries it checked, and the first problem if any."""

    ok: bool
    entries: int
    head: dict | None = None  # the last entry's id and hash (when intact: what to keep elsewhere)
    problem: dict | None = None  # kind (changed, removed, truncated, unchained), id, at, action, message
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"ok": self.ok, "entries": self.entries, "head": self.head, "problem": self.problem,
                "notes": list(self.notes)}


def _problem(kind: str, row: Mapping | None, message: str, *, entry_id: int | None = None) -> dict:
    return {"kind": kind, "id": entry_id if entry_id is not None else (row["id"] if row else None),
            "at": row["at"] if row else None, "action": row["action"] if row else None, "message": message}


def _named(row: Mapping) -> str:
    return f"entry {row['id']} ({row['at']}, {row['action']})"


def verify(rows: Iterable[Mapping], head: Head | None = None, anchor: Mapping | None = None) -> Verdict:
    """Check the chain of ``rows`` (in id order, each with ``FIELDS``, ``prev_hash`` and ``hash``).

    ``head``: the chain's end recorded apart from the rows (None: not checked);
    ``anchor``: ``{"id", "hash"}`` of an entry the log held earlier, kept outside it (None: not checked).
    """
    prev_hash, prev_row, count = GENESIS, None, 0
    anchored = int(anchor["id"]) if anchor is not None and anchor.get("id") else None
    anchored_hash = None  # the hash the log holds for the anchored entry
    for row in rows:
        count += 1
        if row["hash"] is None or row["prev_hash"] is None:
            return Verdict(False, count, problem=_problem(
                "unchained", row, f"{_named(row)} has no hash: it was added without the chain "
                                  "(by an older graphsvc, or by hand)"))
        try:
            matches = entry_hash(row, row["prev_hash"]) == row["hash"]
        except (TypeError, ValueError):  # a field of a type graphsvc never writes (a BLOB, a float id)
            return Verdict(False, count, problem=_problem(
                "changed", row, f"{_named(row)} was changed: a field holds a value of a type graphsvc never "
                                "writes"))
        if not matches:
            return Verdict(False, count, problem=_problem(
                "changed", row, f"{_named(row)} was changed: its hash does not match its fields"))
        if row["prev_hash"] != prev_hash:
            expected_id = (prev_row["id"] + 1) if prev_row is not None else 1
            if row["id"] > expected_id:
                missing = row["id"] - expected_id
                after = f" after {_named(prev_row)}" if prev_row is not None else " at the start of the log"
                return Verdict(False, count, problem=_problem(
                    "removed", None, f"entry {expected_id} was removed"
                                     f"{f' (and the {missing - 1} after it)' if missing > 1 else ''}{after}: "
                                     f"{_named(row)} names another entry before it", entry_id=expected_id))
            if prev_row is None:
                return Verdict(False, count, problem=_problem(
                    "changed", row, f"{_named(row)} was changed: the first entry must follow no other"))
            return Verdict(False, count, problem=_problem(
                "changed", prev_row, f"{_named(prev_row)} was changed and its hash recomputed: "
                                     f"{_named(row)} names another hash before it"))
        prev_hash, prev_row = row["hash"], row
        if row["id"] == anchored:
            anchored_hash = row["hash"]
    verdict = Verdict(True, count, head={"id": prev_row["id"], "hash": prev_hash} if prev_row else
                      {"id": 0, "hash": GENESIS})
    last_id = prev_row["id"] if prev_row is not None else 0
    if head is not None:
        if head.last_id > last_id or head.entries > count:
            what = f" ({head.at}, {head.action})" if head.at else ""
            gone = head.last_id - last_id
            verdict.ok = False
            verdict.problem = _problem(
                "removed", None,
                f"entry {last_id + 1} was removed"
                f"{f' (and the {gone - 1} after it, up to entry {head.last_id}{what})' if gone > 1 else what}: "
                f"the log ends at entry {last_id} but its head records {head.entries} "
                f"entr{'y' if head.entries == 1 else 'ies'} up to entry {head.last_id} (truncated)",
                entry_id=last_id + 1)
            verdict.problem["kind"] = "truncated"
            return verdict
        if (head.last_id, head.hash, head.entries) != (last_id, prev_hash, count):
            verdict.ok = False
            verdict.problem = _problem(
                "changed", prev_row, f"the log's head records entry {head.last_id} with another hash, or "
                                     f"{head.entries} entries where there are {count}: the log was rewritten")
            return verdict
    if anchored is not None:
        if anchored > last_id:
            verdict.ok = False
            verdict.problem = _problem(
                "truncated", None, f"entry {last_id + 1} was removed: the head kept outside the database "
                                   f"names entry {anchored}, and the log ends at entry {last_id} (truncated, "
                                   "or an older copy of the database put back)", entry_id=last_id + 1)
            return verdict
        if anchored_hash != anchor.get("hash"):
            verdict.ok = False
            verdict.problem = {"kind": "changed", "id": anchored, "at": None, "action": None,
                               "message": f"entry {anchored} is not the entry the head kept outside the "
                                          "database names: the log was rewritten up to there"}
            return verdict
    return verdict
