// title: Worklist work in hand
// question: Which worklist rows has the practice acted on, who holds them, and what came of those done?
// note: one row per Task (the work done on a worklist row: assigned, snoozed, done or reopened). An open task
//    whose row's reason went is closed by the next `graphsvc analyze`; the lists themselves
//    (/worklists, GET /api/worklists/<name>) show only rows whose reason holds.
// param: status str = null -- only tasks with this status: open, done or closed (null: all)
// param: since date = 2000-01-01 -- only tasks done on or after this day (tasks not done always count)
// columns: worklist, status, referrer, name, holder, holder_name, snoozed_until, done_on, note, task
MATCH (t:Task)-[:ABOUT]->(r:Referrer)
WHERE ($status IS NULL OR t.status = $status) AND (t.done_on IS NULL OR t.done_on >= $since)
OPTIONAL MATCH (m:Member)-[:HOLDS]->(t)
RETURN t.worklist AS worklist, t.status AS status, r.id AS referrer, r.name AS name, m.id AS holder,
       m.name AS holder_name, t.snoozed_until AS snoozed_until, t.done_on AS done_on, t.note AS note, t.id AS task
ORDER BY worklist, status, name, task
