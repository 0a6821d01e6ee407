"""Projection from Neo4j, write-back, the analysis CLI and JSON API, on the small fixture."""

from __future__ import annotations

import json
from datetime import date as d

from graphsvc.analysis import stage_counts
from graphsvc.config import AnalysisOptions
from graphsvc.live import InsightsCache, build
from graphsvc.store.projection import project
from tests.helpers import service_of, someone

AS_OF = "2024-12-31"


def test_projection_reads_every_node_and_event(small):
    G = project(small)
    kinds = {}
    for _, kind in G.nodes(data="kind"):
        kinds[kind] = kinds.get(kind, 0) + 1
    assert kinds == {"practice": 1, "clinician": 3, "staff": 2, "provider": 2, "referrer": 3}
    types = {}
    for _, _, t in G.edges(data="type"):
        types[t] = types.get(t, 0) + 1
    assert types == {"referral": 6, "introduction": 2, "contact": 3, "referral_out": 1}
    assert G.nodes["rf2"]["tenures"] == [(d(2023, 3, 1), d(2024, 1, 15), "cn1"), (d(2024, 1, 15), None, "cn2")]
    assert G.edges["rf1", "cn3", "r2"] == {
        "type": "referral", "date": d(2023, 5, 2), "addressed_to": "cn1", "pass_reason": "specialty",
        "needs": ("adhd", "anxiety"), "population": "child", "insurance": "medicaid", "schedule": "weekday_evening",
        "consent": "unknown", "statuses": {}}
    assert G.nodes["cn3"]["accepting_new"] is False and G.nodes["cn1"]["specialties"] == {"anxiety", "adhd"}


def test_stages_and_metrics_of_the_fixture(small):
    insights = build(small, AnalysisOptions(as_of=d(2024, 12, 31)))
    assert stage_counts(insights.histories) == {0: 0, 1: 2, 2: 0, 3: 1}
    rf1 = insights.referrer("rf1")
    assert (rf1["stage"], rf1["history"]) == (1, [{"stage": 1, "date": d(2023, 2, 1), "referral": "r1"}])
    m = rf1["metrics"]
    assert (m["referrals"], m["breadth"], m["concentration"], m["effective_breadth"], m["point_person_share"],
            m["reached"], m["passes"]["specialty"], m["last_contact"]) == (
        2, 2, 0.5, 2.0, 1.0, 2, 1, d(2023, 1, 20))
    rf3 = insights.referrer("rf3")
    assert (rf3["stage"], rf3["jumped"], rf3["days_to_stage_3"]) == (3, True, 0)


def test_analyze_writes_stages_back_for_cypher(cli, small):
    result = cli("analyze", "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[:5] == [
        "3 referrers, 6 referrals, as of 2024-12-31:",
        "  stage 0 · new                    0    0.0%",
        "  stage 1 · point person           2   66.7%",
        "  stage 2 · trying colleagues      0    0.0%",
        "  stage 3 · whole practice         1   33.3%",
    ]
    with small.session() as s:
        rows = s.run("MATCH (r:Referrer) RETURN r.id AS id, r.stage AS stage, r.jumped AS jumped, "
                     "r.passes_specialty AS passes, r.analysed_at IS NOT NULL AS stamped ORDER BY id").data()
    assert rows == [{"id": "rf1", "stage": 1, "jumped": False, "passes": 1, "stamped": True},
                    {"id": "rf2", "stage": 1, "jumped": False, "passes": 0, "stamped": True},
                    {"id": "rf3", "stage": 3, "jumped": True, "passes": 0, "stamped": True}]


def test_analyze_json_and_stage_command(cli, small):
    summary = json.loads(cli("analyze", "--as-of", AS_OF, "--json", "--no-write").output)
    assert (summary["stages"], summary["written_back"], summary["jumped"]) == (
        {"0": 0, "1": 2, "2": 0, "3": 1}, 0, 1)
    assert summary["monthly"][-1] == {"month": "2024-12", "stages": {"0": 0, "1": 2, "2": 0, "3": 1}}
    info = json.loads(cli("stage", "rf3", "--as-of", AS_OF, "--json").output)
    assert (info["stage"], info["history"]) == (3, [{"stage": 3, "date": "2024-04-01", "referral": "r5"}])
    result = cli("stage", "nope")
    assert (result.exit_code, result.output) == (1, "Error: unknown referrer 'nope'\n")


def test_analyze_as_of_leaves_out_what_came_later(cli, small):
    # On 2023-12-31 rf3 (since 2024-02-01) had not started, and rf1 and rf2 had sent 3 of the 6 referrals.
    text = cli("analyze", "--as-of", "2023-12-31", "--no-write").output
    assert text.splitlines() == [
        "2 referrers, 3 referrals, as of 2023-12-31:",
        "  stage 0 · new                    0    0.0%",
        "  stage 1 · point person           2  100.0%",
        "  stage 2 · trying colleagues      0    0.0%",
        "  stage 3 · whole practice         0    0.0%",
        "  jumped to stage 3: 0; stalled: 0; lapsed: 0",
        "  left out: 1 referrer whose relationship began after 2023-12-31",
    ]
    summary = json.loads(cli("analyze", "--as-of", "2023-12-31", "--no-write", "--json").output)
    assert (summary["referrers"], summary["referrals"], summary["not_started"]) == (2, 3, 1)
    assert summary["monthly"][-1] == {"month": "2023-12", "stages": summary["stages"]} == {
        "month": "2023-12", "stages": {"0": 0, "1": 2, "2": 0, "3": 0}}
    # Written back as of that day: rf3 gets the day but no stage (not a stale one from a later analysis).
    assert cli("analyze", "--as-of", AS_OF).exit_code == 0
    assert cli("analyze", "--as-of", "2023-12-31").output.splitlines()[-1].startswith(
        "Stored stage and metrics on 2 Referrer nodes")
    with small.session() as s:
        rows = s.run("MATCH (r:Referrer) RETURN r.id AS id, r.stage AS stage, r.referrals AS referrals, "
                     "toString(r.analysis_as_of) AS as_of ORDER BY id").data()
    assert rows == [{"id": "rf1", "stage": 1, "referrals": 2, "as_of": "2023-12-31"},
                    {"id": "rf2", "stage": 1, "referrals": 1, "as_of": "2023-12-31"},
                    {"id": "rf3", "stage": None, "referrals": None, "as_of": "2023-12-31"}]


def test_stage_as_of_a_day_before_a_handoff_and_later_referrals(cli, small):
    # rf2's handoff from cn1 to cn2 on 2024-01-15 and its referrals of 2024 had not happened yet.
    info = json.loads(cli("stage", "rf2", "--as-of", "2024-01-01", "--json").output)
    assert (info["stage"], info["referrals"], info["last_referral"], info["history"]) == (
        1, 1, "2023-06-20", [{"stage": 1, "date": "2023-06-20", "referral": "r3"}])
    assert info["point_person_history"] == [{"clinician": "cn1", "since": "2023-03-01", "until": None}]
    assert (info["metrics"]["point_person"], info["point_person_name"], info["metrics"]["trend"]) == (
        "cn1", "Ana Ruiz", {"last_12_months": 1, "previous_12_months": 0, "change": 1})
    result = cli("stage", "rf3", "--as-of", "2023-12-31")
    assert (result.exit_code, result.output) == (
        1, "Error: referrer 'rf3' had not started by 2023-12-31 (its relationship began on 2024-02-01)\n")


def test_api_referrer_and_404(small, client):
    body = client.get("/api/referrers/rf2").get_json()
    assert (body["stage"], body["metrics"]["point_person"], body["point_person_history"]) == (
        1, "cn2", [{"clinician": "cn1", "since": "2023-03-01", "until": "2024-01-15"},
                   {"clinician": "cn2", "since": "2024-01-15", "until": None}])
    missing = client.get("/api/referrers/nope")
    assert (missing.status_code, missing.get_json()) == (404, {"error": "unknown referrer 'nope'"})


def test_api_practice_summary_and_openapi(small, client):
    body = client.get("/api/practice/summary").get_json()
    assert (body["referrers"], body["referrals"], body["stages"]) == (3, 6, {"0": 0, "1": 2, "2": 0, "3": 1})
    assert body["clinicians"]["cn1"]["introductions_made"] == 2
    assert body["clinicians"]["cn3"]["referrals_via_introductions"] == 1
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"] == "3.1.0" and "/api/referrers/{referrer_id}" in spec["paths"]


def test_cache_refreshes_when_the_graph_changes(small):
    cache = InsightsCache(small, AnalysisOptions(as_of=d(2024, 12, 31)), check_seconds=0)
    first = cache.get()
    assert cache.get() is first  # nothing changed: no new projection
    service_of(small).record_referral({"id": "r7", "date": "2024-06-01", "referrer_id": "rf1", "client_id": "cl1",
                                       "addressed_to": "cn2"}, by=someone())
    second = cache.get()
    assert second is first and second.referrer("rf1")["stage"] == 2  # the write, applied in place
    assert (cache.full_builds, cache.incremental_updates) == (1, 1)
    assert cache.get(refresh=True) is first  # a forced rebuild runs in the background
    assert cache.wait_for_rebuild(timeout=60) and cache.served is not first and cache.full_builds == 2


def test_api_suggestions(small, client):
    body = client.get("/api/referrers/rf1/suggestions").get_json()
    assert [(s["member"], s["score"]) for s in body["suggestions"]] == [("cn2", 0.2662)]
    assert body["suggestions"][0]["reasons"] == [
        "has weekday evening openings, which 1 of its last 2 clients wanted",
        "1 referrer similar to this one refers to Ben Okafor"]
    bad = client.get("/api/referrers/rf1/suggestions?limit=0")
    assert (bad.status_code, bad.get_json()["error"]) == (
        400, "field 'limit': must be a whole number from 1 to 100 (got '0')")
    assert client.get("/api/referrers/nope/suggestions").status_code == 404


def test_api_match_suggests_a_pass(small, client):
    out = client.post("/api/match", json={"needs": ["adhd"], "population": "adolescent",
                                          "insurance": "bcbs", "addressed_to": "cn3"}).get_json()
    assert [(c["member"], c["fit"], c["accepting_new"]) for c in out["candidates"]] == [
        ("cn1", 1.0, True), ("cn3", 0.5, False), ("cn2", 0.2778, True)]  # cn2 sees adults only: after cn1
    assert (out["pass"]["member"], out["pass"]["reason"]) == ("cn1", "specialty")  # cn3 sees no adolescents
    assert out["addressed"]["gaps"] == ["population", "insurance", "not accepting new clients"]


def test_api_match_rejects_bad_input_naming_the_field(small, client):
    bad = client.post("/api/match", json={"needs": ["adhd"], "population": "childs"})
    assert bad.status_code == 400
    assert bad.get_json() == {
        "error": "field 'population': 'childs' is not on the practice's list of populations; did you mean child? "
                 "(a manager can add it under Settings, Vocabularies)",
        "problems": ["field 'population': 'childs' is not on the practice's list of populations; did you mean "
                     "child? (a manager can add it under Settings, Vocabularies)"],
        "did_you_mean": {"population": ["child"]},
        "unknown_values": [{"field": "population", "value": "childs", "vocabulary": "populations",
                            "did_you_mean": ["child"]}]}
    assert client.post("/api/match", data="not json").status_code == 400
    # (A staff member is now a valid addressee, the practice as a whole: tests/test_api.py.)
    unknown = client.post("/api/match", json={"needs": ["adhd"], "addressed_to": "nobody"})
    assert unknown.status_code == 404
    assert unknown.get_json()["error"].startswith("field 'addressed_to': 'nobody' is not a clinician")


def test_cli_suggest_match_and_evaluate(cli, small):
    out = json.loads(cli("suggest", "rf1", "--json").output)
    assert [s["member"] for s in out["suggestions"]] == ["cn2"]
    text = cli("match", "--needs", "adhd", "--population", "adolescent", "--insurance", "bcbs",
               "--addressed-to", "cn3").output
    assert "Pass to Ana Ruiz (reason: specialty):" in text and "  - Cleo Park does not take BCBS" in text
    result = cli("match", "--population", "kid")
    assert result.exit_code == 1 and "field 'population': 'kid' is not on the practice's list" in result.output
    # Two introductions were followed by a referral: cn3 to rf1 (then r2), st1 to rf2 (then r6).
    backtest = json.loads(cli("evaluate", "--json").output)
    assert (backtest["cases"], backtest["skipped"]) == (2, 0)


def test_openapi_document_is_valid_and_matches_the_app(small, app, client):
    from jsonschema import Draft202012Validator
    from openapi_spec_validator import validate

    from graphsvc.web.openapi import document

    spec = document()
    validate(spec)
    from graphsvc.analysis.worklists import WORKLISTS

    routes = {r.rule.replace("<", "{").replace(">", "}") for r in app.url_map.iter_rules()
              if r.rule.startswith("/api/") and r.rule != "/api/openapi.json"}
    # The worklists are documented one path per list (each its own filters).
    routes = {p for route in routes for p in ([route.replace("{name}", n) for n in WORKLISTS]
                                               if "{name}" in route else [route])}
    assert routes == set(spec["paths"])
    listing = spec["paths"]["/api/worklists/lapsed"]["get"]["responses"]["200"]
    Draft202012Validator(listing["content"]["application/json"]["schema"]).validate(
        client.get("/api/worklists/lapsed").get_json())
    today = spec["paths"]["/api/today"]["get"]["responses"]["200"]
    Draft202012Validator(today["content"]["application/json"]["schema"]).validate(client.get("/api/today").get_json())
    referrer = spec["paths"]["/api/referrers/{referrer_id}"]["get"]["responses"]["200"]
    Draft202012Validator(referrer["content"]["application/json"]["schema"]).validate(
        client.get("/api/referrers/rf2").get_json())
    suggestions = spec["paths"]["/api/referrers/{referrer_id}/suggestions"]["get"]["responses"]["200"]
    Draft202012Validator(suggestions["content"]["application/json"]["schema"]).validate(
        client.get("/api/referrers/rf1/suggestions").get_json())
