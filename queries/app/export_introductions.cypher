// introductions.csv, in id order.
MATCH (by:Member)-[:MADE]->(i:Introduction)-[:OF]->(m:Member), (i)-[:TO]->(r:Referrer)
RETURN i.id AS id, i.date AS date, r.id AS referrer_id, m.id AS introduced_id, by.id AS by_id,
       i.voided_on AS voided_on, i.void_reason AS void_reason
ORDER BY id
