// How many nodes carry each label and how many relationships of each type, and the Practice node's
// change counter: what a backup's manifest records (graphsvc.store.exports.graph_state), read in the
// export's locked transaction, and what a restore compares the restored graph with.
CALL () {
  MATCH (n)
  UNWIND labels(n) AS label
  WITH label, count(*) AS n ORDER BY label
  RETURN collect([label, n]) AS labels
}
CALL () {
  MATCH ()-[r]->()
  WITH type(r) AS type, count(*) AS n ORDER BY type
  RETURN collect([type, n]) AS relationships
}
OPTIONAL MATCH (p:Practice {id: $practice_id})
RETURN labels, relationships, p.version AS version, p.bulk_version AS bulk_version, p.instance AS instance
