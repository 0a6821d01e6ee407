// Create a new ReferralOut with just its id ($id); upsert_referrals_out fills in
// its fields and edges next, in the same transaction (graphsvc.service).
// CREATE, not MERGE: under the uniqueness
// constraint on ReferralOut.id a taken id (even one taken by a transaction that
// commits while this one waits) fails with ConstraintValidationFailed, which
// the write API reports as "field 'id': ReferralOut '...' already exists".
CREATE (:ReferralOut {id: $id})
