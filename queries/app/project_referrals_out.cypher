// Projection: every referral out, one row per referrer.
MATCH (r:Referrer)-[:SENT]->(o:ReferralOut)-[:TO]->(e:ExternalProvider)
RETURN r.id AS referrer, collect([o.id, toString(o.date), e.id, o.niche]) AS events
