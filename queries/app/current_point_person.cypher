// A referrer's current point-person tenure (the one with no `until`).
MATCH (r:Referrer {id: $referrer_id})
OPTIONAL MATCH (r)-[t:POINT_PERSON]->(c:Clinician)
  WHERE t.until IS NULL
RETURN r.id AS referrer_id, c.id AS point_person_id, t.since AS since
