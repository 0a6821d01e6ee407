// external_providers.csv, in id order.
MATCH (e:ExternalProvider)
RETURN e.id AS id, e.name AS name, e.niches AS niches
ORDER BY id
