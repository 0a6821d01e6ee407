// Take referrer $id's write lock until the transaction ends, changing nothing.
// hand_over runs it before reading the current tenure, so two handoffs of one
// referrer take turns and the second sees the first's tenure.
MATCH (r:Referrer {id: $id})
SET r._lock = true
REMOVE r._lock
