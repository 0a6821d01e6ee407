// One referral as its record (the fields of referrals.csv), none if unknown.
// A pass reads it after taking the referral's lock (lock_referral), so the
// rules judge the referral as it is, and two passes of one referral take turns.
MATCH (r:Referrer)-[:SENT]->(x:Referral {id: $id})-[:FOR]->(c:Client),
      (x)-[:ADDRESSED_TO]->(a), (x)-[:ASSIGNED_TO]->(cl:Clinician)
WHERE NOT x:Voided  // a voided referral is neither passed nor moved on: restore it first
RETURN x.id AS id, x.date AS date, r.id AS referrer_id, c.id AS client_id,
       CASE WHEN a:Practice THEN 'practice' ELSE a.id END AS addressed_to,
       cl.id AS assigned_to, x.pass_reason AS pass_reason,
       coalesce(x.consent_to_update, 'unknown') AS consent_to_update,
       {contacted: x.contacted_on, scheduled: x.scheduled_on, first_visit: x.first_visit_on,
        declined: x.declined_on, no_show: x.no_show_on, referred_out: x.referred_out_on} AS statuses
