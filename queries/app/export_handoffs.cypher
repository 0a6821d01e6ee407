// handoffs.csv: every point-person tenure after a referrer's first.
MATCH (r:Referrer)-[t:POINT_PERSON]->(c:Clinician)
WHERE t.since > r.since
RETURN t.since AS date, r.id AS referrer_id, c.id AS point_person_id
ORDER BY referrer_id, date
