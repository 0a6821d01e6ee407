"""The query console (``/console``): analysts' and managers', read-only, bounded, audited."""

from __future__ import annotations

import csv
import html
import io
import json
import re

from graphsvc.accounts import ROLES
from graphsvc.store.library import get as get_query
from graphsvc.store.readonly import json_text, run_readonly
from tests.conftest import csrf_token_of


def run(client, **form):
    token = csrf_token_of(client.get("/console").get_data(as_text=True))
    return client.post("/console", data={"csrf_token": token, "do": "run", **form})


def cells(page) -> list[list[str]]:
    body = page.get_data(as_text=True).split('<table class="answer">')[1].split("</table>")[0]
    body = body.split("<tbody>")[1]
    return [[html.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S)]
            for tr in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def nodes_and_relationships(graph) -> tuple[int, int]:
    counts = graph.read_tx(lambda tx: tx.run("MATCH (n) WITH count(n) AS n MATCH ()-[r]->() RETURN n, count(r) AS r")
                           .single())
    return counts["n"], counts["r"]


def test_only_analysts_and_managers_use_the_console(small, client_as, anon):
    for role in ROLES:
        page = client_as(role).get("/console")
        if role in ("manager", "analyst"):
            assert page.status_code == 200 and "<h1>Query console</h1>" in page.get_data(as_text=True), role
        else:
            assert page.status_code == 403, role
            assert (f"Only a manager or an analyst may run queries in the console; you are signed in as {role}."
                    in html.unescape(page.get_data(as_text=True)))
    assert anon.get("/console").headers["Location"] == "/login?next=/console"


def test_a_saved_query_shows_typed_inputs_and_its_answer(small, graph, client_as):
    analyst = client_as("analyst")
    page = analyst.get("/console?query=new_referrers").get_data(as_text=True)
    assert '<input type="number" id="param-days" name="param.days" value="90">' in page
    assert '<input type="date" id="param-as_of" name="param.as_of" value="">' in page  # empty: today
    answer = run(analyst, query="new_referrers", **{"param.days": "600", "param.as_of": "2024-12-31"})
    assert answer.status_code == 200
    query = get_query("new_referrers")
    expected = run_readonly(graph, query.cypher, query.bind({"days": "600", "as_of": "2024-12-31"}))
    assert expected["rows"]  # rf2 and rf3 first referred within 600 days of 2024-12-31
    assert cells(answer) == [["" if v is None else str(v) for v in row] for row in expected["rows"]]
    bad = run(analyst, query="new_referrers", **{"param.days": "many"})
    assert bad.status_code == 400 and "days" in html.unescape(bad.get_data(as_text=True))
    unknown = analyst.get("/console?query=stalld")
    assert unknown.status_code == 404 and "stalled_referrers_by_point_person" in unknown.get_data(as_text=True)


def test_cypher_typed_runs_and_draws_what_it_returns(small, client, web_accounts):
    answer = run(client, cypher="MATCH (r:Referrer) RETURN r.id AS id, r.name AS name ORDER BY id")
    assert cells(answer) == [["rf1", "Dr. Hale"], ["rf2", "Ms. Vega"], ["rf3", "Rev. Stone"]]
    assert "3 rows." in answer.get_data(as_text=True) and "data-network" not in answer.get_data(as_text=True)
    entry = web_accounts.entries(limit=1)[0]
    assert (entry["action"], entry["user"], entry["detail"]) == (
        "query", "manager", {"cypher": "MATCH (r:Referrer) RETURN r.id AS id, r.name AS name ORDER BY id",
                             "rows": 3, "truncated": False})
    path = run(client, cypher="MATCH p = (:Referrer {id: 'rf1'})-[:SENT]->(:Referral {id: 'r1'}) RETURN p")
    picture = json.loads(html.unescape(re.search(r'data-network="([^"]*)"', path.get_data(as_text=True)).group(1)))
    assert sorted(n["label"] for n in picture["nodes"]) == ["Dr. Hale", "r1"]
    assert [e["label"] for e in picture["edges"]] == ["SENT"]


def test_writes_are_refused_and_change_nothing(small, graph, client, web_accounts):
    before = nodes_and_relationships(graph)
    for cypher, reason in (("CREATE (n:Referrer {id: 'x'}) RETURN n", "writes"),
                           ("MATCH (n) DETACH DELETE n", "writes"),
                           ("LOAD CSV FROM 'file:///etc/passwd' AS line RETURN line", "load_csv"),
                           ("CREATE INDEX x FOR (n:Referrer) ON (n.name)", "schema")):
        page = run(client, cypher=cypher)
        assert page.status_code == 422, cypher
        assert '<p class="notice" role="alert">' in page.get_data(as_text=True)
        assert web_accounts.entries(limit=1)[0]["detail"] == {"cypher": cypher, "refused": reason}
    assert nodes_and_relationships(graph) == before


def test_the_limits_say_when_they_cut_or_stop(small, app, client):
    app.config["CONSOLE_MAX_ROWS"] = 2
    page = run(client, cypher="UNWIND range(1, 5) AS n RETURN n")
    assert cells(page) == [["1"], ["2"]] and "cut at 2</b>, there are more" in page.get_data(as_text=True)
    app.config["CONSOLE_TIMEOUT"] = 1
    stopped = run(client, cypher="UNWIND range(1, 100000000000) AS x WITH x WHERE x < 0 RETURN count(x)")
    assert stopped.status_code == 422
    assert "the query was stopped after 1 s" in html.unescape(stopped.get_data(as_text=True))


def test_the_answer_downloads_as_formula_safe_csv(small, client, web_accounts):
    answer = run(client, cypher="RETURN '=HYPERLINK(1)' AS f, [1, 2] AS xs", do="csv")
    assert answer.mimetype == "text/csv"
    assert answer.headers["Content-Disposition"] == 'attachment; filename="query.csv"'
    assert list(csv.reader(io.StringIO(answer.get_data(as_text=True)))) == [["f", "xs"], ["'=HYPERLINK(1)", "[1,2]"]]
    assert json_text([1, 2]) == "[1,2]"
    actions = [e["action"] for e in web_accounts.entries(limit=2)]
    assert actions == ["download query.csv", "query"]


def test_a_form_without_its_csrf_token_is_refused(small, client):
    page = client.post("/console", data={"cypher": "RETURN 1"})
    assert page.status_code == 400 and "CSRF" in page.get_data(as_text=True)
