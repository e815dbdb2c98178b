"""Property-based API testing with schemathesis: every operation of /openapi.json, no 5xx.

The real ``gb serve`` runs as a subprocess on SQLite (the project's bots); schemathesis reads its
OpenAPI document and generates requests for each operation (a bounded number of examples each).
Operations that need a Bearer token get a fresh, valid one per request (a new session), so the
generated bodies reach the dialog runtime instead of stopping at 401.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from tests.helpers.bots import copy_example_bots
from tests.helpers.servers import Server, bearer, gb_environ

MAX_EXAMPLES = 20  # per operation: 6 operations, about 10 s in all


@pytest.fixture(scope="module")
def gb_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`gb serve` on a fresh SQLite file; its output is checked for tracebacks at the end."""
    tmp = tmp_path_factory.mktemp("schemathesis")
    with Server(gb_environ(copy_example_bots(tmp / "bots"), tmp / "data"), tmp / "server.log") as server:
        yield server.url
    assert server.proc.returncode == 0, server.log_tail(5000)


@pytest.fixture(scope="module")
def api_schema(gb_url: str) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{gb_url}/openapi.json")


@pytest.fixture(scope="module")
def fresh_token(gb_url: str) -> Iterator[Callable[[], str]]:
    """A callable giving a new session's token (DELETE /api/session ends one; rate limits are per session)."""
    with httpx.Client(base_url=gb_url, timeout=30) as client:
        def make() -> str:
            r = client.post("/api/session")
            assert r.status_code == 201, r.text
            return str(r.json()["token"])

        yield make


OPERATIONS = [("POST", "/api/session"), ("GET", "/api/session"), ("DELETE", "/api/session"),
              ("POST", "/api/chat"), ("GET", "/api/session/history"), ("GET", "/healthz"), ("GET", "/metrics")]


def test_the_document_lists_every_operation(api_schema: schemathesis.BaseSchema) -> None:
    """The operations below are exactly those of the served document (a new one must be added)."""
    served = {(op.method.upper(), op.path) for op in (r.ok() for r in api_schema.get_all_operations())}
    assert served == set(OPERATIONS)


# schemathesis.pytest.from_fixture(...).parametrize() fails on pytest 9 (schemathesis 4.32.5 reads
# request.node._nodeid, gone in pytest 9), so each operation of the served document is one test
# here, driven by the operation's own hypothesis strategy: valid and invalid requests alike.
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
@pytest.mark.timeout(120)
def test_no_server_error(api_schema: schemathesis.BaseSchema, fresh_token: Callable[[], str],
                         method: str, path: str) -> None:
    operation = api_schema[path][method]
    secured = bool(operation.definition.raw.get("security"))
    cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))

    @given(case=cases)
    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    def check(case: schemathesis.Case) -> None:
        headers = bearer(fresh_token()) if secured else {}
        case.call_and_validate(headers=headers, checks=[not_a_server_error], timeout=30)

    check()
