"""The JSON API and the CLI commands that share its request parsing (match, suggest), on the small fixture.

Fixture clinicians: cn1 Ana Ruiz (anxiety, ADHD; children and adolescents;
Medicaid, BCBS; weekday day and evening), cn2 Ben Okafor (trauma,
depression; adults only; BCBS, Aetna; weekday evening, weekend), cn3 Cleo
Park (autism, ADHD; children; Medicaid; weekday day; not accepting new
clients). Outside providers: ep1 Riverside (inpatient eating disorders, used
once), ep2 County Forensic Services (forensic evaluation, neuropsych testing).
"""

from __future__ import annotations

import json
import os
from datetime import UTC

import pytest

from graphsvc.inputs import MatchRequest, SuggestionsQuery
from graphsvc.limits import NOTHING_TO_MATCH


def match(client, **body):
    response = client.post("/api/match", json=body)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def ranked(out):
    return [(c["member"], c["fit"], c["eligible"]) for c in out["candidates"]]


# -- match ---------------------------------------------------------------------


def test_adolescent_client_addressed_to_an_adults_only_clinician_is_passed(small, client):
    # Ben Okafor fits best on paper (trauma, Aetna, weekends) but sees adults only.
    out = match(client, needs=["trauma"], population="adolescent", insurance="aetna", schedule="weekend",
                addressed_to="cn2")
    assert ranked(out) == [("cn1", 0.2, True), ("cn2", 0.8, False), ("cn3", 0.0, False)]
    assert (out["pass"]["member"], out["pass"]["reason"], out["pass"]["why"]) == ("cn1", "specialty", [
        "Ben Okafor does not see adolescents", "Ana Ruiz sees adolescents", "but Ana Ruiz does not cover trauma",
        "but Ana Ruiz does not take Aetna", "but Ana Ruiz has no weekend openings"])
    assert out["verdict"] == "Pass to Ana Ruiz (reason: specialty): Ben Okafor does not see adolescents."
    assert (out["no_eligible_clinician"], out["uncovered_needs"], out["external_providers"], out["unknown_needs"]) == (
        False, ["trauma"], [], [])


def test_addressed_clinician_not_accepting_new_clients_is_passed(small, client):
    out = match(client, needs=["adhd"], population="child", insurance="medicaid", schedule="weekday_day",
                addressed_to="cn3")
    assert ranked(out) == [("cn1", 1.0, True), ("cn3", 1.0, False), ("cn2", 0.0, False)]
    assert (out["pass"]["member"], out["pass"]["reason"], out["verdict"]) == (
        "cn1", "other", "Pass to Ana Ruiz (reason: other): Cleo Park is not accepting new clients.")


def test_nobody_sees_the_population_says_so_plainly_with_outside_providers(small, client):
    out = match(client, needs=["inpatient_eating_disorders"], population="older_adult", addressed_to="cn2")
    assert (out["no_eligible_clinician"], out["pass"], out["addressed"]["eligible"]) == (True, None, False)
    assert out["verdict"] == ("No clinician sees older adults: refer out to Riverside Eating Disorders Center "
                              "for inpatient eating disorders.")
    assert out["external_providers"] == [{"provider": "ep1", "name": "Riverside Eating Disorders Center",
                                          "niche": "inpatient_eating_disorders", "referred_before": 1}]
    out = match(client, population="couples")
    assert (out["no_eligible_clinician"], out["external_providers"], out["verdict"]) == (
        True, [], "No clinician sees couples, and no outside provider is known for this client.")


def test_unknown_need_gets_did_you_mean(small, client):
    out = match(client, needs=["adhdd"], population="child")
    assert out["unknown_needs"] == [{"need": "adhdd", "did_you_mean": ["adhd"]}]
    assert (ranked(out)[0], out["verdict"]) == (("cn1", 1.0, True), "Best match: Ana Ruiz.")


def test_empty_match_is_refused_naming_the_fields(small, client):
    for body in ({}, {"schedule": "weekend", "addressed_to": "cn1"}, {"needs": []}):
        bad = client.post("/api/match", json=body)
        assert (bad.status_code, bad.get_json()) == (400, {"error": NOTHING_TO_MATCH, "problems": [NOTHING_TO_MATCH]})
    assert NOTHING_TO_MATCH == "nothing to match on; give at least one of needs, population or insurance"


def test_nothing_left_to_match_on_is_400_saying_why(small, client):
    for body, why in (
            ({"needs": ["adhdd"]},
             "'adhdd' is not a need any clinician, provider or past client lists (did you mean adhd?)"),
            ({"needs": "adhdd", "insurance": "medicade", "schedule": "weekend"},
             "'adhdd' is not a need any clinician, provider or past client lists (did you mean adhd?); "
             "'medicade' is not an insurance any clinician or past client lists (did you mean medicaid?)")):
        bad = client.post("/api/match", json=body)
        assert (bad.status_code, bad.get_json()["problems"]) == (400, [f"nothing to match on: {why}"]), body


def test_unknown_insurance_gets_did_you_mean_and_is_no_gap(small, client):
    out = match(client, needs=["adhd"], population="child", insurance="medicade")
    assert (out["unknown_insurance"], out["unknown_needs"]) == (
        [{"insurance": "medicade", "did_you_mean": ["medicaid"]}], [])
    assert ranked(out) == [("cn1", 1.0, True), ("cn3", 1.0, False), ("cn2", 0.0, False)]
    assert [c["gaps"] for c in out["candidates"]] == [
        [], ["not accepting new clients"], ["specialty", "population"]]
    assert match(client, needs=["adhd"], insurance="aetna")["unknown_insurance"] == []


def test_match_takes_any_case_and_commas(small, client):
    out = match(client, needs="ADHD, Anxiety", population=" Adolescent", insurance="BCBS", schedule="Weekday_Day")
    assert (ranked(out)[0], out["verdict"], out["unknown_needs"], out["unknown_insurance"]) == (
        ("cn1", 1.0, True), "Best match: Ana Ruiz.", [], [])
    bad = client.post("/api/match", json={"needs": "adhd anxiety"})
    assert (bad.status_code, bad.get_json()["problems"]) == (400, [
        "field 'needs': must be a lowercase slug of letters, digits and _, and lists are separated by ; or , "
        "(got 'adhd anxiety')"])


def test_a_referral_addressed_to_staff_is_addressed_to_the_practice(small, client):
    # st1 Dee Lang is the intake coordinator: no pass, the best match is assigned.
    out = match(client, needs=["trauma"], population="adult", insurance="aetna", addressed_to="st1")
    assert (out["addressed"], out["addressed_to_practice"], out["pass"], out["verdict"]) == (
        None, True, None, "Addressed to the practice (through Dee Lang): assign the best match, Ben Okafor.")
    out = match(client, needs=["trauma"], population="adult", addressed_to="practice")
    assert (out["addressed_to_practice"], out["verdict"]) == (
        True, "Addressed to the practice: assign the best match, Ben Okafor.")
    out = match(client, needs=["adhd"], population="child", insurance="aetna")
    assert (out["addressed_to_practice"], out["verdict"]) == (False, "Best match: Ana Ruiz (does not take Aetna).")
    for who in ("nobody", "rf1", "ep1"):
        missing = client.post("/api/match", json={"needs": ["adhd"], "addressed_to": who})
        assert (missing.status_code, missing.get_json()) == (404, {
            "error": f"field 'addressed_to': {who!r} is not a clinician, a staff member or 'practice'"})


def test_match_bad_input_is_400_naming_the_field(small, client):
    bad = client.post("/api/match", json={"needs": ["adhd"], "limit": 0, "colour": "blue"})
    assert (bad.status_code, bad.get_json()["problems"]) == (400, [
        "field 'limit': must be a whole number from 1 to 100 (got 0)", "field 'colour': is not a known field"])
    bad = client.post("/api/match", data="not json")
    assert (bad.status_code, bad.get_json()["error"]) == (
        400, "the body must be a JSON object with the fields needs, population, insurance, schedule, "
             "addressed_to and limit")
    assert len(match(client, needs=["adhd"], limit=100)["candidates"]) == 3  # all three clinicians


# -- suggestions and summary ---------------------------------------------------


def test_suggestions_query_is_parsed_by_the_shared_model(small, client):
    assert [s["member"] for s in client.get("/api/referrers/rf1/suggestions?limit=100&refresh=1")
            .get_json()["suggestions"]] == ["cn2"]
    for query, problem in (("limit=0", "field 'limit': must be a whole number from 1 to 100 (got '0')"),
                           ("limit=101", "field 'limit': must be a whole number from 1 to 100 (got '101')"),
                           ("limit=two", "field 'limit': must be a whole number from 1 to 100 (got 'two')"),
                           ("limt=3", "query parameter 'limt': is not a parameter of this endpoint (it takes "
                                      "limit and refresh)")):
        bad = client.get(f"/api/referrers/rf1/suggestions?{query}")
        assert (bad.status_code, bad.get_json()["problems"]) == (400, [problem]), query


def test_every_endpoint_refuses_unknown_query_parameters(small, client):
    only_refresh = "(it takes refresh)"
    for method, url, takes in (
            ("get", "/api/referrers/rf1", only_refresh),
            ("get", "/api/referrers/rf1/suggestions", "(it takes limit and refresh)"),
            ("get", "/api/practice/summary", only_refresh),
            ("post", "/api/match", only_refresh),
            ("get", "/api/openapi.json", "(it takes none)"),
            ("get", "/api/status", "(it takes none)")):
        bad = getattr(client, method)(f"{url}?foo=1&bar=", json={"needs": ["adhd"]})
        assert (bad.status_code, bad.get_json()) == (400, {
            "error": f"query parameter 'foo': is not a parameter of this endpoint {takes}\n"
                     f"query parameter 'bar': is not a parameter of this endpoint {takes}",
            "problems": [f"query parameter 'foo': is not a parameter of this endpoint {takes}",
                         f"query parameter 'bar': is not a parameter of this endpoint {takes}"]}), url
        if takes != "(it takes none)":
            ok = getattr(client, method)(f"{url}?refresh=1", json={"needs": ["adhd"]})
            assert ok.status_code == 200, (url, ok.get_json())
    for query, problem in (
            ("refresh=1&refresh=0", "query parameter 'refresh': must be given once (got 2 values)"),
            ("limit=2&limit=3", "query parameter 'limit': must be given once (got 2 values)"),
            ("refresh=maybe", "query parameter 'refresh': must be 1, true or yes (or 0, false or no) (got 'maybe')")):
        bad = client.get(f"/api/referrers/rf1/suggestions?{query}")
        assert (bad.status_code, bad.get_json()["problems"]) == (400, [problem]), query
    # Not ours: still the plain 404 of an unknown referrer, not a parameter problem.
    assert client.get("/api/referrers/nope?refresh=no").status_code == 404


def test_openapi_documents_exactly_the_query_parameters_each_endpoint_takes(app):
    from graphsvc.analysis.worklists import WORKLISTS
    from graphsvc.web.api import QUERY
    from graphsvc.web.openapi import document

    spec = document()
    rules = {(r.rule.replace("<", "{").replace(">", "}"), method.lower()): r.endpoint
             for r in app.url_map.iter_rules() if r.endpoint.startswith("api.") for method in r.methods}
    for path, operations in spec["paths"].items():
        # The worklists are documented one path per list (each takes its own filters): /api/worklists/{name}.
        parts = path.split("/")
        name = parts[3] if path.startswith("/api/worklists/") else None
        route = "/".join(parts[:3] + ["{name}"] + parts[4:]) if name else path
        for method, operation in operations.items():
            view = rules[route, method].rpartition(".")[2]
            documented = {p["name"] for p in operation["parameters"] if p["in"] == "query"}
            if name and method == "get":
                own = {"q", *WORKLISTS[name]["filters"], "sort", "desc", "show", "page", "page_size", "refresh"}
                assert documented == own and documented <= set(QUERY[view]), path
            else:
                assert documented == set(QUERY[view]), (path, method)
            assert operation["responses"]["400"]["content"]["application/json"]["schema"]["required"] == [
                "error", "problems"], (path, method)
    assert set(QUERY) == {e.rpartition(".")[2] for e in rules.values()}


def test_status_says_what_the_process_serves(small, client, app):
    from datetime import datetime, timedelta

    from graphsvc.store.reads import changes_since

    before = client.get("/api/status").get_json()  # no analysis yet: nothing built, Neo4j not asked
    assert before.pop("pid") == os.getpid()
    assert {k: v for k, v in before.items() if k != "rss_mb"} == {
        "version": None, "data_as_of": None, "last_build_at": None, "last_build_seconds": None,
        "full_builds": 0, "warm_starts": 0, "incremental_updates": 0, "last_update_ms": None,
        "rebuilding": False, "neo4j_reachable": None, "unreachable_since": None}
    requested = datetime.now(UTC).replace(microsecond=0)  # the status shows times to the second
    assert client.get("/api/practice/summary").status_code == 200  # builds
    client.get("/api/referrers/rf1")  # served from the same build
    status = client.get("/api/status").get_json()
    now = datetime.now(UTC)
    built_at = datetime.fromisoformat(status.pop("last_build_at"))
    data_as_of = datetime.fromisoformat(status.pop("data_as_of"))
    seconds, rss, _ = status.pop("last_build_seconds"), status.pop("rss_mb"), status.pop("pid")
    assert status == {"version": changes_since(small).version, "full_builds": 1, "warm_starts": 0,
                      "incremental_updates": 0, "last_update_ms": None, "rebuilding": False,
                      "neo4j_reachable": True, "unreachable_since": None}
    assert requested <= built_at <= data_as_of <= now  # an order, not a speed
    assert seconds > 0
    # Both times are shown to the second, so allow one second of truncation.
    assert built_at + timedelta(seconds=seconds + 1) >= data_as_of
    assert isinstance(rss, float) and 20 < rss < 100_000  # this process's VmRSS, in MB
    cache = app.extensions["insights"]
    assert (cache.full_builds, cache.incremental_updates) == (1, 0)

    # A write is applied in place: no full build.
    from datetime import date

    from tests.helpers import service_of, someone

    service_of(small).record_contact({"id": "k9", "date": date(2024, 6, 1), "referrer_id": "rf1", "member_id": "cn1",
                                      "kind": "talk"}, by=someone())
    cache.check_seconds = 0  # read the change feed on the next request (the web server's poller does it every second)
    assert client.get("/api/referrers/rf1").get_json()["metrics"]["contacts"] == 2
    status = client.get("/api/status").get_json()
    assert (status["version"], status["full_builds"], status["incremental_updates"]) == (
        changes_since(small).version, 1, 1)
    assert status["last_update_ms"] > 0


def test_practice_summary_has_clinicians(small, client):
    body = client.get("/api/practice/summary").get_json()
    assert body["clinicians"]["cn1"]["introductions_made"] == 2
    assert set(body["clinicians"]) >= {"cn1", "cn2", "cn3"}


# -- OpenAPI -------------------------------------------------------------------


def test_openapi_request_schemas_are_the_models_and_responses_validate(small, client):
    from jsonschema import Draft202012Validator
    from openapi_spec_validator import validate

    spec = client.get("/api/openapi.json").get_json()
    validate(spec)
    post = spec["paths"]["/api/match"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"] == json.loads(
        json.dumps(MatchRequest.model_json_schema()))
    limit = next(p for p in spec["paths"]["/api/referrers/{referrer_id}/suggestions"]["get"]["parameters"]
                 if p["name"] == "limit")
    assert (limit["in"], limit["required"], limit["schema"]) == (
        "query", False, {"type": "integer", "minimum": 1, "maximum": 100, "default": 5})
    assert SuggestionsQuery.model_json_schema()["properties"]["limit"]["maximum"] == 100
    response = Draft202012Validator(post["responses"]["200"]["content"]["application/json"]["schema"])
    for body in ({"needs": ["trauma"], "population": "adolescent", "insurance": "aetna", "addressed_to": "cn2"},
                 {"needs": ["adhdd", "inpatient_eating_disorders"], "population": "older_adult"},
                 {"needs": ["adhd"], "insurance": "medicade", "addressed_to": "st1"},
                 {"needs": ["adhd"], "addressed_to": "cn1"}):
        response.validate(match(client, **body))
    summary = spec["paths"]["/api/practice/summary"]["get"]["responses"]["200"]["content"]["application/json"]
    Draft202012Validator(summary["schema"]).validate(client.get("/api/practice/summary").get_json())


# -- the CLI, through the same models -----------------------------------------


def test_cli_match_text_names_the_pass_and_the_gaps(cli, small):
    result = cli("match", "--needs", "trauma", "--population", "adolescent", "--insurance", "aetna",
                 "--schedule", "weekend", "--addressed-to", "cn2")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "Best matches:",
        "  Ana Ruiz (cn1)  fit 0.20: sees adolescents",
        "      gaps: does not cover trauma; does not take Aetna; has no weekend openings",
        "  Ben Okafor (cn2)  fit 0.80  (cannot take this client): covers trauma; takes Aetna; has weekend openings",
        "      gap: does not see adolescents",
        "  Cleo Park (cn3)  fit 0.00  (cannot take this client): -",
        "      gaps: does not cover trauma; does not see adolescents; does not take Aetna; has no weekend openings; "
        "is not accepting new clients",
        "Pass to Ana Ruiz (reason: specialty):",
        "  - Ben Okafor does not see adolescents",
        "  - Ana Ruiz sees adolescents",
        "  - but Ana Ruiz does not cover trauma",
        "  - but Ana Ruiz does not take Aetna",
        "  - but Ana Ruiz has no weekend openings",
        "No clinician who can take this client covers trauma: no outside provider is known for trauma.",
    ]


def test_cli_match_keep_unknown_need_and_no_eligible_clinician(cli, small):
    result = cli("match", "--needs", "adhdd;anxiety", "--population", "adolescent", "--insurance", "bcbs",
                 "--addressed-to", "cn1")
    assert result.output.splitlines()[-2:] == [
        "Ana Ruiz is the best match available: keep it.",
        "Unknown need 'adhdd', left out of the match: no clinician, outside provider or past client lists it. "
        "Did you mean adhd?"]
    out = json.loads(cli("match", "--needs", "inpatient_eating_disorders", "--population", "older_adult",
                         "--json").output)
    assert (out["no_eligible_clinician"], [x["provider"] for x in out["external_providers"]]) == (True, ["ep1"])
    result = cli("match", "--needs", "inpatient_eating_disorders", "--population", "older_adult")
    assert result.output.splitlines()[-2:] == [
        "No clinician sees older adults: refer out to Riverside Eating Disorders Center for inpatient eating "
        "disorders.",
        "  - Riverside Eating Disorders Center (ep1): inpatient eating disorders, referred to 1 time before"]


def test_cli_match_unknown_insurance_staff_addressee_and_nothing_left(cli, small):
    result = cli("match", "--needs", "adhd, Anxiety", "--population", "Adolescent", "--insurance", "medicade",
                 "--addressed-to", "st1")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-2:] == [
        "Addressed to the practice (through Dee Lang): assign the best match, Ana Ruiz.",
        "Unknown insurance 'medicade', left out of the match: no clinician or past client lists it. "
        "Did you mean medicaid?"]
    # After the unknown needs, before the needs to refer out.
    result = cli("match", "--needs", "adhdd;inpatient_eating_disorders", "--population", "adolescent",
                 "--insurance", "medicade")
    assert result.output.splitlines()[-5:] == [
        "Best match: Ana Ruiz.",
        "Unknown need 'adhdd', left out of the match: no clinician, outside provider or past client lists it. "
        "Did you mean adhd?",
        "Unknown insurance 'medicade', left out of the match: no clinician or past client lists it. "
        "Did you mean medicaid?",
        "No clinician who can take this client covers inpatient eating disorders: refer out to Riverside Eating "
        "Disorders Center for inpatient eating disorders.",
        "  - Riverside Eating Disorders Center (ep1): inpatient eating disorders, referred to 1 time before"]
    out = json.loads(cli("match", "--needs", "adhd", "--insurance", "medicade", "--json").output)
    assert out["unknown_insurance"] == [{"insurance": "medicade", "did_you_mean": ["medicaid"]}]
    result = cli("match", "--needs", "adhdd")
    assert (result.exit_code, result.output) == (1, "Error: nothing to match on: 'adhdd' is not a need any "
                                                    "clinician, provider or past client lists (did you mean adhd?)\n")
    result = cli("match", "--needs", "adhd", "--addressed-to", "nobody")
    assert (result.exit_code, result.output) == (
        1, "Error: field 'addressed_to': 'nobody' is not a clinician, a staff member or 'practice'\n")


def test_cli_refuses_an_empty_match_and_bad_limits_like_the_api(cli, small):
    for args in ((), ("--schedule", "weekend"), ("--needs", "")):
        result = cli("match", *args)
        assert (result.exit_code, result.output) == (1, f"Error: {NOTHING_TO_MATCH}\n"), args
    result = cli("match", "--needs", "adhd", "--limit", "0")
    assert (result.exit_code, result.output) == (
        1, "Error: field 'limit': must be a whole number from 1 to 100 (got '0')\n")
    result = cli("suggest", "rf1", "--limit", "101")
    assert (result.exit_code, result.output) == (
        1, "Error: field 'limit': must be a whole number from 1 to 100 (got '101')\n")
    out = json.loads(cli("suggest", "rf1", "--limit", "100", "--json").output)
    assert [s["member"] for s in out["suggestions"]] == ["cn2"]
    assert "How many suggestions to list, 1 to 100 (default 5)." in " ".join(cli("suggest", "--help").output.split())


# -- robustness: what fuzzing found ---------------------------------------------


def test_unicode_digits_and_huge_numbers_are_400s(small, client):
    for limit in ("¹", "²", "٣", "99999999999999999999", "9" * 5000, " 5", "5.0", "-1", "+5"):
        bad = client.get("/api/referrers/rf1/suggestions", query_string={"limit": limit})
        assert bad.status_code == 400, limit
        assert bad.get_json()["problems"][0].startswith("field 'limit': must be a whole number from 1 to 100 (got ")
    assert client.get("/api/referrers/rf1/suggestions?limit=007").status_code == 200
    for limit in ("¹", 1e300, 10**30, True, 2.5):
        bad = client.post("/api/match", json={"needs": ["adhd"], "limit": limit})
        assert bad.status_code == 400, limit
    # JSON Schema's integer includes 2.0; the CLI's --limit hands over digits as text.
    assert len(match(client, needs=["adhd"], limit=2.0)["candidates"]) == 2
    assert len(match(client, needs=["adhd"], limit="02")["candidates"]) == 2


def test_bodies_nested_too_deep_or_too_large_are_refused(small, client):
    from graphsvc.web import MAX_CONTENT_LENGTH

    for depth in (1_000, 30_000):  # the parser's RecursionError is a 400, not a 500
        deep = client.post("/api/match", data="[" * depth + "]" * depth, content_type="application/json")
        assert (deep.status_code, deep.get_json()["problems"]) == (400, [
            "the body must be a JSON object with the fields needs, population, insurance, schedule, "
            "addressed_to and limit"]), depth
    deep = client.post("/api/match", data="[" * 100_000 + "]" * 100_000, content_type="application/json")
    assert (deep.status_code, deep.get_json()) == (413, {
        "error": f"the request body is 200000 bytes; at most {MAX_CONTENT_LENGTH} are accepted"})
    huge = client.post("/api/match", json={"needs": ["adhd"], "insurance": "x" * (16 * 1024 * 1024)})
    assert (huge.status_code, huge.get_json()) == (413, {
        "error": f"the request body is {16 * 1024 * 1024 + 36} bytes; at most {MAX_CONTENT_LENGTH} are accepted"})
    assert len(huge.get_data()) < 200
    # Under the limit a long value is refused, and echoed cut to about 80 characters.
    long = client.post("/api/match", json={"needs": ["adhd"], "insurance": "x" * 60_000, "y" * 1000: 1})
    assert long.status_code == 400 and len(long.get_data()) < 600
    assert long.get_json()["problems"] == [
        "field 'insurance' is 60,000 characters; the limit is 64",
        "field '" + "y" * 80 + "…': is not a known field"]
    long = client.post("/api/match", json={"needs": ["adhd"], "population": "x" * 60_000})
    assert long.get_json()["problems"] == ["field 'population' is 60,000 characters; the limit is 64"]
    bad = client.get("/api/referrers/rf1?refresh=" + "z" * 10_000)
    assert bad.status_code == 400 and len(bad.get_data()) < 400
    nope = client.get("/api/referrers/" + "r" * 10_000)
    assert (nope.status_code, nope.get_json()) == (404, {"error": "unknown referrer '" + "r" * 80 + "…'"})


def test_an_encoded_slash_in_an_id_is_a_json_404(small, client):
    for url in ("/api/referrers/a%2Fb", "/api/referrers/a%2Fb/suggestions", "/api/referrers/rf1%2F"):
        nope = client.get(url)
        assert (nope.status_code, nope.mimetype) == (404, "application/json"), url
        assert "error" in nope.get_json()
    assert client.get("/api/referrers/rf1 x").get_json() == {"error": "unknown referrer 'rf1 x'"}


@pytest.mark.parametrize("body, valid", [
    ({"needs": [""]}, False),  # nothing left to match on: the schema's anyOf says so too
    ({"needs": ["", " ;, "], "population": "child"}, True),
    ({"needs": " ADHD ;, anxiety ", "insurance": " BCBS "}, True),
    ({"needs": ["adhd anxiety"]}, False),
    ({"needs": ["adhd"], "refresh": None}, False),  # refresh is a query parameter, not a field
    ({"needs": None}, False),
    ({"population": ""}, False),
    ({"population": " Adolescent\t", "schedule": ""}, True),
    ({"population": "chi\u212ad"}, False),  # a Kelvin sign lowercases to k in Python, not in the schema
    ({"needs": ["adhd\u00a0"]}, False),  # only JSON's whitespace is trimmed
    ({"needs": ["adhd"], "addressed_to": " cn1 "}, True),
    ({"needs": ["adhd"], "addressed_to": ""}, True),
    ({"needs": ["adhd"], "addressed_to": "c n1"}, False),
    ({"needs": ["adhd"], "limit": "3"}, True),
    ({"needs": ["adhd"], "limit": "0"}, False),
    ({"needs": ["adhd"], "limit": 100.0}, True),
    ({"needs": ["adhd"], "limit": False}, False),
])
def test_the_match_schema_and_the_model_agree(body, valid):
    from jsonschema import Draft202012Validator

    from graphsvc.errors import InvalidInput
    from graphsvc.inputs import parse

    assert Draft202012Validator(MatchRequest.model_json_schema()).is_valid(body) is valid
    try:
        parse(MatchRequest, body)
        accepted = True
    except InvalidInput:
        accepted = False
    assert accepted is valid


def test_refresh_takes_exactly_the_documented_words(small, client):
    from graphsvc.web.openapi import document

    documented = document()["paths"]["/api/practice/summary"]["get"]["parameters"][0]["schema"]["enum"]
    assert documented == ["1", "true", "yes", "0", "false", "no"]
    for word in documented:
        assert client.get(f"/api/practice/summary?refresh={word}").status_code == 200, word
    for word in ("", "null", "TRUE", " 1", "y"):
        assert client.get("/api/practice/summary", query_string={"refresh": word}).status_code == 400, word
