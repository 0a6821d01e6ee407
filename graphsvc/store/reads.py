"""The reads of Neo4j itself outside the projection: one function per catalog statement.

The pages, the CLI and the live analysis never name a statement; they call
these, which run the statements of ``queries/app/`` by their literal names,
always with parameters, and return plain Python values. Most pages need
none: they are answered from the live analysis (``graphsvc.live``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..vocabulary import PRACTICE_ID
from .db import Graph
from .values import native_rows


@dataclass(frozen=True)
class Feed:
    """The change feed as ``changes_since`` answered it: the graph's version now, its last bulk change
    (an import), this database's instance id, and the referrers changed after the version asked about."""

    version: int
    bulk_version: int
    instance: str | None
    referrers: list[str]


# A version no write reaches: ``changes_since`` then lists no referrers (just the version, for a full build).
NO_REFERRERS = 2**62


def changes_since(db: Graph, version: int = NO_REFERRERS) -> Feed:
    """The graph's version now, its last bulk change, and the referrers changed after ``version``."""
    row = db.read("changes_since", practice_id=PRACTICE_ID, since=version)[0]
    return Feed(row["version"], row["bulk_version"], row["instance"], row["referrers"])


def client_attributes(db: Graph, client_id: str) -> dict[str, Any] | None:
    """A client's ``id``, ``needs``, ``population``, ``insurance`` and ``schedule``; None if unknown."""
    rows = db.read("client_attributes", id=client_id)
    return rows[0] if rows else None


def clients_of_referrer(db: Graph, referrer_id: str, limit: int = 200) -> list[dict[str, Any]]:
    """The clients referrer ``referrer_id`` sent, the most recently referred first (at most ``limit``):
    ``id``, ``needs``, ``population``, ``insurance`` and ``last`` (ISO day)."""
    return db.read("clients_of_referrer", id=referrer_id, limit=limit)


def voided_of_referrer(db: Graph, referrer_id: str) -> list[dict[str, Any]]:
    """The voided records of a referrer, newest first: ``kind``, ``id``, ``date``, ``who``, ``voided_on``,
    ``reason`` (``queries/app/voided_of_referrer.cypher``)."""
    return db.read("voided_of_referrer", id=referrer_id)


def referrer_of_referral(db: Graph, referral_id: str) -> str | None:
    """The id of the referrer that sent referral ``referral_id``; None if there is no such referral."""
    rows = db.read("referrer_of_referral", id=referral_id)
    return rows[0]["referrer_id"] if rows else None


def referrers_named(db: Graph, text: str) -> list[dict]:
    """Referrers a person may mean by ``text``: the one with that id, or those with that name (any case):
    ``{"id", "name", "organization"}`` by id."""
    return db.read("find_referrers", text=text)


def referrer_names(db: Graph) -> list[dict]:
    """Every referrer's ``{"id", "name", "organization"}`` (to suggest a close name)."""
    return db.read("referrer_names")


def held_by(db: Graph, ids: list[str]) -> list[dict]:
    """What the graph holds under each of ``ids`` that names something, a row each: ``id``, ``member``
    (``"clinician"``, ``"staff"`` or None), ``referrer``, ``client``, ``provider`` (booleans), a
    provider's ``niches``, and a referrer's ``since``, current point person and ``tenures``."""
    return existing(db.read("existing_ids", ids=ids))


def npi_holders(db: Graph, npis: list[str]) -> list[dict]:
    """Who holds each of ``npis`` that some party holds: ``{"npi", "id", "kind"}`` each (``npi_holders``)."""
    return db.read("npi_holders", npis=npis)


def merged_into(db: Graph, referrer_id: str) -> str | None:
    """The referrer that merged referrer ``referrer_id``'s record went into (its pages lead there), or None."""
    found = db.read("merged_into", id=referrer_id)
    return found[0]["into"] if found else None


def event_keys(db: Graph, referrer_ids: list[str]) -> list[dict]:
    """The stored introductions and contacts of these referrers, as ``graphsvc.checks`` compares them:
    ``{"referrer_id", "introductions": [[id, day, introduced, by]], "contacts": [[id, day, member, kind]]}``."""
    return db.read("event_keys", ids=referrer_ids)


def existing(rows: list[dict]) -> list[dict]:
    """Rows of ``existing_ids`` with plain values (a referrer's tenures' dates too)."""
    rows = native_rows(rows)
    for row in rows:
        row["tenures"] = native_rows(row["tenures"])
    return rows


def busiest_point_person(db: Graph) -> dict | None:
    """The clinician who is the current point person of the most referrers: ``{"id", "name",
    "referrers"}``; None when no referrer has one."""
    rows = db.read("busiest_point_person")
    return rows[0] if rows else None
