// Every referrer's id, name and organization (to suggest close names for a typo).
MATCH (r:Referrer)
RETURN r.id AS id, r.name AS name, r.organization AS organization
ORDER BY r.id
