// Projection: every introduction.
MATCH (by:Member)-[:MADE]->(i:Introduction)-[:OF]->(m:Member), (i)-[:TO]->(r:Referrer)
RETURN r.id AS referrer, i.id AS id, i.date AS date, m.id AS member, by.id AS by
