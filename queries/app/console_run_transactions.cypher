// The server's transactions of one console run (graphsvc.store.readonly): $key, the metadata key, is $tag.
SHOW TRANSACTIONS YIELD transactionId, metaData
WHERE metaData[$key] = $tag
RETURN transactionId
