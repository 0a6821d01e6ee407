// Restore voided record $id, a $label (Referral, Introduction, Contact or ReferralOut): the label Voided
// and the day and reason go, so the analysis counts it again. No row when there is no such record;
// `was_voided` false when it was not voided (then nothing changes).
CALL () {
  MATCH (x:Referral {id: $id}) WHERE $label = 'Referral' RETURN x
  UNION
  MATCH (x:Introduction {id: $id}) WHERE $label = 'Introduction' RETURN x
  UNION
  MATCH (x:Contact {id: $id}) WHERE $label = 'Contact' RETURN x
  UNION
  MATCH (x:ReferralOut {id: $id}) WHERE $label = 'ReferralOut' RETURN x
}
WITH x, x:Voided AS was_voided
SET x._lock = true
REMOVE x._lock
FOREACH (_ IN CASE WHEN was_voided THEN [1] ELSE [] END |
  REMOVE x:Voided SET x.voided_on = null, x.void_reason = null)
RETURN COLLECT { MATCH (r:Referrer)-[:SENT]->(x) RETURN r.id UNION MATCH (x)-[:TO|WITH]->(r:Referrer) RETURN r.id }[0]
         AS referrer_id,
       was_voided
