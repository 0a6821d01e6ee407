// referrals.csv, in id order.
MATCH (r:Referrer)-[:SENT]->(x:Referral)-[:FOR]->(c:Client),
      (x)-[:ADDRESSED_TO]->(a), (x)-[:ASSIGNED_TO]->(cl:Clinician)
RETURN x.id AS id, x.date AS date, r.id AS referrer_id, c.id AS client_id,
       CASE WHEN a:Practice THEN 'practice' ELSE a.id END AS addressed_to,
       cl.id AS assigned_to, x.pass_reason AS pass_reason,
       coalesce(x.consent_to_update, 'unknown') AS consent_to_update,
       x.voided_on AS voided_on, x.void_reason AS void_reason
ORDER BY id
