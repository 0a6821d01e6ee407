// title: Referrers whose referrals fell year over year
// question: Which referrers sent fewer referrals in the last 12 months than in the 12 months before?
// note: the windows are those of the analysis' trend: (as_of - 12 months, as_of] against the 12 months before.
// param: min_drop int = 1 -- how many fewer referrals count as a fall
// param: as_of date = today -- the last day of the recent window
// columns: referrer, name, kind, last_12_months, previous_12_months, change
MATCH (r:Referrer)
WITH r, $as_of - duration({months: 12}) AS mid, $as_of - duration({months: 24}) AS start
WITH r, COUNT { (r)-[:SENT]->(x:Referral) WHERE mid < x.date <= $as_of AND NOT x:Voided } AS recent,
        COUNT { (r)-[:SENT]->(x:Referral) WHERE start < x.date <= mid AND NOT x:Voided } AS before
WHERE before - recent >= $min_drop
RETURN r.id AS referrer, r.name AS name, r.kind AS kind, recent AS last_12_months,
       before AS previous_12_months, recent - before AS change
ORDER BY change, referrer
