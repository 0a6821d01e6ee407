// Close the open tasks whose rows' reasons went ($ids: their ids), as `graphsvc analyze`
// finds them; a task done meanwhile is left as it is. Returns each task closed and its
// referrer (the change feed stamps it).
UNWIND $ids AS id
MATCH (t:Task {id: id})-[:ABOUT]->(r:Referrer)
WHERE t.status = 'open'
SET t.status = 'closed'
RETURN t.id AS id, r.id AS referrer
