// contacts.csv, in id order.
MATCH (m:Member)-[:MADE]->(k:Contact)-[:WITH]->(r:Referrer)
RETURN k.id AS id, k.date AS date, r.id AS referrer_id, m.id AS member_id, k.kind AS kind,
       COLLECT { MATCH (k)-[:COVERS]->(x:Referral) RETURN x.id ORDER BY x.id } AS covers,
       k.voided_on AS voided_on, k.void_reason AS void_reason
ORDER BY id
