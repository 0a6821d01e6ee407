// Create a new Client with just its id ($id); upsert_clients fills in its fields next,
// in the same transaction (an add through save_* or a referral's new client,
// graphsvc/store/writes.py). CREATE, not MERGE: under the uniqueness
// constraint a taken id fails with ConstraintValidationFailed, so an add
// never silently updates a record that already has that id.
CREATE (:Client {id: $id})
