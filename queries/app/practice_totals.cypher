// Headline counts for the overview page, and the filtered referrer count for paging.
RETURN COUNT { (:Clinician) } AS clinicians,
       COUNT { (:Staff) } AS staff,
       COUNT { (:Referrer) } AS referrers,
       COUNT { (:Referral) } AS referrals,
       COUNT { (:Referral)-[:ADDRESSED_TO]->(:Practice) } AS to_practice,
       COUNT { (:ReferralOut) } AS referrals_out,
       COUNT { (r:Referrer)
               WHERE ($kind IS NULL OR r.kind = $kind)
                 AND ($search IS NULL
                      OR toLower(r.name) CONTAINS toLower($search)
                      OR toLower(r.organization) CONTAINS toLower($search)
                      OR r.id = $search) } AS matching
