// A bulk change (an import): bump the change counter like bump_version and
// record the version as `bulk_version`. Imports write in parallel batches that
// stamp nothing, so a live analysis holding an older version cannot catch up
// change by change: it rebuilds in full, in the background (graphsvc.live).
// Run before and after every import, so a half-done import counts too.
MERGE (p:Practice {id: $practice_id})
SET p._lock = true
REMOVE p._lock
WITH p
SET p.version = coalesce(p.version, 0) + 1, p.changed_at = datetime(),
    p.instance = coalesce(p.instance, randomUUID())
WITH p
SET p.bulk_version = p.version
RETURN p.version AS version
