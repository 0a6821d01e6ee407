// Create a new Client with just its id ($id); upsert_clients fills in its fields next,
// in the same transaction (an add, or a referral's new client: graphsvc.service).
// CREATE, not MERGE: under the uniqueness
// constraint a taken id fails with ConstraintValidationFailed, so an add
// never silently updates a record that already has that id.
CREATE (:Client {id: $id})
