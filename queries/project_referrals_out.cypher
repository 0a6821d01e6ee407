// Projection: every referral out, and the providers.
MATCH (r:Referrer)-[:SENT]->(o:ReferralOut)-[:TO]->(e:ExternalProvider)
RETURN r.id AS referrer, o.id AS id, o.date AS date, e.id AS provider, o.niche AS niche
