// merged_referrers.csv: referrers' records merged into another record of the same person (graphsvc
// Service.merge_referrers leaves them): the id stays taken (Party) and leads to the one kept.
// $rows: [{id, name, into, merged_on}]
UNWIND $rows AS row
MERGE (m:MergedReferrer {id: row.id})
SET m:Party, m.name = row.name, m.merged_into = row.into, m.merged_on = row.merged_on
