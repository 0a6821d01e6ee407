// Store computed stage and metrics on Referrer nodes for analysts' Cypher.
// $rows: [{id, props: {stage, ...}}]; $analysed_at: when the analysis ran.
UNWIND $rows AS row
MATCH (r:Referrer {id: row.id})
SET r += row.props, r.analysed_at = $analysed_at
