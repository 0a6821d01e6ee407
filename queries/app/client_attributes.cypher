// One client's matching attributes (a pseudonymous id and no more), for the
// referral form's match when the referral is for an existing client.
MATCH (c:Client {id: $id})
RETURN c.id AS id, coalesce(c.needs, []) AS needs, c.population AS population,
       c.insurance AS insurance, c.schedule AS schedule
