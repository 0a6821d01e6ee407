"""Schemathesis against the live API: the OpenAPI document and the code agree.

The app is the ``app`` fixture's (the test Neo4j) with the small fixture
imported, called with a manager's API token (``Authorization: Bearer``); schemathesis loads
``/api/openapi.json`` from it through WSGI and
sends each operation schema-valid requests (which must be answered, never
refused as bad input) and schema-violating ones (which must be refused), and
checks every answer: no 500, a documented status, and a body conforming to
the documented schema. The writes are sent too (a valid one may be refused
only by a rule between records, ``RULE_REFUSALS``). Bounded: at most ``MAX_EXAMPLES`` generated cases per
operation and mode, no Hypothesis deadline (the first request builds the
analysis).

(Schemathesis' own pytest integration, ``schemathesis.pytest.from_fixture``,
does not run under pytest 9, so each operation's strategies are driven by
Hypothesis here.)
"""

from __future__ import annotations

import time

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis.core.failures import Failure  # noqa: E402
from schemathesis.generation.modes import GenerationMode  # noqa: E402
from schemathesis.specs.openapi.checks import positive_data_acceptance  # noqa: E402

from graphsvc.analysis.worklists import WORKLISTS  # noqa: E402
from tests.helpers import fixture_path, import_folder  # noqa: E402

# Over a thousand generated requests.
pytestmark = pytest.mark.slow

MAX_EXAMPLES = 50
# The writes (fourteen operations, each a transaction and an analysis update): fewer cases each, so the
# whole run stays within its minute. Their junk (whatever valid writes create) is wiped with the graph
# before the next test, like any test's (the ``graph`` fixture).
WRITE_EXAMPLES = 20

# The one schema-valid request the API may refuse: a match on needs (and an
# insurance) nobody in this practice knows. The schema cannot list a
# practice's vocabulary, so the answer is a 400 saying so; any other 400 for
# valid input is a disagreement between the document and the code.
VOCABULARY_REFUSAL = "nothing to match on: "
# Nor can it list the words a manager keeps (graphsvc.vocabularies): a word on none of them is refused with
# the closest known ones, by every write and by the match (a population or a schedule).
UNKNOWN_WORD = "is not on the practice's list of"


# A write (graphsvc.web.api_writes) may refuse schema-valid data for the rules between records and the
# date, which a schema cannot state: these words are in every such message, and in no message about a
# field's own form.
RULE_REFUSALS = ("already exists", "is in the future", "unknown ", "pass_reason", "a member cannot introduce",
                 "is assigned, not passed", "reason given, but only",
                 "is not one of provider", "already holds the role", "is not after", "not a clinician",
                 "differs from addressed_to", "only a referral addressed", "is reserved", "already a ", "already an ",
                 "field 'assigned_to': is required", "a referrer needs an id of its own",
                 # a worklist row's snooze: the day is judged against today
                 "must be after today", "days ahead",
                 # a referral's status: the order of statuses, and something to tell
                 "already", "comes before", "is before the referral", "can no longer end", "nothing to send",
                 # a word on none of the practice's vocabularies; a day before the relationship began
                 UNKNOWN_WORD, "is before the relationship",
                 # a merge: the path's referrer and the body's are one
                 "cannot be merged into itself",
                 # a void or restore: the record's state
                 "is voided already", "is not voided", "cannot be restored",
                 # undoing a pass or a handoff: something to undo
                 "is not passed", "is assigned, not passed", "no handoff to undo",
                 # an NPI: the schema's pattern says ten digits, not the check digit (nor who holds one)
                 "its check digit should be", "one NPI belongs to one party")


def valid_requests_are_answered(ctx, response, case):
    """Schemathesis' positive_data_acceptance, except that a match on words nobody knows may be a 400,
    and a write may be refused by a rule between records."""
    if case.meta is None or not case.meta.generation.mode.is_positive or response.status_code < 400:
        return None
    if response.status_code == 404:  # an id that names nothing: documented
        return None
    problems = response.json().get("problems", []) if response.status_code == 400 else []
    if case.operation.path == "/api/match" and problems and all(
            p.startswith(VOCABULARY_REFUSAL) or UNKNOWN_WORD in p for p in problems):
        return None
    if case.operation.method.upper() in ("POST", "PUT") and case.operation.path != "/api/match" and problems \
            and all(any(words in p for words in RULE_REFUSALS) for p in problems):
        return None
    raise Failure(operation=case.operation.label, title="Valid data refused",
                  message=f"{response.status_code}: {response.text[:300]}")


def test_the_api_answers_as_its_openapi_document_says(app, graph, web_accounts):
    import_folder(graph, fixture_path("small"))
    _, token = web_accounts.create_token("manager", "schemathesis")
    headers = {"Authorization": f"Bearer {token}"}
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.label for op in operations} == {
        "GET /api/referrers/{referrer_id}", "GET /api/referrers/{referrer_id}/suggestions",
        "POST /api/match", "GET /api/practice/summary", "GET /api/status", "GET /api/network",
        "POST /api/referrals", "POST /api/passes", "POST /api/introductions", "POST /api/contacts",
        "POST /api/referrals-out", "POST /api/handoffs", "GET /api/today",
        "POST /api/referrals/{referral_id}/status", "GET /api/referrers/{referrer_id}/update",
        "POST /api/referrers/{referrer_id}/update", "GET /api/search",
        "GET /api/vocabularies/{vocabulary}", "POST /api/vocabularies/{vocabulary}",
        "POST /api/referrers/{referrer_id}/merge",
        *(f"POST /api/{collection}/{{record_id}}/{action}" for collection in
          ("referrals", "introductions", "contacts", "referrals-out") for action in ("void", "restore")),
        "POST /api/passes/{referral_id}/void", "POST /api/handoffs/{referrer_id}/void",
        *(f"{method} /api/worklists/{name}{path}" for name in WORKLISTS
          for method, path in (("GET", ""), ("POST", "/{row_id}"))),
        *(f"{method} /api/{collection}{path}" for collection in ("referrers", "clinicians", "staff", "providers")
          for method, path in (("POST", ""), ("PUT", "/{record_id}")))}
    sent = {}
    started = time.monotonic()
    for operation in operations:
        # An operation that takes nothing (GET /api/status) has nothing to violate.
        takes_input = any(True for _ in operation.iter_parameters()) or operation.get_request_payload_content_types()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)[:2 if takes_input else 1]:
            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=MAX_EXAMPLES if operation.method.upper() == "GET" or operation.path == "/api/match"
                      else WRITE_EXAMPLES, deadline=None, database=None,
                      suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
            def run(case):  # noqa: B023 (run is called right below, in the same turn of the loop)
                sent[case.operation.label, case.meta.generation.mode.value] = sent.get(
                    (case.operation.label, case.meta.generation.mode.value), 0) + 1
                case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance],
                                       additional_checks=[valid_requests_are_answered])

            run()
    print(f"\nschemathesis: {sum(sent.values())} requests in {time.monotonic() - started:.1f} s: {sent}")
