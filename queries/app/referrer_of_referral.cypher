// The referrer that sent referral $id (none if the referral is unknown).
// The pass form finds the referral through it (one index seek, then that referrer's events).
MATCH (r:Referrer)-[:SENT]->(:Referral {id: $id})
RETURN r.id AS referrer_id
