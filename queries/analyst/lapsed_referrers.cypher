// title: Lapsed referrers
// question: Which referrers that used to refer have sent nothing for months?
// note: the analysis' rule: at least $min_referrals referrals up to $as_of, none in the last $lapse_days days.
// param: lapse_days int = 180 -- days without a referral before a referrer counts as lapsed
// param: min_referrals int = 3 -- referrals a referrer must have sent to count
// param: as_of date = today -- the day to judge on
// columns: referrer, name, kind, point_person, point_person_name, referrals, last_referral, days_since_last
MATCH (r:Referrer)-[:SENT]->(x:Referral)
WHERE x.date <= $as_of AND NOT x:Voided
WITH r, count(x) AS referrals, max(x.date) AS last_referral
WHERE referrals >= $min_referrals AND last_referral < $as_of - duration({days: $lapse_days})
OPTIONAL MATCH (r)-[t:POINT_PERSON]->(c:Clinician) WHERE t.until IS NULL
RETURN r.id AS referrer, r.name AS name, r.kind AS kind, c.id AS point_person, c.name AS point_person_name,
       referrals, last_referral, duration.inDays(last_referral, $as_of).days AS days_since_last
ORDER BY days_since_last DESC, referrer
