// Whether an event of kind $label ('Referral', 'Introduction', 'Contact',
// 'ReferralOut') already has id $id.
RETURN CASE $label
  WHEN 'Referral' THEN EXISTS { (:Referral {id: $id}) }
  WHEN 'Introduction' THEN EXISTS { (:Introduction {id: $id}) }
  WHEN 'Contact' THEN EXISTS { (:Contact {id: $id}) }
  WHEN 'ReferralOut' THEN EXISTS { (:ReferralOut {id: $id}) }
END AS taken
