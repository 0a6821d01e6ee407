// Whether this database's vocabularies were made (from the words in use, once); see mark_vocabularies_adopted.
MATCH (p:Practice {id: $practice_id})
RETURN p.vocabularies_adopted IS NOT NULL AS adopted
