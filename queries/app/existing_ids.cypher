// Which of $ids already name a member, referrer, client or outside provider.
// Used to check references an import or a write makes to nodes it does not
// itself carry.
UNWIND $ids AS id
OPTIONAL MATCH (m:Member {id: id})
OPTIONAL MATCH (r:Referrer {id: id})
OPTIONAL MATCH (c:Client {id: id})
OPTIONAL MATCH (e:ExternalProvider {id: id})
WITH id, m, r, c, e
WHERE m IS NOT NULL OR r IS NOT NULL OR c IS NOT NULL OR e IS NOT NULL
RETURN id,
       CASE WHEN m:Clinician THEN 'clinician' WHEN m:Staff THEN 'staff' END AS member,
       r IS NOT NULL AS referrer,
       c IS NOT NULL AS client,
       e IS NOT NULL AS provider,
       CASE WHEN e IS NULL THEN null ELSE e.niches END AS niches
