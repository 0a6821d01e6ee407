// Store the suggestion weights `graphsvc evaluate --tune` learned from this
// practice's history, with when, on how many cases and how they did on the
// validation cases ($validation: JSON text). In the same transaction, a bulk
// change (as mark_bulk_change): every live analysis rebuilds with them.
MERGE (p:Practice {id: $practice_id})
SET p._lock = true
REMOVE p._lock
WITH p
SET p.suggestion_weights = $weights,
    p.suggestion_decay = $decay,
    p.weights_tuned_at = datetime(),
    p.weights_cut = $cut,
    p.weights_cases_learn = $cases_learn,
    p.weights_cases_validate = $cases_validate,
    p.weights_kept_defaults = $kept_defaults,
    p.weights_why = $why,
    p.weights_validation = $validation,
    p.version = coalesce(p.version, 0) + 1, p.changed_at = datetime(),
    p.instance = coalesce(p.instance, randomUUID())
WITH p
SET p.bulk_version = p.version
RETURN p.version AS version
