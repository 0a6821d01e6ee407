// referrals_out.csv, in id order.
MATCH (r:Referrer)-[:SENT]->(o:ReferralOut)-[:FOR]->(c:Client), (o)-[:TO]->(e:ExternalProvider)
RETURN o.id AS id, o.date AS date, r.id AS referrer_id, c.id AS client_id,
       e.id AS provider_id, o.niche AS niche, o.voided_on AS voided_on, o.void_reason AS void_reason
ORDER BY id
