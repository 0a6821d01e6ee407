"""Cutting a stream of rows into batches (imports, lookups, write-back)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator


def batched(items: Iterable, size: int) -> Iterator[list]:
    """Lists of up to ``size`` items, in order (``itertools.batched`` arrives in 3.12)."""
    if size < 1:
        raise ValueError("batch size must be at least 1")
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
