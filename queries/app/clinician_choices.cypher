// Every clinician's id and name, by name: the point-person filter of the
// overview page (graphsvc.store.reads.clinician_choices).
MATCH (c:Clinician)
RETURN c.id AS id, c.name AS name
ORDER BY toLower(c.name), c.id
