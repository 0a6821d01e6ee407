// Add or update worklist tasks: the work done on one worklist row each.
// (:Task)-[:ABOUT]->(:Referrer); (:Member)-[:HOLDS]->(:Task) when assigned.
// $rows: [{id, worklist, referrer_id, referral_id, status, assigned_to, snoozed_until, note, done_on}]
UNWIND $rows AS row
MATCH (r:Referrer {id: row.referrer_id})
MERGE (t:Task {id: row.id})
SET t.worklist = row.worklist, t.referral_id = row.referral_id, t.status = row.status,
    t.snoozed_until = row.snoozed_until, t.note = row.note, t.done_on = row.done_on
WITH t, r, row
CALL (t) {
  MATCH (t)-[e:ABOUT]->() DELETE e
}
CALL (t) {
  MATCH ()-[e:HOLDS]->(t) DELETE e
}
CREATE (t)-[:ABOUT]->(r)
WITH t, row
OPTIONAL MATCH (m:Member {id: row.assigned_to})
FOREACH (_ IN CASE WHEN m IS NULL THEN [] ELSE [1] END | CREATE (m)-[:HOLDS]->(t))
