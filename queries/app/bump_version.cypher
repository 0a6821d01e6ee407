// Count a change to the graph, so cached analysis knows to refresh. Run in
// the same transaction as every write, and around every import.
MERGE (p:Practice {id: $practice_id})
SET p.version = coalesce(p.version, 0) + 1, p.changed_at = datetime()
