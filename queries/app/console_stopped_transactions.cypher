// The console's transactions that were stopped but still run on the server (graphsvc.store.readonly):
// Neo4j cannot interrupt one long expression. $key: the metadata key every console run carries.
SHOW TRANSACTIONS YIELD status, metaData
WHERE metaData[$key] = 'console' AND status STARTS WITH 'Terminated'
RETURN count(*) AS n
