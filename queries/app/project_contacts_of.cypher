// Projection: the contacts of some referrers ($ids), one row per referrer.
// The same rows as project_contacts, for those referrers only.
MATCH (r:Referrer) WHERE r.id IN $ids
MATCH (m:Member)-[:MADE]->(k:Contact)-[:WITH]->(r)
RETURN r.id AS referrer, collect([k.id, toString(k.date), m.id, k.kind]) AS events
