// Reassign a referral to clinician $to, recording why ($reason; null when it
// goes back to the clinician it was addressed to).
MATCH (x:Referral {id: $id})
MATCH (to:Clinician {id: $to})
OPTIONAL MATCH (x)-[old:ASSIGNED_TO]->()
DELETE old
WITH DISTINCT x, to
CREATE (x)-[:ASSIGNED_TO]->(to)
SET x.pass_reason = $reason
