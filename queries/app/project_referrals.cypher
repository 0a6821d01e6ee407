// Projection: every referral, one row per referrer (fewer, larger records
// decode much faster than a million small ones). Dates as ISO text.
MATCH (r:Referrer)-[:SENT]->(x:Referral)-[:ASSIGNED_TO]->(cl:Clinician),
      (x)-[:ADDRESSED_TO]->(a), (x)-[:FOR]->(c:Client)
RETURN r.id AS referrer,
       collect([x.id, toString(x.date), CASE WHEN a:Practice THEN 'practice' ELSE a.id END,
                cl.id, x.pass_reason, c.needs, c.population, c.insurance, c.schedule]) AS events
