// The change feed: stamp the referrers a write changed with the graph version
// that write produced (bump_version), in the write's own transaction. A live
// analysis holding version v re-reads just the referrers stamped after v
// (changes_since). Stamps only grow: writes take turns on the Practice lock.
UNWIND $ids AS id
MATCH (r:Referrer {id: id})
SET r.changed_in = $version
