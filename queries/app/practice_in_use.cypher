// Whether the practice holds anything yet: a first import into an empty practice adopts the words it
// brings into the vocabularies.
RETURN EXISTS { MATCH (:Party) } OR EXISTS { MATCH (:Client) } AS in_use
