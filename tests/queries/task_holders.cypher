// Each task and how many members hold it (at most one: an assignment replaces the last).
MATCH (t:Task)
RETURN t.id AS id, COUNT { (:Member)-[:HOLDS]->(t) } AS holders
ORDER BY id
