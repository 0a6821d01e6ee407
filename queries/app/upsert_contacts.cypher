// Add or update contacts between a member and a referrer (lunch, talk, ...).
// An update_sent contact COVERS the referrals whose status it told the referrer.
// $rows: [{id, date, referrer_id, member_id, kind, covers}]
UNWIND $rows AS row
MATCH (r:Referrer {id: row.referrer_id})
MATCH (m:Member {id: row.member_id})
MERGE (k:Contact {id: row.id})
SET k.date = row.date, k.kind = row.kind
WITH k, row, r, m
// A voided record (voided_on given) carries the label Voided: every read of the analysis leaves it out.
SET k.voided_on = row.voided_on, k.void_reason = row.void_reason
FOREACH (_ IN CASE WHEN row.voided_on IS NULL THEN [] ELSE [1] END | SET k:Voided)
FOREACH (_ IN CASE WHEN row.voided_on IS NULL THEN [1] ELSE [] END | REMOVE k:Voided)
WITH k, r, m, row
CALL (k) {
  MATCH (k)-[e:MADE|WITH|COVERS]-()
  DELETE e
}
CREATE (m)-[:MADE]->(k), (k)-[:WITH]->(r)
WITH k, row
CALL (k, row) {
  UNWIND coalesce(row.covers, []) AS referral_id
  MATCH (x:Referral {id: referral_id})
  CREATE (k)-[:COVERS]->(x)
}
