// The referrer that sent referral $id (none if the referral is unknown).
// record_pass stores that referrer's fresh analysis with the pass.
MATCH (r:Referrer)-[:SENT]->(:Referral {id: $id})
RETURN r.id AS referrer_id
