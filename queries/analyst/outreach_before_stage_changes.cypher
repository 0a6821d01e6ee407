// title: Outreach before each stage change
// question: What contacts (lunches, talks, consults, ...) did members have with a referrer before it reached each stage?
// needs: analysis
// note: uses the first day of each stage (stage_1_on .. stage_3_on) `graphsvc analyze` writes back. A stage's contacts
//    are those dated on or after the day the referrer reached its previous stage (from the start for its first) and
//    before the day it reached this one. One row per referrer, stage and contact kind.
// param: referrer id = null -- one referrer (null: every referrer)
// columns: referrer, name, stage, reached_on, kind, contacts
MATCH (r:Referrer)
WHERE ($referrer IS NULL OR r.id = $referrer) AND r.stage IS NOT NULL
UNWIND [s IN [[1, r.stage_1_on], [2, r.stage_2_on], [3, r.stage_3_on]] WHERE s[1] IS NOT NULL] AS reached
WITH r, reached[0] AS stage, reached[1] AS reached_on,
     [s IN [r.stage_1_on, r.stage_2_on, r.stage_3_on][0..reached[0] - 1] WHERE s IS NOT NULL] AS before
WITH r, stage, reached_on, CASE WHEN size(before) > 0 THEN before[-1] END AS since_day
MATCH (:Member)-[:MADE]->(k:Contact)-[:WITH]->(r)
WHERE k.date < reached_on AND (since_day IS NULL OR k.date >= since_day) AND NOT k:Voided
RETURN r.id AS referrer, r.name AS name, stage, reached_on, k.kind AS kind, count(k) AS contacts
ORDER BY referrer, stage, kind
