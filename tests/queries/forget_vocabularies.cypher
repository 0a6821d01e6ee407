// A database as graphsvc left it before it kept vocabularies: no Term nodes, the Practice not marked.
MATCH (p:Practice) REMOVE p.vocabularies_adopted
WITH count(*) AS practices
MATCH (t:Term) DETACH DELETE t
