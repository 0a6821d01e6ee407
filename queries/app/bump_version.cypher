// Count a change to the graph, so cached analysis knows to refresh, and return
// the new version: the write stamps what it changed with it (stamp_referrers). Run in
// the same transaction as every write, and around every import. The write API
// runs it FIRST in each transaction: its write lock on the Practice node is
// then the first lock every API write takes, so those writes take turns on it
// instead of deadlocking on locks taken in different orders (see
// graphsvc.store.writes).
// The lock is taken by a plain SET before the counter is read: with only
// `SET p.version = p.version + 1`, a transaction waiting here still deadlocked
// with the holder when that one then added a relationship to the Practice
// node (a referral addressed to the practice), measured on Neo4j 5.26.
MERGE (p:Practice {id: $practice_id})
SET p._lock = true
REMOVE p._lock
WITH p
SET p.version = coalesce(p.version, 0) + 1, p.changed_at = datetime(),
    p.instance = coalesce(p.instance, randomUUID())
RETURN p.version AS version
