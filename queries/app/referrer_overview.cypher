// One page of referrers with their current point person and counts, for the
// managers' overview. $kind and $search may be null; $order is one of
// 'referrals', 'name', 'last_referral'.
MATCH (r:Referrer)
WHERE ($kind IS NULL OR r.kind = $kind)
  AND ($search IS NULL
       OR toLower(r.name) CONTAINS toLower($search)
       OR toLower(r.organization) CONTAINS toLower($search)
       OR r.id = $search)
OPTIONAL MATCH (r)-[t:POINT_PERSON]->(pp:Clinician)
  WHERE t.until IS NULL
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
