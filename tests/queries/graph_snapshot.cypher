// Every node and relationship with labels, types and properties. The test
// suite compares snapshots to prove that a refused write changed nothing.
CALL () {
  MATCH (n)
  RETURN collect({labels: labels(n), props: properties(n)}) AS nodes
}
CALL () {
  MATCH (a)-[r]->(b)
  RETURN collect({type: type(r), start: a.id, end: b.id, props: properties(r)}) AS relationships
}
RETURN nodes, relationships
