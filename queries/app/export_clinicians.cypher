// clinicians.csv, in id order.
MATCH (c:Clinician)
RETURN c.id AS id, c.name AS name, c.specialties AS specialties, c.populations AS populations,
       c.insurances AS insurances, c.schedule AS schedule, c.accepting_new AS accepting_new,
       c.npi AS npi
ORDER BY id
