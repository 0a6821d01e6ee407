// The change feed, read by a live analysis holding version $since: the current
// version, the last bulk change (an import: rebuild in full if after $since),
// this database's instance id (a snapshot from another database never applies)
// and the referrers changed after $since (range seek on referrer_changed_in).
OPTIONAL MATCH (p:Practice {id: $practice_id})
WITH p
OPTIONAL MATCH (r:Referrer) WHERE r.changed_in > $since
RETURN coalesce(p.version, 0) AS version, coalesce(p.bulk_version, 0) AS bulk_version,
       p.instance AS instance, collect(r.id) AS referrers
