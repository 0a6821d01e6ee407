// Create a new Staff with just its id ($id); upsert_staff fills in its fields next,
// in the same transaction (an add, or a referral's new client: graphsvc.service).
// CREATE, not MERGE: under the uniqueness
// constraint a taken id fails with ConstraintValidationFailed, so an add
// never silently updates a record that already has that id.
CREATE (:Member:Staff:Party {id: $id})
