// The clients a referrer sent (a pseudonymous id and matching attributes, no more), the most recently
// referred first, for the forms' client pick list: a person picks a client by what it needs.
MATCH (:Referrer {id: $id})-[:SENT]->(x)-[:FOR]->(c:Client)
WHERE (x:Referral OR x:ReferralOut) AND NOT x:Voided
WITH c, max(x.date) AS last
RETURN c.id AS id, coalesce(c.needs, []) AS needs, c.population AS population, c.insurance AS insurance,
       toString(last) AS last
ORDER BY last DESC, id
LIMIT $limit
