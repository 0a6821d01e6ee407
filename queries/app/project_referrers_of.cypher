// Projection of some referrers ($ids) with their point-person tenures, oldest
// first. The same rows as project_referrers, for those referrers only.
MATCH (r:Referrer) WHERE r.id IN $ids
OPTIONAL MATCH (r)-[t:POINT_PERSON]->(c:Clinician)
WITH r, t, c ORDER BY t.since
RETURN r.id AS id, r.name AS name, r.kind AS kind, r.organization AS organization, r.since AS since,
       [x IN collect([t.since, t.until, c.id]) WHERE x[0] IS NOT NULL] AS tenures
