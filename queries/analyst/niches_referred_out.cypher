// title: Niches referred out (coverage gaps)
// question: For which niches does the practice send clients to outside providers, and does any clinician list them?
// param: since date = null -- only referrals out dated on or after this day (null: from the start)
// columns: niche, referrals_out, referrers, providers, last_referred_out, clinicians_covering
MATCH (r:Referrer)-[:SENT]->(o:ReferralOut)-[:TO]->(e:ExternalProvider)
WHERE ($since IS NULL OR o.date >= $since) AND NOT o:Voided
WITH o.niche AS niche, count(o) AS referrals_out, count(DISTINCT r) AS referrers,
     collect(DISTINCT e.name) AS providers, max(o.date) AS last_referred_out
RETURN niche, referrals_out, referrers, providers, last_referred_out,
       COUNT { MATCH (c:Clinician) WHERE niche IN c.specialties } AS clinicians_covering
ORDER BY referrals_out DESC, niche
