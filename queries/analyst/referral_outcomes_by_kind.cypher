// title: Referrals reaching a first visit, by referrer kind
// question: Of the referrals old enough to judge, how many reached a first visit, how fast, and how many leaked, per referrer kind?
// note: the referrals dated in the 365 days up to $as_of and at least $wait_days before it (the rule of
//    graphsvc.analysis.conversion, which the dashboard shows): first_visits reached a first visit by $as_of,
//    median_days from the referral to it; ended declined, did not show or were referred out without one;
//    waiting have neither yet. share is first_visits / referrals.
// param: wait_days int = 21 -- days a referral is given to reach a first visit before it is judged
// param: as_of date = today -- the day to judge on
// columns: kind, referrals, first_visits, share, median_days, ended, waiting
MATCH (r:Referrer)-[:SENT]->(x:Referral)
WHERE $as_of - duration({days: 365}) < x.date <= $as_of - duration({days: $wait_days}) AND NOT x:Voided
WITH r.kind AS kind, x, x.first_visit_on IS NOT NULL AND x.first_visit_on <= $as_of AS seen
WITH kind, x, seen,
     NOT seen AND any(d IN [x.declined_on, x.no_show_on, x.referred_out_on] WHERE d IS NOT NULL AND d <= $as_of)
       AS ended
WITH kind, count(x) AS referrals, sum(CASE WHEN seen THEN 1 ELSE 0 END) AS first_visits,
     sum(CASE WHEN ended THEN 1 ELSE 0 END) AS ended,
     percentileCont(CASE WHEN seen THEN duration.inDays(x.date, x.first_visit_on).days END, 0.5) AS median_days
RETURN kind, referrals, first_visits, round(toFloat(first_visits) / referrals, 4) AS share, median_days, ended,
       referrals - first_visits - ended AS waiting
ORDER BY kind
