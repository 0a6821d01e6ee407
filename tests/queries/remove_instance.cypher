// Tests: make the Practice node look as it did before instance ids (graphsvc.live).
MATCH (p:Practice) REMOVE p.instance
