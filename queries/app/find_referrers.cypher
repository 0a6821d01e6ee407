// Referrers a person may mean by $text: the one with that id, or those with
// that name (any case, surrounding spaces ignored). For `graphsvc stage NAME`.
MATCH (r:Referrer)
WHERE r.id = $text OR toLower(trim(r.name)) = toLower(trim($text))
RETURN r.id AS id, r.name AS name, r.organization AS organization
ORDER BY r.id
