// Add or update trusted outside providers. $rows: [{id, name, niches}]
UNWIND $rows AS row
MERGE (e:ExternalProvider {id: row.id})
SET e:Party, e.name = row.name, e.niches = row.niches
