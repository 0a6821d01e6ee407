// title: Referral paths from one referrer to every member it reached
// question: Through which referrals did a referrer reach each member, as addressee or as the clinician assigned?
// note: returns paths (referrer -SENT-> referral -ADDRESSED_TO|ASSIGNED_TO-> member) for the console's picture. A
//    referral addressed to the practice as a whole reaches the Practice node, not a member, and shows only its
//    assignee. With no referrer given, the one with the most referrals (ties: smallest id).
// param: referrer id = null -- the referrer (null: the one with the most referrals)
// columns: member, name, referral, date, via, path
CALL () {
  MATCH (r:Referrer)
  WHERE $referrer IS NULL OR r.id = $referrer
  RETURN r ORDER BY COUNT { (r)-[:SENT]->(x:Referral) WHERE NOT x:Voided } DESC, r.id LIMIT 1
}
MATCH path = (r)-[:SENT]->(x:Referral)-[via:ADDRESSED_TO|ASSIGNED_TO]->(m:Member)
WHERE NOT x:Voided
RETURN m.id AS member, m.name AS name, x.id AS referral, x.date AS date, type(via) AS via, path
ORDER BY member, date, referral, via
