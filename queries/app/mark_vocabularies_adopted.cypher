// The words in use became the vocabularies (graphsvc.store.terms.adopt_values_in_use): not again.
MERGE (p:Practice {id: $practice_id})
SET p.vocabularies_adopted = coalesce(p.vocabularies_adopted, $day)
