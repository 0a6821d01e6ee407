// Take referral $id's write lock until the transaction ends, changing nothing.
// A pass runs it before reading the referral (referral_record), so two passes
// of one referral take turns and the second sees the first's assignee.
MATCH (x:Referral {id: $id})
SET x._lock = true
REMOVE x._lock
