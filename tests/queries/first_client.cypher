// Benchmarks: a client id to write referrals for (bench_live).
MATCH (c:Client)
RETURN c.id AS id ORDER BY c.id LIMIT 1
