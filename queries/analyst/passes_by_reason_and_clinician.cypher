// title: Passes by reason and clinician
// question: Which clinicians pass referrals addressed to them to which colleagues, and why?
// note: a pass is a referral addressed to one clinician and assigned to another; it carries its pass_reason.
// param: reason str = null -- only passes with this reason: scheduling, insurance, specialty or other (null: all)
// param: since date = null -- only referrals dated on or after this day (null: from the start)
// param: until date = today -- only referrals dated on or before this day
// columns: reason, from_clinician, from_name, to_clinician, to_name, passes
MATCH (from:Clinician)<-[:ADDRESSED_TO]-(x:Referral)-[:ASSIGNED_TO]->(to:Clinician)
WHERE from <> to AND NOT x:Voided AND x.date <= $until AND ($since IS NULL OR x.date >= $since)
WITH from, to, coalesce(x.pass_reason, 'other') AS reason
WHERE $reason IS NULL OR reason = $reason
RETURN reason, from.id AS from_clinician, from.name AS from_name,
       to.id AS to_clinician, to.name AS to_name, count(*) AS passes
ORDER BY reason, passes DESC, from_clinician, to_clinician
