// title: Stalled stage-1 referrers by point person
// question: Which referrers are still with their point person alone after months, per point person?
// needs: analysis
// note: stage and stage_1_on are the ones `graphsvc analyze` wrote back (judged on its analysis_as_of);
//    days in stage are counted up to $as_of.
// param: stall_days int = 180 -- days in stage 1 before a referrer counts as stalled
// param: min_referrals int = 3 -- referrals a referrer must have sent to count as stalled
// param: as_of date = today -- the day to judge on
// columns: point_person, point_person_name, referrer, name, referrals, stage_since, days_in_stage
MATCH (r:Referrer)-[t:POINT_PERSON]->(c:Clinician)
WHERE t.until IS NULL AND r.stage = 1 AND r.referrals >= $min_referrals
  AND r.stage_1_on <= $as_of - duration({days: $stall_days + 1})
RETURN c.id AS point_person, c.name AS point_person_name, r.id AS referrer, r.name AS name,
       r.referrals AS referrals, r.stage_1_on AS stage_since,
       duration.inDays(r.stage_1_on, $as_of).days AS days_in_stage
ORDER BY point_person, days_in_stage DESC, referrer
