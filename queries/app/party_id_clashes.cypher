// Ids held by more than one party (clinician, staff member, referrer, outside provider): stored before
// graphsvc refused them, they keep the party_id constraint from being made (graphsvc.store.schema).
MATCH (n:Party)
WITH n.id AS id, collect(CASE WHEN n:Clinician THEN 'clinician' WHEN n:Staff THEN 'staff member'
                              WHEN n:Referrer THEN 'referrer' ELSE 'outside provider' END) AS kinds
WHERE size(kinds) > 1
RETURN id, kinds
ORDER BY id
LIMIT 20
