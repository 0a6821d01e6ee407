// Take referrer $id's write lock until the transaction ends, changing nothing.
// A handoff runs it before reading the referrer's tenures (existing_ids), so two
// handoffs of one referrer take turns and the second sees the first's tenure.
MATCH (r:Referrer {id: $id})
SET r._lock = true
REMOVE r._lock
