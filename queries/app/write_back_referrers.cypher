// Store computed stage and metrics on Referrer nodes for analysts' Cypher.
// $rows: [{id, props: {stage, ...}}]; $analysed_at: when the analysis ran;
// $analysis_window, $analysis_stall_days, $analysis_lapse_days, $analysis_as_of:
// the options it ran with (as_of: the day the practice was analysed as of; events after it did not count).
UNWIND $rows AS row
MATCH (r:Referrer {id: row.id})
SET r += row.props, r.analysed_at = $analysed_at,
    r.analysis_window = $analysis_window, r.analysis_stall_days = $analysis_stall_days,
    r.analysis_lapse_days = $analysis_lapse_days, r.analysis_as_of = $analysis_as_of
