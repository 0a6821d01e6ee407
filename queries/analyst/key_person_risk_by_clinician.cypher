// title: Key-person risk by clinician
// question: Which referrers would the practice stand to lose with each clinician, and how many referrals a year do they bring?
// needs: analysis
// note: a referrer is at risk for a clinician when it is in stage 1 (as `graphsvc analyze` wrote back) with that
//    clinician as its current point person, or when every one of its referrals in the window (at least one) was
//    assigned to that clinician: the definition of the practice page's key-person risk.
// param: months int = 12 -- the window: referrals dated after the same day this many months before $as_of
// param: as_of date = today -- the last day of the window
// columns: clinician, name, referrers_at_risk, referrers, referrals_at_stake
CALL () {
  MATCH (r:Referrer)
  OPTIONAL MATCH (r)-[t:POINT_PERSON]->(pp:Clinician) WHERE t.until IS NULL
  WITH r, pp, COLLECT {
    MATCH (r)-[:SENT]->(x:Referral)-[:ASSIGNED_TO]->(a:Clinician)
    WHERE $as_of - duration({months: $months}) < x.date <= $as_of AND NOT x:Voided
    RETURN a.id
  } AS assigned
  WITH r, size(assigned) AS recent,
       CASE WHEN r.stage = 1 AND pp IS NOT NULL THEN [pp.id] ELSE [] END
       + CASE WHEN size(assigned) > 0 AND all(a IN assigned WHERE a = assigned[0]) THEN [assigned[0]] ELSE [] END
       AS depends_on
  UNWIND depends_on AS clinician
  RETURN DISTINCT clinician, r.id AS referrer, recent
}
WITH clinician, referrer, recent ORDER BY referrer
WITH clinician, collect(referrer) AS referrers, sum(recent) AS referrals
WITH collect({clinician: clinician, referrers: referrers, referrals: referrals}) AS risks
MATCH (c:Clinician)
WITH c, [x IN risks WHERE x.clinician = c.id][0] AS risk
RETURN c.id AS clinician, c.name AS name, size(coalesce(risk.referrers, [])) AS referrers_at_risk,
       coalesce(risk.referrers, []) AS referrers, coalesce(risk.referrals, 0) AS referrals_at_stake
ORDER BY referrals_at_stake DESC, referrers_at_risk DESC, clinician
