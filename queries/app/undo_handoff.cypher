// Undo referrer $id's last handoff (a mistake): its latest point-person tenure goes and the one before
// is the current one again (its `until` cleared). The caller holds the referrer's lock and has checked
// that there are two tenures at least; no row otherwise.
MATCH (r:Referrer {id: $id})-[t:POINT_PERSON]->(c:Clinician)
WITH t, c ORDER BY t.since DESC LIMIT 2
WITH collect(t) AS tenures, collect(c.id) AS holders
WHERE size(tenures) = 2
WITH tenures[0] AS latest, tenures[1] AS previous, holders, toString(tenures[0].since) AS since
SET previous.until = null
DELETE latest
RETURN holders[0] AS undone, holders[1] AS point_person_id, since
