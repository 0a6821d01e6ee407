// `graphsvc restore --force`: delete up to $batch nodes other than the Practice node, with their
// relationships, in one transaction; run again until it deletes none (graphsvc.store.restore.wipe_graph).
// Constraints, indexes and the Practice node stay.
MATCH (n) WHERE NOT n:Practice
WITH n LIMIT $batch
DETACH DELETE n
RETURN count(*) AS deleted
