"""Matching a new client to a clinician, on a hand-built practice (no database).

Population and accepting new clients are hard constraints; needs, insurance
and schedule are scored and named as gaps.
"""

from __future__ import annotations

from datetime import date as d

import pytest

from graphsvc.analysis import graph as p
from graphsvc.analysis.matching import match_client
from graphsvc.errors import InvalidInput, NotFound
from graphsvc.inputs import MatchRequest, parse
from graphsvc.limits import NOTHING_TO_MATCH
from graphsvc.presentation import match_report
from tests.helpers import add_small_team


@pytest.fixture
def G():
    G = p.new_graph()
    add_small_team(G)
    # Adults only, but otherwise a close fit for most ADHD clients.
    p.add_member(G, "gus", name="Gus", specialties=["adhd"], populations=["adult"], insurances=["bcbs", "medicaid"],
                 schedule=["weekday_day"])
    p.add_provider(G, "ep1", name="Riverside", niches=["inpatient_eating_disorders"])
    p.add_provider(G, "ep2", name="Lakeside", niches=["inpatient_eating_disorders", "forensic_evaluation"])
    p.add_referrer(G, "t", point_person="ana", since=d(2024, 1, 1), referrer_kind="pediatrician")
    # A past client's need no clinician covers: known, so not a typo.
    p.add_referral(G, "t", "t1", d(2024, 2, 1), "ana", needs=["adhd", "selective_mutism"], population="child")
    p.add_referral_out(G, "t", "o1", d(2024, 3, 1), "ep1", "inpatient_eating_disorders")
    return G


def ranked(out):
    return [(c["member"], c["fit"], c["eligible"]) for c in out["candidates"]]


def test_a_clinician_who_does_not_see_the_population_is_passed_even_with_the_better_fit(G):
    out = match_client(G, needs=["adhd"], population="adolescent", insurance="bcbs", schedule="weekday_day",
                       addressed_to="gus")
    assert ranked(out) == [("ben", 0.65, True), ("gus", 0.8, False), ("ana", 0.55, False)]
    assert (out["addressed"]["gaps"], out["addressed"]["gap_reasons"]) == (
        ["population"], ["does not see adolescents"])
    assert (out["pass"]["member"], out["pass"]["reason"], out["pass"]["why"]) == ("ben", "specialty", [
        "Gus does not see adolescents", "Ben covers ADHD", "Ben sees adolescents",
        "but Ben does not take BCBS", "but Ben has no weekday day openings"])
    assert out["verdict"] == "Pass to Ben (reason: specialty): Gus does not see adolescents."
    assert (out["no_eligible_clinician"], out["uncovered_needs"], out["external_providers"], out["unknown_needs"]) == (
        False, [], [], [])
    assert match_report(out) == "\n".join([
        "Best matches:",
        "  Ben (ben)  fit 0.65: covers ADHD; sees adolescents",
        "      gaps: does not take BCBS; has no weekday day openings",
        "  Gus (gus)  fit 0.80  (cannot take this client): covers ADHD; takes BCBS; has weekday day openings",
        "      gap: does not see adolescents",
        "  Ana (ana)  fit 0.55  (cannot take this client): covers ADHD; has weekday day openings",
        "      gaps: does not see adolescents; does not take BCBS",
        "Pass to Ben (reason: specialty):",
        "  - Gus does not see adolescents",
        "  - Ben covers ADHD",
        "  - Ben sees adolescents",
        "  - but Ben does not take BCBS",
        "  - but Ben has no weekday day openings",
    ])


def test_a_clinician_not_accepting_new_clients_is_passed(G):
    out = match_client(G, needs=["adhd"], population="child", insurance="medicaid", schedule="weekday_evening",
                       addressed_to="dot")
    assert ranked(out) == [("ben", 1.0, True), ("ana", 0.9, True), ("dot", 1.0, False)]
    assert (out["pass"]["member"], out["pass"]["reason"], out["pass"]["why"]) == ("ben", "other", [
        "Dot is not accepting new clients", "Ben covers ADHD", "Ben sees children", "Ben takes Medicaid",
        "Ben has weekday evening openings"])
    assert out["verdict"] == "Pass to Ben (reason: other): Dot is not accepting new clients."


def test_keep_names_the_soft_gaps_and_never_prefers_a_clinician_who_cannot_take_the_client(G):
    # Gus fits better on paper (0.8) but sees adults only: Ana keeps the referral.
    out = match_client(G, needs=["adhd"], population="child", insurance="bcbs", schedule="weekday_day",
                       addressed_to="ana")
    assert ranked(out) == [("ana", 0.75, True), ("ben", 0.65, True), ("gus", 0.8, False)]
    assert out["pass"] is None
    assert out["verdict"] == "Ana is the best match available (does not take BCBS): keep it."
    assert match_report(out).splitlines()[1:3] + match_report(out).splitlines()[-1:] == [
        "  Ana (ana)  fit 0.75: covers ADHD; sees children; has weekday day openings",
        "      gap: does not take BCBS",
        "Ana is the best match available (does not take BCBS): keep it."]


def test_a_pass_to_a_better_fit_names_the_soft_gap_as_its_reason(G):
    out = match_client(G, needs=["adhd"], population="child", insurance="medicaid", schedule="weekday_evening",
                       addressed_to="ana")
    assert (out["pass"]["member"], out["pass"]["reason"], out["pass"]["why"][0]) == (
        "ben", "scheduling", "Ana has no weekday evening openings")


def test_nobody_sees_the_population_says_so_and_names_outside_providers(G):
    out = match_client(G, needs=["grief", "inpatient_eating_disorders"], population="older_adult",
                       addressed_to="cai")
    assert ranked(out) == [("cai", 0.6923, False), ("ana", 0.0, False), ("ben", 0.0, False)]
    assert (out["pass"], out["addressed"]["gaps"], out["no_eligible_clinician"]) == (None, ["population"], True)
    # Cai covers grief but cannot take the client: grief is uncovered too.
    assert out["uncovered_needs"] == ["grief", "inpatient_eating_disorders"]
    assert out["external_providers"] == [
        {"provider": "ep1", "name": "Riverside", "niche": "inpatient_eating_disorders", "referred_before": 1},
        {"provider": "ep2", "name": "Lakeside", "niche": "inpatient_eating_disorders", "referred_before": 0}]
    assert out["verdict"] == ("No clinician sees older adults: refer out to Riverside or Lakeside for inpatient "
                              "eating disorders; no outside provider is known for grief.")
    assert match_report(out).splitlines()[-3:] == [
        out["verdict"],
        "  - Riverside (ep1): inpatient eating disorders, referred to 1 time before",
        "  - Lakeside (ep2): inpatient eating disorders, not referred to before"]


def test_nobody_eligible_and_no_provider_known(G):
    out = match_client(G, needs=["grief"], population="couples")
    assert (out["no_eligible_clinician"], out["external_providers"], out["verdict"]) == (
        True, [], "No clinician sees couples, and no outside provider is known for grief.")
    out = match_client(G, population="couples", insurance="bcbs")
    assert out["verdict"] == "No clinician sees couples, and no outside provider is known for this client."


def test_nobody_who_sees_the_population_is_accepting(G):
    for m in ("ana", "ben"):
        G.nodes[m]["accepting_new"] = False
    out = match_client(G, needs=["adhd"], population="child", addressed_to="ana")
    assert ranked(out) == [("ana", 1.0, False), ("ben", 1.0, False), ("dot", 1.0, False)]
    assert (out["pass"], out["uncovered_needs"], out["verdict"]) == (
        None, ["adhd"], "No clinician who sees children is accepting new clients, "
                        "and no outside provider is known for ADHD.")


def test_unknown_needs_are_reported_with_the_closest_known_ones(G):
    out = match_client(G, needs=["adhdd", "anxiety", "selective_mutism", "forensic_evaluation", "xyz"],
                       population="adolescent")
    assert out["unknown_needs"] == [{"need": "adhdd", "did_you_mean": ["adhd"]}, {"need": "xyz", "did_you_mean": []}]
    # The rest of the match runs: known needs nobody here covers go out.
    assert ranked(out)[0] == ("ben", 1.0, True)
    assert (out["uncovered_needs"], [x["provider"] for x in out["external_providers"]]) == (
        ["forensic_evaluation", "selective_mutism"], ["ep2"])
    assert match_report(out).splitlines()[-5:] == [
        "Best match: Ben.",
        "Unknown need 'adhdd', left out of the match: no clinician, outside provider or past client lists it. "
        "Did you mean adhd?",
        "Unknown need 'xyz', left out of the match: no clinician, outside provider or past client lists it.",
        "No clinician who can take this client covers forensic evaluation or selective mutism: refer out to "
        "Lakeside for forensic evaluation; no outside provider is known for selective mutism.",
        "  - Lakeside (ep2): forensic evaluation, not referred to before"]


def test_an_empty_request_is_refused(G):
    for request in ({}, {"schedule": "weekday_day"}, {"needs": [], "addressed_to": "ana"}):
        with pytest.raises(InvalidInput) as e:
            match_client(G, **request)
        assert str(e.value) == NOTHING_TO_MATCH == (
            "nothing to match on; give at least one of needs, population or insurance")
        with pytest.raises(InvalidInput) as e:
            parse(MatchRequest, request)
        assert e.value.problems == [NOTHING_TO_MATCH]


def test_the_best_match_names_its_gaps_without_repeating_its_name(G):
    out = match_client(G, needs=["adhd", "anxiety"], population="child", insurance="bcbs", schedule="weekend")
    assert ranked(out)[0] == ("ben", 0.65, True)  # 0.45 + 0.2 of 1
    assert (out["addressed"], out["addressed_to_practice"], out["pass"]) == (None, False, None)
    assert out["verdict"] == "Best match: Ben (does not take BCBS and has no weekend openings)."
    out = match_client(G, needs=["anxiety"], population="adolescent")
    assert out["verdict"] == "Best match: Ben."


def test_addressed_to_the_practice_or_a_staff_member_assigns_the_best_match(G):
    out = match_client(G, needs=["anxiety"], population="adolescent", addressed_to="practice")
    assert (out["addressed"], out["addressed_to_practice"], out["pass"], out["verdict"]) == (
        None, True, None, "Addressed to the practice: assign the best match, Ben.")
    # The intake coordinator stands for the practice as a whole: no pass, no refusal.
    out = match_client(G, needs=["adhd"], population="child", insurance="bcbs", addressed_to="eve")
    assert (ranked(out), out["addressed"], out["addressed_to_practice"], out["pass"]) == (
        [("ana", 0.7222, True), ("ben", 0.7222, True), ("gus", 0.7778, False)], None, True, None)
    assert out["verdict"] == ("Addressed to the practice (through Eve): assign the best match, Ana "
                              "(does not take BCBS).")
    # Nobody eligible: the same plain answer as for any request.
    out = match_client(G, needs=["grief"], population="couples", addressed_to="eve")
    assert (out["addressed_to_practice"], out["verdict"]) == (
        True, "No clinician sees couples, and no outside provider is known for grief.")


def test_an_unknown_addressee_is_not_found_naming_the_field(G):
    for who in ("zed", "ep1", "t"):  # nobody, an outside provider, a referrer
        with pytest.raises(NotFound) as e:
            match_client(G, needs=["adhd"], addressed_to=who)
        assert str(e.value) == f"field 'addressed_to': {who!r} is not a clinician, a staff member or 'practice'"


def test_an_unknown_insurance_is_reported_and_left_out_of_fit_and_gaps(G):
    out = match_client(G, needs=["adhd"], population="child", insurance="medicade", addressed_to="ana")
    assert out["unknown_insurance"] == [{"insurance": "medicade", "did_you_mean": ["medicaid"]}]
    assert out["unknown_needs"] == []
    # Scored as if no insurance was given: nobody has an insurance gap.
    assert ranked(out) == ranked(match_client(G, needs=["adhd"], population="child", addressed_to="ana"))
    assert ranked(out)[:2] == [("ana", 1.0, True), ("ben", 1.0, True)]
    assert [c["gaps"] for c in out["candidates"]] == [[], [], ["not accepting new clients"]]
    assert all("takes" not in r for c in out["candidates"] for r in c["reasons"])
    assert out["verdict"] == "Ana is the best match available: keep it."
    assert match_client(G, needs=["adhd"], insurance="medicaid")["unknown_insurance"] == []


def test_an_insurance_only_past_clients_had_is_known_and_a_gap(G):
    p.add_referral(G, "t", "t2", d(2024, 4, 1), "ana", needs=["adhd"], population="child", insurance="tricare")
    out = match_client(G, needs=["adhd"], population="child", insurance="tricare")
    assert out["unknown_insurance"] == []
    assert out["candidates"][0]["gap_reasons"] == ["does not take Tricare"]
    assert match_client(G, needs=["adhd"], insurance="tricar")["unknown_insurance"] == [
        {"insurance": "tricar", "did_you_mean": ["tricare"]}]


def test_nothing_left_to_match_on_is_refused_saying_why(G):
    cases = [
        ({"needs": ["adhdd"]},
         "'adhdd' is not a need any clinician, provider or past client lists (did you mean adhd?)"),
        ({"needs": ["xyz"], "schedule": "weekend", "addressed_to": "ana"},  # a schedule alone is not enough
         "'xyz' is not a need any clinician, provider or past client lists"),
        ({"needs": ["adhdd", "grieff", "xyz"]},
         "'adhdd' (did you mean adhd?), 'grieff' (did you mean grief?) and 'xyz' are not needs any clinician, "
         "provider or past client lists"),
        ({"insurance": "medicade"},
         "'medicade' is not an insurance any clinician or past client lists (did you mean medicaid?)"),
        ({"needs": ["adhdd"], "insurance": "bcbss"},
         "'adhdd' is not a need any clinician, provider or past client lists (did you mean adhd?); 'bcbss' is "
         "not an insurance any clinician or past client lists (did you mean bcbs?)"),
    ]
    for request, why in cases:
        with pytest.raises(InvalidInput) as e:
            match_client(G, **request)
        assert e.value.problems == [f"nothing to match on: {why}"], request
    # One known thing is enough: the rest is reported and left out.
    out = match_client(G, needs=["adhdd"], insurance="medicaid")
    assert (out["unknown_needs"][0]["need"], out["verdict"]) == ("adhdd", "Best match: Ana.")
    out = match_client(G, needs=["adhdd"], population="adult", insurance="medicade")
    assert (len(out["unknown_needs"]), len(out["unknown_insurance"]), out["verdict"]) == (1, 1, "Best match: Cai.")
    assert ranked(out)[:2] == [("cai", 1.0, True), ("gus", 1.0, True)]  # on population alone
    # A known need no clinician covers is no typo: it is referred out.
    out = match_client(G, needs=["inpatient_eating_disorders"])
    assert (out["unknown_needs"], out["uncovered_needs"]) == ([], ["inpatient_eating_disorders"])


def test_requests_take_any_case_spaces_and_commas_but_the_import_stays_strict():
    request = parse(MatchRequest, {"needs": " ADHD, Anxiety ;grief, adhd", "population": " Child ",
                                   "insurance": "Medicaid ", "schedule": "WEEKEND", "addressed_to": " cn1 "})
    assert (request.needs, request.population, request.insurance, request.schedule, request.addressed_to) == (
        ["adhd", "anxiety", "grief"], "child", "medicaid", "weekend", "cn1")
    assert parse(MatchRequest, {"needs": ["ADHD", "grief,ocd"], "insurance": "  "}).needs == ["adhd", "grief", "ocd"]
    with pytest.raises(InvalidInput) as e:
        parse(MatchRequest, {"needs": "adhd anxiety", "schedule": "evenings"})
    assert e.value.problems == [
        "field 'needs': must be a lowercase slug of letters, digits and _, and lists are separated by ; or , "
        "(got 'adhd anxiety')"]  # 'evenings' is a word; whether the practice knows it is the service's to say
    with pytest.raises(InvalidInput) as e:
        parse(MatchRequest, {"needs": " ; , "})
    assert e.value.problems == [NOTHING_TO_MATCH]
    # The CSV import (and the write API) keep lowercase slugs and ;-separated lists.
    from graphsvc.records import KIND
    for fields in ({"needs": "adhd, anxiety"}, {"needs": "ADHD"}, {"population": "Child"}, {"insurance": "Medicaid"}):
        with pytest.raises(InvalidInput):
            KIND["client"].parse(id="c1", **fields)


def test_limit_and_the_shared_request_limits(G):
    assert len(match_client(G, needs=["adhd"], limit=5)["candidates"]) == 5
    assert parse(MatchRequest, {"needs": "adhd;anxiety", "limit": "100"}).limit == 100
    with pytest.raises(InvalidInput) as e:
        parse(MatchRequest, {"needs": "adhd", "limit": 101, "population": "kid!"})
    assert e.value.problems == [
        "field 'population': must be a lowercase slug of letters, digits and _ (got 'kid!')",
        "field 'limit': must be a whole number from 1 to 100 (got 101)"]
