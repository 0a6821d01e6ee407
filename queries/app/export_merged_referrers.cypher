// merged_referrers.csv: each merged referrer's id, name, the referrer kept and the day of the merge.
MATCH (m:MergedReferrer)
RETURN m.id AS id, m.name AS name, m.merged_into AS into, m.merged_on AS merged_on
ORDER BY id
