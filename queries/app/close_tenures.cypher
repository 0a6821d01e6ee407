// Set each point-person tenure's `until` to the next tenure's `since`; the
// current tenure has no `until`. $referrer_ids: the referrers to refresh.
UNWIND $referrer_ids AS referrer_id
MATCH (r:Referrer {id: referrer_id})-[t:POINT_PERSON]->()
WITH r, t ORDER BY t.since
WITH r, collect(t) AS tenures
UNWIND range(0, size(tenures) - 1) AS i
WITH tenures[i] AS t, CASE WHEN i + 1 < size(tenures) THEN tenures[i + 1].since END AS until
SET t.until = until
