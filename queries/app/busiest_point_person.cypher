// The clinician who is the current point person of the most referrers (ties:
// the smallest id), with that count; no row when no referrer has one. The
// demo's clinician account is linked to it (`graphsvc user demo`).
MATCH (r:Referrer)-[t:POINT_PERSON]->(c:Clinician)
WHERE t.until IS NULL
RETURN c.id AS id, c.name AS name, count(r) AS referrers
ORDER BY referrers DESC, id
LIMIT 1
