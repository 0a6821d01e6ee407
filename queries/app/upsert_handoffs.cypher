// Record handoffs of the point-person role (history is kept: each tenure is
// its own POINT_PERSON relationship). $rows: [{date, referrer_id, point_person_id}]
UNWIND $rows AS row
MATCH (r:Referrer {id: row.referrer_id})
MATCH (c:Clinician {id: row.point_person_id})
CALL (r, row) {
  MATCH (r)-[old:POINT_PERSON {since: row.date}]->(holder)
  WHERE holder.id <> row.point_person_id
  DELETE old
}
MERGE (r)-[:POINT_PERSON {since: row.date}]->(c)
