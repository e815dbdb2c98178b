"""Property-based API testing with schemathesis: every operation of /openapi.json (the API and
the Direct Line subset), valid and invalid requests alike.

The real ``gb serve`` runs as a subprocess on SQLite (the project's bots); schemathesis reads its
OpenAPI document and generates requests for each operation (a bounded number of examples each).
Operations that need a Bearer token get a fresh, valid one per request (a new session), so the
generated bodies reach the dialog runtime instead of stopping at 401; a conversation id in a
Direct Line path is, half the time, the token's own (else whatever was generated).

Each response is checked: not a server error; its status, content type, headers and body are
those the document declares; invalid data is refused (a 4xx: 413 for a message over its
maxLength, as design.md has it). The server's log has no traceback at the end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.parameters import ParameterLocation

from tests.helpers.bots import copy_example_bots
from tests.helpers.servers import Server, bearer, gb_environ

MAX_EXAMPLES = 20  # per operation: 13 operations, about 20 s in all
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
# what refusing invalid data may answer: schemathesis' default list, and 413 (a message over its maxLength)
REJECTED = [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429]


@pytest.fixture(scope="module")
def gb_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`gb serve` on a fresh SQLite file; its output is checked for tracebacks at the end."""
    tmp = tmp_path_factory.mktemp("schemathesis")
    with Server(gb_environ(copy_example_bots(tmp / "bots"), tmp / "data"), tmp / "server.log") as server:
        yield server.url
    assert server.proc.returncode == 0, server.log_tail(5000)
    log = server.log.read_text(errors="replace")
    assert "Traceback" not in log and "Uncaught exception" not in log, log[-5000:]


@pytest.fixture(scope="module")
def api_schema(gb_url: str) -> schemathesis.BaseSchema:
    config = schemathesis.config.SchemathesisConfig.from_dict(
        {"checks": {"negative_data_rejection": {"expected-statuses": REJECTED}}})
    return schemathesis.openapi.from_url(f"{gb_url}/openapi.json", config=config)


@pytest.fixture(scope="module")
def fresh_token(gb_url: str) -> Iterator[Callable[[], tuple[str, str]]]:
    """A callable giving a new session's token and id (DELETE /api/session ends one; rate limits are
    per session)."""
    with httpx.Client(base_url=gb_url, timeout=30) as client:
        def make() -> tuple[str, str]:
            r = client.post("/api/session")
            assert r.status_code == 201, r.text
            return str(r.json()["token"]), str(r.json()["session_id"])

        yield make


DL = "/v3/directline"
OPERATIONS = [("POST", "/api/session"), ("GET", "/api/session"), ("DELETE", "/api/session"),
              ("POST", "/api/chat"), ("GET", "/api/session/history"), ("GET", "/healthz"), ("GET", "/metrics"),
              ("POST", "/api/upload"), ("GET", "/files/{fileId}"),
              ("POST", f"{DL}/tokens/generate"), ("POST", f"{DL}/tokens/refresh"), ("POST", f"{DL}/conversations"),
              ("GET", f"{DL}/conversations/{{conversationId}}"),
              ("GET", f"{DL}/conversations/{{conversationId}}/activities"),
              ("POST", f"{DL}/conversations/{{conversationId}}/activities")]


def test_the_document_lists_every_operation(api_schema: schemathesis.BaseSchema) -> None:
    """The operations below are exactly those of the served document (a new one must be added)."""
    served = {(op.method.upper(), op.path) for op in (r.ok() for r in api_schema.get_all_operations())}
    assert served == set(OPERATIONS)


def rejection_check(case: schemathesis.Case) -> list[Any]:
    """negative_data_rejection when the body alone is the invalid part: the test sets the header
    (a valid token) and the conversation id itself, and an unknown query parameter is ignored,
    as HTTP servers do, not refused."""
    assert case.meta is not None
    negative = {location for location, info in case.meta.components.items() if info.mode.is_negative}
    return [negative_data_rejection] if negative == {ParameterLocation.BODY} else []


# schemathesis.pytest.from_fixture(...).parametrize() fails on pytest 9 (schemathesis 4.32.5 reads
# request.node._nodeid, gone in pytest 9), so each operation of the served document is one test
# here, driven by the operation's own hypothesis strategy: valid and invalid requests alike.
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
@pytest.mark.timeout(120)
def test_every_response_as_documented(api_schema: schemathesis.BaseSchema,
                                      fresh_token: Callable[[], tuple[str, str]], method: str, path: str) -> None:
    operation = api_schema[path][method]
    secured = bool(operation.definition.raw.get("security"))
    cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))

    @given(case=cases, own_conversation=st.booleans())
    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    def check(case: schemathesis.Case, own_conversation: bool) -> None:
        headers: dict[str, str] = {}
        if secured:
            token, session_id = fresh_token()
            headers = bearer(token)
            if own_conversation and case.path_parameters and "conversationId" in case.path_parameters:
                case.path_parameters["conversationId"] = session_id
        case.call_and_validate(headers=headers, checks=CHECKS + rejection_check(case), timeout=30)

    check()
