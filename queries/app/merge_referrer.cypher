// Merge referrer $from into referrer $into (two records of one person): its
// referrals and referrals out (SENT), introductions (TO), contacts (WITH) and
// worklist tasks (ABOUT) move to $into; both point-person histories are
// replaced by $tenures ([{since, until, point_person_id}], joined by
// graphsvc.rules.merged_tenures); $into's relationship began on $since.
// The merged node stays, as (:MergedReferrer:Party {id, name, merged_into,
// merged_on}) without its edges or other properties (its stored analysis
// went with it), so its id stays taken and its pages can send people on; earlier
// merges into $from now point at $into. The caller holds both referrers' locks.
MATCH (a:Referrer {id: $from}), (b:Referrer {id: $into})
CALL (a, b) {
  MATCH (a)-[e:SENT]->(x)
  CREATE (b)-[:SENT]->(x)
  DELETE e
}
CALL (a, b) {
  MATCH (x)-[e:TO]->(a)
  CREATE (x)-[:TO]->(b)
  DELETE e
}
CALL (a, b) {
  MATCH (x)-[e:WITH]->(a)
  CREATE (x)-[:WITH]->(b)
  DELETE e
}
CALL (a, b) {
  MATCH (x)-[e:ABOUT]->(a)
  CREATE (x)-[:ABOUT]->(b)
  DELETE e
}
CALL (a, b) {
  MATCH (r)-[t:POINT_PERSON]->()
  WHERE r = a OR r = b
  DELETE t
}
CALL (b) {
  UNWIND $tenures AS row
  MATCH (c:Clinician {id: row.point_person_id})
  CREATE (b)-[:POINT_PERSON {since: row.since, until: row.until}]->(c)
}
CALL (a) {
  MATCH (m:MergedReferrer {merged_into: a.id})
  SET m.merged_into = $into
}
SET b.since = $since
REMOVE a:Referrer
SET a = {id: a.id, name: a.name, merged_into: $into, merged_on: $day}
SET a:MergedReferrer
RETURN a.id AS merged, b.id AS into
