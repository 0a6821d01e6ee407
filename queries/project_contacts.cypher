// Projection: every contact.
MATCH (m:Member)-[:MADE]->(k:Contact)-[:WITH]->(r:Referrer)
RETURN r.id AS referrer, k.id AS id, k.date AS date, m.id AS member, k.kind AS kind
