// Add or update referrers and their first point-person tenure, which starts
// on `since`. Tenures before `since`, or starting on it with someone else,
// are replaced. $rows: [{id, name, kind, organization, point_person_id, since}]
UNWIND $rows AS row
MERGE (r:Referrer {id: row.id})
SET r.name = row.name,
    r.kind = row.kind,
    r.organization = row.organization,
    r.since = row.since
WITH r, row
CALL (r, row) {
  MATCH (r)-[old:POINT_PERSON]->(holder)
  WHERE old.since < row.since OR (old.since = row.since AND holder.id <> row.point_person_id)
  DELETE old
}
WITH r, row
MATCH (c:Clinician {id: row.point_person_id})
MERGE (r)-[:POINT_PERSON {since: row.since}]->(c)
