// Projection: every practice member with its matching attributes.
MATCH (m:Member)
RETURN m.id AS id, CASE WHEN m:Clinician THEN 'clinician' ELSE 'staff' END AS kind,
       m.name AS name, m.role AS role, m.specialties AS specialties, m.populations AS populations,
       m.insurances AS insurances, m.schedule AS schedule, m.accepting_new AS accepting_new,
       m.npi AS npi
