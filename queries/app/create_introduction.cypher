// Create a new Introduction with just its id ($id); upsert_introductions fills in
// its fields and edges next, in the same transaction (graphsvc.service).
// CREATE, not MERGE: under the uniqueness
// constraint on Introduction.id a taken id (even one taken by a transaction that
// commits while this one waits) fails with ConstraintValidationFailed, which
// the write API reports as "field 'id': Introduction '...' already exists".
CREATE (:Introduction {id: $id})
