// Take referral $id's write lock until the transaction ends, changing nothing.
// record_pass runs it before reading the referral's parties, so two passes of
// one referral take turns and the second sees the first's assignee.
MATCH (x:Referral {id: $id})
SET x._lock = true
REMOVE x._lock
