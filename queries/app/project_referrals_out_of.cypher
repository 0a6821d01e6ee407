// Projection: the referrals out of some referrers ($ids), one row per referrer.
// The same rows as project_referrals_out, for those referrers only.
MATCH (r:Referrer) WHERE r.id IN $ids
MATCH (r)-[:SENT]->(o:ReferralOut)-[:TO]->(e:ExternalProvider)
RETURN r.id AS referrer, collect([o.id, toString(o.date), e.id, o.niche]) AS events
