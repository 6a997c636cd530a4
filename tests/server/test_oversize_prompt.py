"""A brief and brand voice at the API's maximum sizes do not fit a 2,048-token model: the answer is a 413
that says so and what to shorten, never a 500, on both backends and in batches (fake studio LLM with the
real engine's context check; tests/server/test_real_model.py does the same on the shipped model)."""

from __future__ import annotations

from collections.abc import Callable

from tests.fakes import SchemaLLM
from tests.remote_helpers import brief_dict, oversize_request

from .conftest import Server


def test_an_oversize_brief_and_voice_get_a_413_with_a_message(make_server: Callable[..., Server]) -> None:
    server = make_server(llm=SchemaLLM(n_ctx=2048))
    r = server.client.post("/v11/generate", json=oversize_request(), headers=server.auth)
    assert r.status_code == 413, r.text
    detail = r.json()["detail"]
    assert detail["code"] == "prompt_too_long" and "2,048 tokens" in detail["message"]
    assert "Shorten the brief" in detail["hint"] and "brand voice" in detail["hint"]
    assert server.llm.calls == 0  # refused before the model read anything
    ok = server.client.post("/v11/generate", json={"brief": brief_dict("ad-1"), "n": 1}, headers=server.auth)
    assert ok.status_code == 200  # an ordinary brief still goes through


def test_a_batch_reports_the_oversize_item_and_answers_the_rest(make_server: Callable[..., Server]) -> None:
    server = make_server(llm=SchemaLLM(n_ctx=2048))
    items = [oversize_request(), {"brief": brief_dict("slogan-1"), "n": 1}]
    r = server.client.post("/v11/batch-generate", json={"items": items}, headers=server.auth)
    assert r.status_code == 200, r.text
    first, second = r.json()["results"]
    assert not first["ok"] and first["error"]["code"] == "prompt_too_long"
    assert second["ok"] and second["variants"]


def test_the_engines_own_refusal_is_a_413_too(make_server: Callable[..., Server]) -> None:
    """Should the estimate fall short, llama-cpp-python's ValueError still becomes a 413, not a 500."""

    class Unmeasured(SchemaLLM):  # a context window but no token counter: only the engine's check is left
        count_tokens = None  # type: ignore[assignment]

    server = make_server(llm=Unmeasured(n_ctx=2048))
    r = server.client.post("/v11/generate", json=oversize_request(), headers=server.auth)
    assert r.status_code == 413 and r.json()["detail"]["code"] == "prompt_too_long", r.text
