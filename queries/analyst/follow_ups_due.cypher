// title: Follow-ups due
// question: Which recent referrals have had no follow-up contact with their referrer yet, and how late is it?
// note: a referral's loop is closed by a contact of kind follow_up between its referrer and any member, or by an
//    update sent to the referrer that covered it (update_sent), dated on or after the referral and no later than
//    $as_of; one after the due day (the date plus $follow_up_days) closes it late. The follow-up worklist's
//    rule (graphsvc.rules.follow_up; a test checks that both list the same referrals). status is due while
//    $as_of <= due, overdue after.
// param: follow_up_days int = 14 -- days after a referral by which a follow-up should close its loop
// param: lookback_days int = 90 -- only referrals dated within this many days before $as_of
// param: as_of date = today -- the day to judge on
// columns: referral, date, referrer, name, clinician, clinician_name, due, days_overdue, status
MATCH (r:Referrer)-[:SENT]->(x:Referral)-[:ASSIGNED_TO]->(c:Clinician)
WHERE $as_of - duration({days: $lookback_days}) <= x.date <= $as_of AND NOT x:Voided
WITH r, x, c, x.date + duration({days: $follow_up_days}) AS due
WHERE NOT EXISTS {
  MATCH (:Member)-[:MADE]->(k:Contact {kind: 'follow_up'})-[:WITH]->(r)
  WHERE x.date <= k.date <= $as_of AND NOT k:Voided
} AND NOT EXISTS {
  MATCH (k:Contact {kind: 'update_sent'})-[:COVERS]->(x)
  WHERE x.date <= k.date <= $as_of AND NOT k:Voided
}
WITH r, x, c, due, duration.inDays(due, $as_of).days AS days_overdue
RETURN x.id AS referral, x.date AS date, r.id AS referrer, r.name AS name, c.id AS clinician,
       c.name AS clinician_name, due, days_overdue,
       CASE WHEN days_overdue > 0 THEN 'overdue' ELSE 'due' END AS status
ORDER BY days_overdue DESC, due, date, referral
