// title: One referrer's timeline
// question: What happened between the practice and one referrer, in date order: referrals, passes, introductions, contacts, referrals out, point-person changes?
// note: with no referrer given, the one with the most referrals (ties: smallest id).
// param: referrer id = null -- the referrer (null: the one with the most referrals)
// columns: date, event, id, member, member_name, detail
CALL () {
  MATCH (r:Referrer)
  WHERE $referrer IS NULL OR r.id = $referrer
  RETURN r ORDER BY COUNT { (r)-[:SENT]->(x:Referral) WHERE NOT x:Voided } DESC, r.id LIMIT 1
}
CALL (r) {
  MATCH (r)-[:SENT]->(x:Referral)-[:ADDRESSED_TO]->(a), (x)-[:ASSIGNED_TO]->(c:Clinician)
  RETURN x.date AS date, 'referral' AS event, x.id AS id, c.id AS member, c.name AS member_name,
         'addressed to ' + CASE WHEN a:Practice THEN 'the practice' ELSE a.name END
         + CASE WHEN x.pass_reason IS NOT NULL THEN ', passed (' + x.pass_reason + ')' ELSE '' END
         + CASE WHEN x:Voided THEN '; voided ' + toString(x.voided_on) + ': ' + x.void_reason ELSE '' END AS detail
  UNION ALL
  MATCH (by:Member)-[:MADE]->(i:Introduction)-[:TO]->(r), (i)-[:OF]->(m:Member)
  RETURN i.date AS date, 'introduction' AS event, i.id AS id, m.id AS member, m.name AS member_name,
         'introduced by ' + by.name
         + CASE WHEN i:Voided THEN '; voided ' + toString(i.voided_on) + ': ' + i.void_reason ELSE '' END AS detail
  UNION ALL
  MATCH (m:Member)-[:MADE]->(k:Contact)-[:WITH]->(r)
  RETURN k.date AS date, 'contact' AS event, k.id AS id, m.id AS member, m.name AS member_name,
         k.kind + CASE WHEN k:Voided THEN '; voided ' + toString(k.voided_on) + ': ' + k.void_reason ELSE '' END
           AS detail
  UNION ALL
  MATCH (r)-[:SENT]->(o:ReferralOut)-[:TO]->(e:ExternalProvider)
  RETURN o.date AS date, 'referral_out' AS event, o.id AS id, null AS member, null AS member_name,
         o.niche + ' to ' + e.name
         + CASE WHEN o:Voided THEN '; voided ' + toString(o.voided_on) + ': ' + o.void_reason ELSE '' END AS detail
  UNION ALL
  MATCH (r)-[t:POINT_PERSON]->(c:Clinician)
  RETURN t.since AS date, 'point_person' AS event, null AS id, c.id AS member, c.name AS member_name,
         CASE WHEN t.until IS NULL THEN 'point person since' ELSE 'point person until ' + toString(t.until) END AS detail
}
RETURN date, event, id, member, member_name, detail
ORDER BY date, event, id
