// Where a merged referrer's id leads: the referrer its record was merged into
// (graphsvc.store.reads.merged_into), or no row.
MATCH (m:MergedReferrer {id: $id})
RETURN m.merged_into AS into, m.merged_on AS merged_on
