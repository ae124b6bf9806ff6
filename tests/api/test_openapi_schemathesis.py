"""The OpenAPI document against the running server, with schemathesis (bounded).

Every documented operation is called with generated parameters and bodies, valid and not:
statuses, content types and JSON bodies must match the document, and nothing may answer 500
(503 is documented: it is how a route says the actor it needs is down).
Left out: the endless streams (/events, /ws), /actors (generated paths could restart
real actors until the root gives up) and /mcp (JSON-RPC, whose contract is MCP's: the
official client library drives it in tests/api/test_api_mcp.py); the scope matrix and the
actor tests cover those.
``POST /agents/run`` answers a schema-valid body naming an unknown workflow with 400 (the
workflows are data read at run time, so the document can't enumerate them): the check that
valid data is accepted is off for it alone; tests/api/test_agents_api.py covers its answers.
The refusals generated data never meets (a foreign Host or Origin, a body that is not JSON
or not UTF-8, a wrong method, a body too large) are sent by hand and checked against the
document the same way.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error, positive_data_acceptance

from tests.api.apikit import RunningApi, start_assistant

EXAMPLES_PER_OPERATION = 12
EXAMPLES_FOR = {"POST /ask": 3, "POST /v1/chat/completions": 6, "POST /v1/audio/speech": 6,
                "POST /v1/audio/transcriptions": 6, "POST /v1/embeddings": 6}  # fmt: skip
"""Valid /ask examples each run a model turn: a few prove the contract; so do the /v1 ones."""
UNKNOWN_NAMES_REFUSED = {"POST /agents/run", "POST /timers", "POST /alarms", "POST /reminders",
                         "GET /v1/models/{id}", "POST /v1/chat/completions",
                         "POST /v1/audio/speech", "POST /v1/audio/transcriptions",
                         "POST /v1/embeddings", "DELETE /memories",
                         "POST /lists/{list}"}  # fmt: skip
"""Operations whose schema-valid input may still be refused (400 or 404): a workflow that
doesn't exist, a time already past or a timer longer than the skills allow, a model name
that is none of Solo's, bytes that are no audio, a forget of memories with neither a filter
nor all=true, or both (OpenAPI 3.0 cannot say "exactly one of" of query parameters), a list
named only by words that name nothing ("the", "$": the skills' own words decide)."""
BUDGET_SECONDS = 90.0


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApi]:
    # Short replies: the generated /ask calls are about the contract, not the answers. Rate
    # limits out of reach: on a fast machine the generated calls would meet a 429, which
    # tests/api/test_api.py covers on its own.
    overrides = {"llm.max_tokens": 8, "api.rate_per_address": 10_000.0,
                 "api.rate_per_token": 10_000.0, "api.rate_burst": 100_000}  # fmt: skip
    running = start_assistant(tmp_path_factory.mktemp("openapi") / "var", overrides)
    # Generated /say texts would keep tts synthesising for minutes: without it /say answers
    # its documented 503, and the CPU stays with the requests under test.
    assert running.post("/actors/voice/tts/stop").status_code == 202
    yield running
    running.stop()


def test_the_server_keeps_the_documents_promises(api: RunningApi) -> None:
    schema = schemathesis.openapi.from_url(api.url + "/openapi.json").exclude(
        path_regex=r"^/(events|ws|actors/|mcp)"
    )
    headers = {"Authorization": f"Bearer {api.tokens['admin']}"}
    failures: dict[str, str] = {}
    timings: dict[str, float] = {}
    started = time.monotonic()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 12

    for operation in operations:
        examples = EXAMPLES_FOR.get(operation.label, EXAMPLES_PER_OPERATION)

        @given(case=operation.as_strategy())
        @settings(max_examples=examples, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        def check(case: schemathesis.Case) -> None:
            # 503 is a documented answer (an actor is down), so schemathesis' any-5xx check
            # is replaced by this one: never a 500, the mark of an unhandled error.
            excluded = [not_a_server_error]
            if case.operation.label in UNKNOWN_NAMES_REFUSED:
                excluded.append(positive_data_acceptance)
            response = case.call_and_validate(base_url=api.url, headers=headers, timeout=150,
                                              excluded_checks=excluded)  # fmt: skip
            assert response.status_code != 500, response.text

        began = time.monotonic()
        try:
            check()
        except Exception as error:  # every operation is checked; all failures reported
            failures[operation.label] = str(error)[:2000]
        timings[operation.label] = round(time.monotonic() - began, 1)
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
    assert time.monotonic() - started < BUDGET_SECONDS, f"seconds per operation: {timings}"


EVIL = "http://evil.example"
REFUSALS: tuple[tuple[str, str, str, int, dict[str, Any]], ...] = (
    # (method sent, path, documented operation's method, status expected, request options)
    ("POST", "/say", "POST", 415, {"data": "hi", "headers": {"Content-Type": "text/plain"}}),
    ("POST", "/say", "POST", 403, {"json": {"text": "hi"}, "headers": {"Origin": EVIL}}),
    ("POST", "/say", "POST", 400, {"data": b'{"text": "\xff"}',
                                   "headers": {"Content-Type": "application/json"}}),
    ("POST", "/say", "POST", 413, {"json": {"text": "x" * 70_000}}),
    ("GET", "/health", "GET", 421, {"headers": {"Host": "evil.example"}}),
    ("GET", "/turns", "GET", 421, {"headers": {"Host": "evil.example"}}),
    ("DELETE", "/status", "GET", 405, {}),
    ("GET", "/ask", "POST", 405, {}),
)  # fmt: skip


@pytest.mark.parametrize("sent, path, documented, status, options", REFUSALS,
                         ids=[f"{r[0]} {r[1]} {r[3]}" for r in REFUSALS])  # fmt: skip
def test_the_refusals_are_documented(api: RunningApi, sent: str, path: str, documented: str,
                                     status: int, options: dict[str, Any]) -> None:  # fmt: skip
    schema = schemathesis.openapi.from_url(api.url + "/openapi.json")
    operation = schema[path][documented]
    response = api.request(sent, path, scope="admin", **options)
    assert response.status_code == status, response.text
    assert operation.responses.find_by_status_code(status) is not None, "undocumented"
    operation.validate_response(response)  # the body matches the documented error schema
    if status == 405:
        assert documented in response.headers["Allow"]
