// Projection: every contact, one row per referrer.
MATCH (m:Member)-[:MADE]->(k:Contact)-[:WITH]->(r:Referrer)
RETURN r.id AS referrer, collect([k.id, toString(k.date), m.id, k.kind]) AS events
