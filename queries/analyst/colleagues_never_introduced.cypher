// title: Colleagues never introduced to anyone
// question: Which practice members has no one ever introduced to a referrer?
// param: include_staff bool = true -- list staff members too (false: clinicians only)
// columns: member, name, member_kind, accepting_new, referrals_assigned
MATCH (m:Member)
WHERE NOT EXISTS { (i:Introduction)-[:OF]->(m) WHERE NOT i:Voided } AND ($include_staff OR m:Clinician)
RETURN m.id AS member, m.name AS name, CASE WHEN m:Clinician THEN 'clinician' ELSE 'staff' END AS member_kind,
       m.accepting_new AS accepting_new,
       COUNT { (x:Referral)-[:ASSIGNED_TO]->(m) WHERE NOT x:Voided } AS referrals_assigned
ORDER BY member_kind, member
