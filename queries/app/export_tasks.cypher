// tasks.csv, in id order.
MATCH (t:Task)-[:ABOUT]->(r:Referrer)
OPTIONAL MATCH (m:Member)-[:HOLDS]->(t)
RETURN t.id AS id, t.worklist AS worklist, r.id AS referrer_id, t.referral_id AS referral_id,
       t.status AS status, m.id AS assigned_to, t.snoozed_until AS snoozed_until, t.note AS note,
       t.done_on AS done_on
ORDER BY id
