// Add or update referrers and their first point-person tenure, which starts
// on `since`. Tenures before `since`, starting on it with someone else, or
// the old first tenure when `since` moved, are replaced. Then every touched
// referrer's tenures are closed in this same statement (each tenure's `until`
// is the next one's `since`; the last has none), so any committed batch leaves
// exactly one current point person per referrer.
// $rows: [{id, name, kind, organization, point_person_id, since, npi}] (npi null: none)
UNWIND $rows AS row
MERGE (r:Referrer {id: row.id})
WITH r, row, r.since AS before
// Setting properties locks the referrer before its tenures are read, so two
// transactions touching one referrer's tenures take turns.
SET r:Party, r.name = row.name,
    r.kind = row.kind,
    r.organization = row.organization,
    r.since = row.since,
    r.npi = row.npi
WITH r, row, before
CALL (r, row, before) {
  MATCH (r)-[old:POINT_PERSON]->(holder)
  WHERE old.since < row.since
     OR (old.since = row.since AND holder.id <> row.point_person_id)
     OR (old.since = before AND before <> row.since)
  DELETE old
}
WITH r, row
MATCH (c:Clinician {id: row.point_person_id})
MERGE (r)-[:POINT_PERSON {since: row.since}]->(c)
WITH DISTINCT r
CALL (r) {
  MATCH (r)-[t:POINT_PERSON]->()
  WITH t ORDER BY t.since
  WITH collect(t) AS tenures
  UNWIND range(0, size(tenures) - 1) AS i
  WITH tenures[i] AS t, CASE WHEN i + 1 < size(tenures) THEN tenures[i + 1].since END AS until
  SET t.until = until
}
