// The referrers whose referrals are for client $id: a client's attributes
// travel with those referrals in the analysed graph, so a change to the client
// changes them (stamp_referrers).
MATCH (:Client {id: $id})<-[:FOR]-(:Referral)<-[:SENT]-(r:Referrer)
RETURN DISTINCT r.id AS id
