// Delete introductions and contacts: the merged record's copies of events the kept record holds already
// (the same meeting recorded under both records of one referrer is one meeting). A copy's COVERS (an
// update_sent contact's referrals) go to the event kept, so the loops it closed stay closed.
// $rows: [{id, kept}]
UNWIND $rows AS row
MATCH (x {id: row.id})
WHERE x:Introduction OR x:Contact
OPTIONAL MATCH (y {id: row.kept})
WHERE y:Introduction OR y:Contact
CALL (x, y) {
  MATCH (x)-[:COVERS]->(referral)
  WITH y, referral WHERE y IS NOT NULL
  MERGE (y)-[:COVERS]->(referral)
}
DETACH DELETE x
