// One page of referrers with their current point person and counts, for the
// managers' overview (graphsvc.store.reads.referrer_list).
// Filters, each null for "any":
//   $kind          the referrer kind;
//   $search        part of the referrer's name, its organization or its current
//                  point person's name (case-insensitive), or its exact id;
//   $point_person  the id of its current point person;
//   $ids           a list of referrer ids (those the analysis puts in a stage,
//                  stalled or lapsed).
// $order is one of 'referrals', 'name', 'last_referral'.
// practice_totals counts the referrers this filter matches: keep the two in step.
MATCH (r:Referrer)
WHERE ($kind IS NULL OR r.kind = $kind)
  AND ($ids IS NULL OR r.id IN $ids)
OPTIONAL MATCH (r)-[t:POINT_PERSON]->(pp:Clinician)
  WHERE t.until IS NULL
WITH r, pp
WHERE ($point_person IS NULL OR pp.id = $point_person)
  AND ($search IS NULL
       OR toLower(r.name) CONTAINS toLower($search)
       OR toLower(r.organization) CONTAINS toLower($search)
       OR toLower(pp.name) CONTAINS toLower($search)
       OR r.id = $search)
CALL (r) {
  OPTIONAL MATCH (r)-[:SENT]->(x:Referral)
  RETURN count(x) AS referrals, max(x.date) AS last_referral
}
WITH r, pp, referrals, last_referral,
     COUNT { (r)<-[:TO]-(:Introduction) } AS introductions,
     COUNT { (r)<-[:WITH]-(:Contact) } AS contacts
ORDER BY
  CASE $order WHEN 'referrals' THEN -referrals ELSE 0 END,
  CASE $order WHEN 'last_referral' THEN last_referral END DESC,
  CASE $order WHEN 'name' THEN toLower(r.name) END,
  r.id
SKIP $skip LIMIT $limit
RETURN r.id AS id, r.name AS name, r.kind AS kind, r.organization AS organization,
       r.since AS since, pp.id AS point_person_id, pp.name AS point_person,
       referrals, last_referral, introductions, contacts
