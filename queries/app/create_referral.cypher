// Create a new Referral with just its id ($id); upsert_referrals fills in
// its fields and edges next, in the same transaction (graphsvc.service).
// CREATE, not MERGE: under the uniqueness
// constraint on Referral.id a taken id (even one taken by a transaction that
// commits while this one waits) fails with ConstraintValidationFailed, which
// the write API reports as "field 'id': Referral '...' already exists".
CREATE (:Referral {id: $id})
