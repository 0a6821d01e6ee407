// One referrer's point-person tenures and referrals in date order (what the
// naive one-query-per-referrer analysis reads; handy for analysts too).
MATCH (r:Referrer {id: $id})
OPTIONAL MATCH (r)-[t:POINT_PERSON]->(c:Clinician)
WITH r, t, c ORDER BY t.since
WITH r, [x IN collect([t.since, t.until, c.id]) WHERE x[0] IS NOT NULL] AS tenures
OPTIONAL MATCH (r)-[:SENT]->(x:Referral)-[:ADDRESSED_TO]->(a), (x)-[:ASSIGNED_TO]->(cl:Clinician)
WITH r, tenures, x, a, cl ORDER BY x.date, x.id
RETURN r.since AS since, tenures,
       [row IN collect(CASE WHEN x IS NULL THEN null ELSE
         [x.id, x.date, CASE WHEN a:Practice THEN 'practice' ELSE a.id END,
          CASE WHEN a:Staff THEN 'staff' WHEN a:Practice THEN 'practice' ELSE 'clinician' END, cl.id] END)
        WHERE row IS NOT NULL] AS referrals
