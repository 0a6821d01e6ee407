// Projection: every introduction, one row per referrer.
MATCH (by:Member)-[:MADE]->(i:Introduction)-[:OF]->(m:Member), (i)-[:TO]->(r:Referrer)
RETURN r.id AS referrer, collect([i.id, toString(i.date), m.id, by.id]) AS events
