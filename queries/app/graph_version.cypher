// The change counter that cached analysis compares against.
OPTIONAL MATCH (p:Practice {id: $practice_id})
RETURN coalesce(p.version, 0) AS version
