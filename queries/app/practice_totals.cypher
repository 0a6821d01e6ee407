// Headline counts for the overview page, and how many referrers the overview's
// filter matches (for paging). The filter is referrer_overview's, with the same
// parameters ($kind, $search, $point_person, $ids; each null for "any"): keep
// the two in step.
CALL () {
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
  RETURN count(DISTINCT r) AS matching
}
RETURN COUNT { (:Clinician) } AS clinicians,
       COUNT { (:Staff) } AS staff,
       COUNT { (:Referrer) } AS referrers,
       COUNT { (:Referral) } AS referrals,
       COUNT { (:Referral)-[:ADDRESSED_TO]->(:Practice) } AS to_practice,
       COUNT { (:ReferralOut) } AS referrals_out,
       matching
