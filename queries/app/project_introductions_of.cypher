// Projection: the introductions of some referrers ($ids), one row per referrer.
// The same rows as project_introductions, for those referrers only.
MATCH (r:Referrer) WHERE r.id IN $ids
MATCH (by:Member)-[:MADE]->(i:Introduction)-[:OF]->(m:Member), (i)-[:TO]->(r)
RETURN r.id AS referrer, collect([i.id, toString(i.date), m.id, by.id]) AS events
