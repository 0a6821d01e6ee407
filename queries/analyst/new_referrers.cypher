// title: New referrers of the last 90 days
// question: Which referrers sent their first referral lately, and who is their point person?
// param: days int = 90 -- how recent a first referral makes a referrer new
// param: as_of date = today -- the day to judge on (first referral between $as_of - $days and $as_of)
// columns: referrer, name, kind, organization, point_person, point_person_name, first_referral, referrals, days_since_first
MATCH (r:Referrer)-[:SENT]->(x:Referral)
WHERE x.date <= $as_of AND NOT x:Voided
WITH r, min(x.date) AS first_referral, count(x) AS referrals
WHERE first_referral >= $as_of - duration({days: $days})
OPTIONAL MATCH (r)-[t:POINT_PERSON]->(c:Clinician)
WHERE t.since <= $as_of AND (t.until IS NULL OR t.until > $as_of)
RETURN r.id AS referrer, r.name AS name, r.kind AS kind, r.organization AS organization,
       c.id AS point_person, c.name AS point_person_name, first_referral, referrals,
       duration.inDays(first_referral, $as_of).days AS days_since_first
ORDER BY first_referral DESC, referrer
