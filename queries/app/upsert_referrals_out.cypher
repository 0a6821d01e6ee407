// Add or update referrals out: a client the referrer sent, referred on to an
// outside provider for a niche the practice does not cover.
// $rows: [{id, date, referrer_id, client_id, provider_id, niche}]
UNWIND $rows AS row
MATCH (r:Referrer {id: row.referrer_id})
MATCH (c:Client {id: row.client_id})
MATCH (e:ExternalProvider {id: row.provider_id})
MERGE (o:ReferralOut {id: row.id})
SET o.date = row.date, o.niche = row.niche
WITH o, row, r, c, e
// A voided record (voided_on given) carries the label Voided: every read of the analysis leaves it out.
SET o.voided_on = row.voided_on, o.void_reason = row.void_reason
FOREACH (_ IN CASE WHEN row.voided_on IS NULL THEN [] ELSE [1] END | SET o:Voided)
FOREACH (_ IN CASE WHEN row.voided_on IS NULL THEN [1] ELSE [] END | REMOVE o:Voided)
WITH o, r, c, e
CALL (o) {
  MATCH (o)-[x:SENT|FOR|TO]-()
  DELETE x
}
CREATE (r)-[:SENT]->(o), (o)-[:FOR]->(c), (o)-[:TO]->(e)
