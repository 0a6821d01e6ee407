// The first $n clients by id (a benchmark's writes pick from them).
MATCH (c:Client)
RETURN c.id AS id
ORDER BY id
LIMIT $n
