// A referrer's referrals ($id), by date then id: what its update covers (graphsvc.rules.in_update).
MATCH (:Referrer {id: $id})-[:SENT]->(x:Referral)-[:ASSIGNED_TO]->(c:Clinician)
WHERE NOT x:Voided
RETURN x.id AS id, x.date AS date, coalesce(x.consent_to_update, 'unknown') AS consent_to_update,
       c.id AS assigned_to
ORDER BY date, id
