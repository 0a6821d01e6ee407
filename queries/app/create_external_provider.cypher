// Create a new ExternalProvider with just its id ($id); upsert_external_providers fills in its fields next,
// in the same transaction (an add, or a referral's new client: graphsvc.service).
// CREATE, not MERGE: under the uniqueness
// constraint a taken id fails with ConstraintValidationFailed, so an add
// never silently updates a record that already has that id.
CREATE (:ExternalProvider:Party {id: $id})
