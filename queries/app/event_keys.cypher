// The stored introductions and contacts of the referrers $ids, by what makes two of them the same record
// (graphsvc.checks refuses a duplicate): an introduction's day, colleague and introducer, a contact's day,
// member and kind. Dates as ISO text.
UNWIND $ids AS rid
MATCH (r:Referrer {id: rid})
CALL (r) {
  OPTIONAL MATCH (by:Member)-[:MADE]->(i:Introduction)-[:TO]->(r), (i)-[:OF]->(m:Member)
  WHERE NOT i:Voided  // a voided record is no first of a duplicate
  RETURN collect(CASE WHEN i IS NOT NULL THEN [i.id, toString(i.date), m.id, by.id] END) AS introductions
}
CALL (r) {
  OPTIONAL MATCH (m:Member)-[:MADE]->(k:Contact)-[:WITH]->(r)
  WHERE NOT k:Voided
  RETURN collect(CASE WHEN k IS NOT NULL THEN [k.id, toString(k.date), m.id, k.kind] END) AS contacts
}
RETURN rid AS referrer_id, introductions, contacts
