// The Practice node as graphsvc's schema leaves it (queries/app/schema.cypher, its last statement): the
// tests' graph fixture makes it again after each wipe, instead of running the whole schema again (its
// constraints and indexes outlive a wipe).
MERGE (p:Practice {id: 'practice'}) ON CREATE SET p.name = 'The Practice'
SET p.instance = coalesce(p.instance, randomUUID())
