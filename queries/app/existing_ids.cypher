// Which of $ids already name a member, referrer, client, outside provider or
// referral. Used to check references an import or a write makes to nodes it
// does not itself carry. For a referrer also what the handoff rules need: its
// `since`, its current point person and that tenure's start, and every tenure
// (`tenures`: [{since, point_person_id}] in `since` order); for a referral,
// its referrer (a task names both), date and statuses (a status names it).
UNWIND $ids AS id
OPTIONAL MATCH (m:Member {id: id})
OPTIONAL MATCH (r:Referrer {id: id})
OPTIONAL MATCH (c:Client {id: id})
OPTIONAL MATCH (e:ExternalProvider {id: id})
OPTIONAL MATCH (x:Referral {id: id})
OPTIONAL MATCH (g:MergedReferrer {id: id})
WITH id, m, r, c, e, x, g
WHERE m IS NOT NULL OR r IS NOT NULL OR c IS NOT NULL OR e IS NOT NULL OR x IS NOT NULL OR g IS NOT NULL
CALL (r) {
  OPTIONAL MATCH (r)-[t:POINT_PERSON]->(holder:Clinician)
  WITH t, holder ORDER BY t.since
  RETURN collect(CASE WHEN t IS NOT NULL THEN {since: t.since, point_person_id: holder.id} END) AS tenures
}
RETURN id,
       CASE WHEN m:Clinician THEN 'clinician' WHEN m:Staff THEN 'staff' END AS member,
       r IS NOT NULL AS referrer,
       c IS NOT NULL AS client,
       e IS NOT NULL AS provider,
       CASE WHEN e IS NULL THEN null ELSE e.niches END AS niches,
       r.since AS since,
       CASE WHEN size(tenures) > 0 THEN tenures[-1].point_person_id END AS point_person_id,
       CASE WHEN size(tenures) > 0 THEN tenures[-1].since END AS current_since,
       tenures,
       x IS NOT NULL AS referral,
       g IS NOT NULL AS merged,
       CASE WHEN x IS NULL THEN null ELSE COLLECT { MATCH (s:Referrer)-[:SENT]->(x) RETURN s.id }[0] END
         AS referral_referrer,
       x.date AS referral_date,
       CASE WHEN x IS NULL THEN null ELSE
         {contacted: x.contacted_on, scheduled: x.scheduled_on, first_visit: x.first_visit_on,
          declined: x.declined_on, no_show: x.no_show_on, referred_out: x.referred_out_on} END AS statuses
