// The suggestion weights stored by `graphsvc evaluate --tune`, if any
// (no row, or nulls: the defaults are in force).
MATCH (p:Practice {id: $practice_id})
WHERE p.suggestion_weights IS NOT NULL
RETURN p.suggestion_weights AS weights, p.suggestion_decay AS decay, p.weights_tuned_at AS tuned_at,
       p.weights_cut AS cut, p.weights_cases_learn AS cases_learn,
       p.weights_cases_validate AS cases_validate, p.weights_kept_defaults AS kept_defaults,
       p.weights_why AS why, p.weights_validation AS validation
