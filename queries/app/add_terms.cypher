// Add words to the practice's vocabularies. $rows: [{vocabulary, value}]; $added_on: the day.
// Idempotent (MERGE under the term_value constraint); `added` says which words were new.
UNWIND $rows AS row
OPTIONAL MATCH (old:Term {vocabulary: row.vocabulary, value: row.value})
WITH row, old
MERGE (t:Term {vocabulary: row.vocabulary, value: row.value})
  ON CREATE SET t.added_on = $added_on
RETURN row.vocabulary AS vocabulary, row.value AS value, old IS NULL AS added
