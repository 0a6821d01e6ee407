// Projection: every referrer with its point-person tenures, oldest first.
// Dates as ISO text: Python parses each distinct day once, where the driver
// would build a Date object per value.
MATCH (r:Referrer)
RETURN r.id AS id, r.name AS name, r.kind AS kind, r.organization AS organization, toString(r.since) AS since,
       COLLECT { MATCH (r)-[t:POINT_PERSON]->(c:Clinician) WHERE t.since IS NOT NULL
                 RETURN [toString(t.since), toString(t.until), c.id] ORDER BY t.since } AS tenures,
       r.npi AS npi
