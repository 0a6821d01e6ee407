// A referral's addressee (and its kind) and current assignee.
MATCH (x:Referral {id: $id})-[:ADDRESSED_TO]->(a)
OPTIONAL MATCH (x)-[:ASSIGNED_TO]->(cl:Clinician)
RETURN x.id AS id,
       CASE WHEN a:Practice THEN 'practice' ELSE a.id END AS addressed_to,
       CASE WHEN a:Clinician THEN 'clinician' WHEN a:Staff THEN 'staff' ELSE 'practice' END AS addressed_kind,
       cl.id AS assigned_to, x.pass_reason AS pass_reason
