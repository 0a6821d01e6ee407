// Add words to the practice's vocabularies from an import's vocabularies.csv (graphsvc.store.terms adds
// them one by one; this is the batch form). Idempotent under the term_value constraint.
// $rows: [{vocabulary, value}]
UNWIND $rows AS row
MERGE (t:Term {vocabulary: row.vocabulary, value: row.value})
  ON CREATE SET t.added_on = date()
