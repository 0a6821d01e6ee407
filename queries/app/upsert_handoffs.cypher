// Record handoffs of the point-person role (history is kept: each tenure is
// its own POINT_PERSON relationship), and close the touched referrers'
// tenures in this same statement (each tenure's `until` is the next one's
// `since`; the last has none), so any committed batch leaves exactly one
// current point person per referrer. $rows: [{date, referrer_id, point_person_id}]
UNWIND $rows AS row
MATCH (r:Referrer {id: row.referrer_id})
MATCH (c:Clinician {id: row.point_person_id})
// Lock the referrer before reading its tenures: batches (or a hand_over) that
// touch one referrer take turns, and each closes the tenures the other committed.
SET r._lock = true
REMOVE r._lock
WITH r, c, row
CALL (r, row) {
  MATCH (r)-[old:POINT_PERSON {since: row.date}]->(holder)
  WHERE holder.id <> row.point_person_id
  DELETE old
}
MERGE (r)-[:POINT_PERSON {since: row.date}]->(c)
WITH DISTINCT r
CALL (r) {
  MATCH (r)-[t:POINT_PERSON]->()
  WITH t ORDER BY t.since
  WITH collect(t) AS tenures
  UNWIND range(0, size(tenures) - 1) AS i
  WITH tenures[i] AS t, CASE WHEN i + 1 < size(tenures) THEN tenures[i + 1].since END AS until
  SET t.until = until
}
