// A write that every live analysis must take in full (a merge removes a referrer, which the
// change feed, referrer by referrer, cannot say): the version this write took becomes the
// bulk version, so each live analysis rebuilds (graphsvc.live).
MATCH (p:Practice {id: $practice_id})
SET p.bulk_version = p.version
