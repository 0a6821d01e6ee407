// Add or update staff members. $rows: [{id, name, role, npi}] (npi null: none)
MERGE (p:Practice {id: $practice_id})
WITH p
UNWIND $rows AS row
MERGE (s:Member:Staff {id: row.id})
SET s:Party, s.name = row.name, s.role = row.role, s.npi = row.npi
WITH s, p
MERGE (s)-[:MEMBER_OF]->(p)
