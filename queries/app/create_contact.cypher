// Create a new Contact with just its id ($id); upsert_contacts fills in
// its fields and edges next, in the same transaction (graphsvc.service).
// CREATE, not MERGE: under the uniqueness
// constraint on Contact.id a taken id (even one taken by a transaction that
// commits while this one waits) fails with ConstraintValidationFailed, which
// the write API reports as "field 'id': Contact '...' already exists".
CREATE (:Contact {id: $id})
