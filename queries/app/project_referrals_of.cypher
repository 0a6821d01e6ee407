// Projection: the referrals of some referrers ($ids), one row per referrer.
// The same rows as project_referrals, for those referrers only.
MATCH (r:Referrer) WHERE r.id IN $ids
MATCH (r)-[:SENT]->(x:Referral)-[:ASSIGNED_TO]->(cl:Clinician),
      (x)-[:ADDRESSED_TO]->(a), (x)-[:FOR]->(c:Client)
RETURN r.id AS referrer,
       collect([x.id, toString(x.date), CASE WHEN a:Practice THEN 'practice' ELSE a.id END,
                cl.id, x.pass_reason, c.needs, c.population, c.insurance, c.schedule]) AS events
