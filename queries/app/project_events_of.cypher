// Projection: the events of some referrers ($ids), one row per referrer with
// each kind collected (as [id, ISO date, ...] lists). Per-referrer subqueries
// stream rows as they go, where one collect over all referrals would make
// Neo4j aggregate everything before the first row. A voided record (:Voided)
// is left out: it is not part of the practice's history any more.
MATCH (r:Referrer) WHERE r.id IN $ids
RETURN r.id AS referrer,
       COLLECT { MATCH (r)-[:SENT]->(x:Referral)-[:ASSIGNED_TO]->(cl:Clinician),
                       (x)-[:ADDRESSED_TO]->(a), (x)-[:FOR]->(c:Client)
                 WHERE NOT x:Voided
                 RETURN [x.id, toString(x.date), CASE WHEN a:Practice THEN 'practice' ELSE a.id END,
                         cl.id, x.pass_reason, c.needs, c.population, c.insurance, c.schedule,
                         x.consent_to_update,
                         [toString(x.contacted_on), toString(x.scheduled_on), toString(x.first_visit_on),
                          toString(x.declined_on), toString(x.no_show_on), toString(x.referred_out_on)]] }
         AS referrals,
       COLLECT { MATCH (by:Member)-[:MADE]->(i:Introduction)-[:OF]->(m:Member), (i)-[:TO]->(r)
                 WHERE NOT i:Voided
                 RETURN [i.id, toString(i.date), m.id, by.id] } AS introductions,
       COLLECT { MATCH (m:Member)-[:MADE]->(k:Contact)-[:WITH]->(r)
                 WHERE NOT k:Voided
                 RETURN [k.id, toString(k.date), m.id, k.kind,
                         COLLECT { MATCH (k)-[:COVERS]->(y:Referral) WHERE NOT y:Voided RETURN y.id ORDER BY y.id }]
               } AS contacts,
       COLLECT { MATCH (r)-[:SENT]->(o:ReferralOut)-[:TO]->(e:ExternalProvider)
                 WHERE NOT o:Voided
                 RETURN [o.id, toString(o.date), e.id, o.niche] } AS referrals_out,
       COLLECT { MATCH (t:Task)-[:ABOUT]->(r)
                 RETURN [t.id, t.worklist, t.referral_id, t.status, COLLECT { MATCH (m:Member)-[:HOLDS]->(t)
                         RETURN m.id }[0], toString(t.snoozed_until), t.note, toString(t.done_on)] } AS tasks
