// Projection: every referral as one flat row (the bulk of the projection).
MATCH (r:Referrer)-[:SENT]->(x:Referral)-[:ASSIGNED_TO]->(cl:Clinician),
      (x)-[:ADDRESSED_TO]->(a), (x)-[:FOR]->(c:Client)
RETURN r.id AS referrer, x.id AS id, x.date AS date,
       CASE WHEN a:Practice THEN 'practice' ELSE a.id END AS addressed_to,
       cl.id AS assigned_to, x.pass_reason AS pass_reason,
       c.needs AS needs, c.population AS population, c.insurance AS insurance, c.schedule AS schedule
