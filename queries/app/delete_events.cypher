// Delete introductions and contacts $ids: the merged record's copies of events the kept record holds
// already (the same meeting recorded under both records of one referrer is one meeting).
UNWIND $ids AS id
MATCH (x {id: id})
WHERE x:Introduction OR x:Contact
DETACH DELETE x
