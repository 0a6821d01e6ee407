// Delete every node and relationship (constraints and indexes stay).
// Used by the test suite on the Neo4j it started itself; never by the app.
MATCH (n)
DETACH DELETE n
