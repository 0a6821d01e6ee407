// title: Referrals by month
// question: How many referrals came in each month, how many named a clinician, how many the practice as a whole, and how many were passed?
// note: a referral addressed to a staff member (the intake coordinator) counts as addressed to the practice.
// param: since date = null -- the first day counted (null: from the start)
// param: until date = today -- the last day counted
// columns: month, referrals, to_clinician, to_practice, passes
MATCH (x:Referral)-[:ADDRESSED_TO]->(a)
WHERE x.date <= $until AND ($since IS NULL OR x.date >= $since) AND NOT x:Voided
WITH x, a, EXISTS { (x)-[:ASSIGNED_TO]->(c:Clinician) WHERE a:Clinician AND c <> a } AS passed
RETURN left(toString(x.date), 7) AS month, count(x) AS referrals,
       sum(CASE WHEN a:Clinician THEN 1 ELSE 0 END) AS to_clinician,
       sum(CASE WHEN a:Clinician THEN 0 ELSE 1 END) AS to_practice,
       sum(CASE WHEN passed THEN 1 ELSE 0 END) AS passes
ORDER BY month
