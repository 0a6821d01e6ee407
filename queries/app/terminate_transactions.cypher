// Terminate these transactions ($ids): a console run that was cut off (graphsvc.store.readonly).
TERMINATE TRANSACTIONS $ids
