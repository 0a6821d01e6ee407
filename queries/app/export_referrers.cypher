// referrers.csv, in id order; point_person_id is the first tenure's holder.
MATCH (r:Referrer)
OPTIONAL MATCH (r)-[t:POINT_PERSON]->(c:Clinician)
WITH r, t, c ORDER BY t.since
WITH r, head(collect(c.id)) AS first_point_person
RETURN r.id AS id, r.name AS name, r.kind AS kind, r.organization AS organization,
       first_point_person AS point_person_id, r.since AS since, r.npi AS npi
ORDER BY id
