// clients.csv, in id order.
MATCH (c:Client)
RETURN c.id AS id, c.needs AS needs, c.population AS population,
       c.insurance AS insurance, c.schedule AS schedule
ORDER BY id
