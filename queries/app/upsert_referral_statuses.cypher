// Record where referrals stood from a day on: one property per status on the
// Referral (contacted_on, scheduled_on, first_visit_on, declined_on, no_show_on,
// referred_out_on). graphsvc.rules.status_problem has checked the order.
// $rows: [{referral_id, status, date}]
UNWIND $rows AS row
MATCH (x:Referral {id: row.referral_id})
SET x.contacted_on = CASE row.status WHEN 'contacted' THEN row.date ELSE x.contacted_on END,
    x.scheduled_on = CASE row.status WHEN 'scheduled' THEN row.date ELSE x.scheduled_on END,
    x.first_visit_on = CASE row.status WHEN 'first_visit' THEN row.date ELSE x.first_visit_on END,
    x.declined_on = CASE row.status WHEN 'declined' THEN row.date ELSE x.declined_on END,
    x.no_show_on = CASE row.status WHEN 'no_show' THEN row.date ELSE x.no_show_on END,
    x.referred_out_on = CASE row.status WHEN 'referred_out' THEN row.date ELSE x.referred_out_on END
