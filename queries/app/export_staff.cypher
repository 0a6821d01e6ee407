// staff.csv, in id order.
MATCH (s:Staff)
RETURN s.id AS id, s.name AS name, s.role AS role, s.npi AS npi
ORDER BY id
