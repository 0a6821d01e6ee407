// vocabularies.csv: the words managers added to the practice's vocabularies (the built-in ones are the
// code's), so that an export carries a word no record uses yet.
MATCH (t:Term)
RETURN t.vocabulary AS vocabulary, t.value AS value
ORDER BY vocabulary, value
