// Add or update clients: a pseudonymous id and matching attributes only.
// $rows: [{id, needs, population, insurance, schedule}]
UNWIND $rows AS row
MERGE (c:Client {id: row.id})
SET c.needs = row.needs,
    c.population = row.population,
    c.insurance = row.insurance,
    c.schedule = row.schedule
