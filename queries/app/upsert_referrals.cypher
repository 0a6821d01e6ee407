// Add or update referrals. A referral is an event node linking who sent it,
// which client, to whom it was addressed (a member, or the Practice node when
// addressed to the practice as a whole) and which clinician took the case.
// Its edges are rebuilt, so a corrected row replaces the old one.
// Its statuses (upsert_referral_statuses) are kept.
// $rows: [{id, date, referrer_id, client_id, addressed_member (id or null),
//          assigned_to, pass_reason, consent_to_update}]
MERGE (p:Practice {id: $practice_id})
WITH p
UNWIND $rows AS row
MATCH (r:Referrer {id: row.referrer_id})
MATCH (c:Client {id: row.client_id})
MATCH (cl:Clinician {id: row.assigned_to})
OPTIONAL MATCH (m:Member {id: row.addressed_member})
MERGE (x:Referral {id: row.id})
SET x.date = row.date, x.pass_reason = row.pass_reason, x.consent_to_update = row.consent_to_update
WITH x, row, r, c, cl, m, p
// A voided record (voided_on given) carries the label Voided: every read of the analysis leaves it out.
SET x.voided_on = row.voided_on, x.void_reason = row.void_reason
FOREACH (_ IN CASE WHEN row.voided_on IS NULL THEN [] ELSE [1] END | SET x:Voided)
FOREACH (_ IN CASE WHEN row.voided_on IS NULL THEN [1] ELSE [] END | REMOVE x:Voided)
WITH x, r, c, cl, coalesce(m, p) AS addressee
CALL (x) {
  MATCH (x)-[e:SENT|FOR|ADDRESSED_TO|ASSIGNED_TO]-()
  DELETE e
}
CREATE (r)-[:SENT]->(x), (x)-[:FOR]->(c), (x)-[:ADDRESSED_TO]->(addressee), (x)-[:ASSIGNED_TO]->(cl)
