// The words managers added to the practice's vocabularies (graphsvc.vocabularies: the built-in words are
// the code's own and are not stored). One row per word.
MATCH (t:Term)
RETURN t.vocabulary AS vocabulary, t.value AS value
ORDER BY vocabulary, value
