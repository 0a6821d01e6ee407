// Add or update clinicians. $rows: [{id, name, specialties, populations,
// insurances, schedule, accepting_new, npi}] (npi null: none)
MERGE (p:Practice {id: $practice_id})
WITH p
UNWIND $rows AS row
MERGE (c:Member:Clinician {id: row.id})
SET c:Party, c.name = row.name,
    c.specialties = row.specialties,
    c.populations = row.populations,
    c.insurances = row.insurances,
    c.schedule = row.schedule,
    c.accepting_new = row.accepting_new,
    c.npi = row.npi
WITH c, p
MERGE (c)-[:MEMBER_OF]->(p)
