// The voided records of referrer $id (they stay, marked, on its time line): kind, id, date, who or what
// it was with, the day it was voided and why; newest first.
MATCH (r:Referrer {id: $id})
CALL (r) {
  MATCH (r)-[:SENT]->(x:Referral:Voided)-[:ASSIGNED_TO]->(c:Clinician)
  RETURN 'referral' AS kind, x.id AS id, x.date AS date, c.name AS who, x.voided_on AS voided_on,
         x.void_reason AS reason
  UNION ALL
  MATCH (i:Introduction:Voided)-[:TO]->(r), (i)-[:OF]->(m:Member)
  RETURN 'introduction' AS kind, i.id AS id, i.date AS date, m.name AS who, i.voided_on AS voided_on,
         i.void_reason AS reason
  UNION ALL
  MATCH (m:Member)-[:MADE]->(k:Contact:Voided)-[:WITH]->(r)
  RETURN 'contact' AS kind, k.id AS id, k.date AS date, m.name AS who, k.voided_on AS voided_on,
         k.void_reason AS reason
  UNION ALL
  MATCH (r)-[:SENT]->(o:ReferralOut:Voided)-[:TO]->(e:ExternalProvider)
  RETURN 'referral_out' AS kind, o.id AS id, o.date AS date, e.name AS who, o.voided_on AS voided_on,
         o.void_reason AS reason
}
RETURN kind, id, toString(date) AS date, who, toString(voided_on) AS voided_on, reason
ORDER BY date DESC, id
