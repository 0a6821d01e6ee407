// Every stored vocabulary word, with the day it was added.
MATCH (t:Term) RETURN t.vocabulary AS vocabulary, t.value AS value, toString(t.added_on) AS added_on
ORDER BY vocabulary, value
