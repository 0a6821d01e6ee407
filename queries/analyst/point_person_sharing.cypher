// title: Point persons who share most and least
// question: Of the referrals sent while a clinician was the referrer's point person, how many did it share: addressed to a colleague or to the practice as a whole?
// note: each referral counts for whoever was point person on its date (handoffs respected). Most sharing first, so
//    the least sharing are at the bottom.
// param: min_referrals int = 1 -- leave out point persons with fewer referrals than this
// param: since date = null -- only referrals dated on or after this day (null: from the start)
// columns: point_person, name, referrers, referrals, to_point_person, shared, shared_share
MATCH (r:Referrer)-[t:POINT_PERSON]->(c:Clinician), (r)-[:SENT]->(x:Referral)-[:ADDRESSED_TO]->(a)
WHERE NOT x:Voided AND t.since <= x.date AND (t.until IS NULL OR x.date < t.until) AND ($since IS NULL OR x.date >= $since)
WITH c, count(DISTINCT r) AS referrers, count(x) AS referrals,
     sum(CASE WHEN a = c THEN 1 ELSE 0 END) AS to_point_person
WHERE referrals >= $min_referrals
RETURN c.id AS point_person, c.name AS name, referrers, referrals, to_point_person,
       referrals - to_point_person AS shared, round(toFloat(referrals - to_point_person) / referrals, 2) AS shared_share
ORDER BY shared_share DESC, referrals DESC, point_person
