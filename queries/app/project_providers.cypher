// Projection: the trusted outside providers.
MATCH (e:ExternalProvider)
RETURN e.id AS id, e.name AS name, e.niches AS niches
