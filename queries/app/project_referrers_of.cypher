// Projection of some referrers ($ids) with their point-person tenures, oldest
// first. The same rows as project_referrers, for those referrers only.
MATCH (r:Referrer) WHERE r.id IN $ids
RETURN r.id AS id, r.name AS name, r.kind AS kind, r.organization AS organization, toString(r.since) AS since,
       COLLECT { MATCH (r)-[t:POINT_PERSON]->(c:Clinician) WHERE t.since IS NOT NULL
                 RETURN [toString(t.since), toString(t.until), c.id] ORDER BY t.since } AS tenures,
       r.npi AS npi
