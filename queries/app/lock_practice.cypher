// Take the write lock on the Practice node until the transaction ends,
// changing nothing. Every write of the API bumps the Practice node's change
// counter in its own transaction, so while an export holds this lock no
// write can commit, and the export reads one state of the graph.
MATCH (p:Practice {id: $practice_id})
SET p._lock = true
REMOVE p._lock
