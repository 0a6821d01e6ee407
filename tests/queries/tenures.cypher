// Every point-person tenure, by referrer and start (for checks that each
// referrer has exactly one current tenure and that `until` chains).
MATCH (r:Referrer)
OPTIONAL MATCH (r)-[t:POINT_PERSON]->(c:Clinician)
RETURN r.id AS referrer_id, r.since AS referrer_since, t.since AS since, t.until AS until,
       c.id AS point_person_id
ORDER BY referrer_id, since
