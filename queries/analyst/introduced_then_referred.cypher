// title: Referrers reached through introductions who then referred
// question: Which referrers, once introduced to a colleague, went on to send that colleague referrals?
// note: one row per introduction followed (on or after its date) by a referral addressed or assigned to the member
//    introduced.
// param: since date = null -- only introductions dated on or after this day (null: from the start)
// columns: referrer, name, introduced, introduced_name, introduced_by, introduced_on, first_referral_after, referrals_after
MATCH (by:Member)-[:MADE]->(i:Introduction)-[:OF]->(m:Member), (i)-[:TO]->(r:Referrer)
WHERE ($since IS NULL OR i.date >= $since) AND NOT i:Voided
MATCH (r)-[:SENT]->(x:Referral)-[:ADDRESSED_TO|ASSIGNED_TO]->(m)
WHERE x.date >= i.date AND NOT x:Voided
WITH r, m, by, i, count(DISTINCT x) AS referrals_after, min(x.date) AS first_referral_after
RETURN r.id AS referrer, r.name AS name, m.id AS introduced, m.name AS introduced_name, by.id AS introduced_by,
       i.date AS introduced_on, first_referral_after, referrals_after
ORDER BY introduced_on, referrer, introduced
