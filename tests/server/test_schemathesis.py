"""Property-based API test from the server's own OpenAPI schema: no generated input may cause a 5xx.

Bounded: a fixed number of examples per operation (the whole file runs in well under a minute).
Runs with a valid API key (so validation and handlers are reached, not just the 401 path) on SQLite,
with a fake studio LLM (generation logic is real; only the model's text is canned) that has the server
model's 2,048-token context window. Besides the generated cases, briefs and brand voices at the API's
maximum sizes (beyond that window) go through the same checks: a 413, never a 5xx.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from server.app import create_app
from server.settings import ServerSettings
from server.storage import Storage
from tests.fakes import SchemaLLM
from tests.remote_helpers import brief_dict, oversize_request

_dir = Path(tempfile.mkdtemp(prefix="visage-schemathesis-"))
_url = f"sqlite:///{_dir}/server.db"
_storage = Storage(_url)
_, KEY = _storage.create_key("schemathesis")
APP = create_app(ServerSettings(database_url=_url, rate_per_minute=1e6, rate_burst=100_000, max_waiting=100),
                 storage=_storage, llm_factory=lambda: SchemaLLM(n_ctx=2048))

schemathesis.experimental.OPEN_API_3_1.enable()  # FastAPI writes OpenAPI 3.1
schema = schemathesis.from_asgi("/openapi.json", APP)


@schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
def test_no_server_errors(case: schemathesis.Case) -> None:
    case.headers = {**(case.headers or {}), "X-API-Key": KEY}
    response = case.call_asgi()
    case.validate_response(response, checks=(not_a_server_error,))


def _oversize_cases() -> list[tuple[str, dict[str, object]]]:
    body = oversize_request()
    brief_only = {k: v for k, v in body.items() if k != "voice"}
    return [("/v11/generate", body), ("/v11/generate", brief_only),
            ("/v11/batch-generate", {"items": [body, {"brief": brief_dict("ad-1"), "n": 1}]})]


def test_oversize_briefs_are_refused_without_server_errors() -> None:
    for path, body in _oversize_cases():
        case = schema[path]["POST"].make_case(body=body, headers={"X-API-Key": KEY},
                                               media_type="application/json")
        response = case.call_asgi()
        case.validate_response(response, checks=(not_a_server_error,))
        if path == "/v11/generate":
            assert response.status_code == 413 and response.json()["detail"]["code"] == "prompt_too_long"
        else:
            assert [r["ok"] for r in response.json()["results"]] == [False, True]
