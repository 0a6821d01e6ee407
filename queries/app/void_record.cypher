// Void (withdraw) record $id, a $label (Referral, Introduction, Contact or ReferralOut), on $day for
// $reason: it keeps its edges and gains the label Voided, which every read of the analysis leaves out
// (graphsvc.service.Service.void_record). No row when there is no such record; `was_voided` when it
// was voided already (then nothing changes).
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
FOREACH (_ IN CASE WHEN was_voided THEN [] ELSE [1] END |
  SET x:Voided, x.voided_on = $day, x.void_reason = $reason)
RETURN COLLECT { MATCH (r:Referrer)-[:SENT]->(x) RETURN r.id UNION MATCH (x)-[:TO|WITH]->(r:Referrer) RETURN r.id }[0]
         AS referrer_id,
       was_voided, x.voided_on AS voided_on, x.void_reason AS void_reason
