// referral_statuses.csv: one row per status a referral reached, by referral id, then in the statuses' order.
MATCH (x:Referral)
UNWIND [['contacted', x.contacted_on, 1], ['scheduled', x.scheduled_on, 2], ['first_visit', x.first_visit_on, 3],
        ['declined', x.declined_on, 4], ['no_show', x.no_show_on, 5], ['referred_out', x.referred_out_on, 6]] AS s
WITH x, s WHERE s[1] IS NOT NULL
RETURN x.id AS referral_id, s[0] AS status, s[1] AS date
ORDER BY referral_id, s[2]
