// title: Stage pace by referrer kind
// question: How many referrers of each kind reached stages 2 and 3, and how long did it take them from their first referral?
// needs: analysis
// note: reads stage_2_on, stage_3_on, days_to_stage_2 and days_to_stage_3 as `graphsvc analyze` wrote them back;
//    medians are the lower median (percentileDisc 0.5), null when no referrer of the kind got there.
// columns: kind, referrers, reached_stage_2, median_days_to_stage_2, reached_stage_3, median_days_to_stage_3, jumped
MATCH (r:Referrer)
WHERE r.stage IS NOT NULL
WITH r.kind AS kind, count(r) AS referrers, count(r.stage_2_on) AS reached_stage_2,
     percentileDisc(r.days_to_stage_2, 0.5) AS median_days_to_stage_2,
     count(r.stage_3_on) AS reached_stage_3, percentileDisc(r.days_to_stage_3, 0.5) AS median_days_to_stage_3,
     sum(CASE WHEN r.jumped THEN 1 ELSE 0 END) AS jumped
RETURN kind, referrers, reached_stage_2, median_days_to_stage_2, reached_stage_3, median_days_to_stage_3, jumped
ORDER BY kind
