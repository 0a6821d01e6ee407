// Add or update introductions: member `by_id` introduced member
// `introduced_id` to a referrer. $rows: [{id, date, referrer_id, introduced_id, by_id}]
UNWIND $rows AS row
MATCH (r:Referrer {id: row.referrer_id})
MATCH (m:Member {id: row.introduced_id})
MATCH (by:Member {id: row.by_id})
MERGE (i:Introduction {id: row.id})
SET i.date = row.date
WITH i, row, r, m, by
// A voided record (voided_on given) carries the label Voided: every read of the analysis leaves it out.
SET i.voided_on = row.voided_on, i.void_reason = row.void_reason
FOREACH (_ IN CASE WHEN row.voided_on IS NULL THEN [] ELSE [1] END | SET i:Voided)
FOREACH (_ IN CASE WHEN row.voided_on IS NULL THEN [1] ELSE [] END | REMOVE i:Voided)
WITH i, r, m, by
CALL (i) {
  MATCH (i)-[e:MADE|OF|TO]-()
  DELETE e
}
CREATE (by)-[:MADE]->(i), (i)-[:OF]->(m), (i)-[:TO]->(r)
