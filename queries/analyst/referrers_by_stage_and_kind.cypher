// title: Referrers by stage and kind
// question: How many referrers of each kind (pediatricians, clergy, ...) are in each stage of the relationship?
// needs: analysis
// note: reads the stage `graphsvc analyze` writes back onto Referrer nodes; referrers never analysed are left out.
// param: kinds list[str] = null -- only referrers of these kinds, comma-separated (null: every kind)
// columns: stage, stage_name, kind, referrers
MATCH (r:Referrer)
WHERE r.stage IS NOT NULL AND ($kinds IS NULL OR r.kind IN $kinds)
RETURN r.stage AS stage,
       ['new', 'point person', 'trying colleagues', 'whole practice'][r.stage] AS stage_name,
       r.kind AS kind, count(*) AS referrers
ORDER BY stage, kind
