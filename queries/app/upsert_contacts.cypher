// Add or update contacts between a member and a referrer (lunch, talk, ...).
// $rows: [{id, date, referrer_id, member_id, kind}]
UNWIND $rows AS row
MATCH (r:Referrer {id: row.referrer_id})
MATCH (m:Member {id: row.member_id})
MERGE (k:Contact {id: row.id})
SET k.date = row.date, k.kind = row.kind
WITH k, r, m
CALL (k) {
  MATCH (k)-[e:MADE|WITH]-()
  DELETE e
}
CREATE (m)-[:MADE]->(k), (k)-[:WITH]->(r)
