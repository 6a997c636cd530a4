"""The server's default generation path: the copy studio on the shipped SmolLM2 GGUF via LlamaCppLLM."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from server.app import create_app
from server.settings import ServerSettings
from server.storage import Storage
from tests.remote_helpers import brief_dict, oversize_request


@pytest.mark.real_models
def test_generate_on_the_shipped_model(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/server.db"
    storage = Storage(url)
    _, key = storage.create_key("real")
    app = create_app(ServerSettings(database_url=url, llm_threads=1), storage=storage)  # default LLM factory
    with TestClient(app) as client:
        assert "loaded on first generate" in client.get("/v11/health").json()["components"]["llm"]["detail"]
        r = client.post("/v11/generate", json={"brief": brief_dict("slogan-1"), "n": 1}, headers={"X-API-Key": key})
        assert r.status_code == 200, r.text
        variant = r.json()["variants"][0]
        assert variant["type"] == "slogan" and variant["text"].strip()
        assert r.json()["model"] == "smollm2-135m"
        assert client.get("/v11/health").json()["components"]["llm"]["detail"] == "smollm2-135m loaded"
    storage.close()


@pytest.mark.real_models
def test_an_oversize_brief_on_the_shipped_model_is_a_413_not_a_500(tmp_path: Path) -> None:
    """The server's model has n_ctx 2,048: a brief and brand voice at the API's maximum do not fit."""
    url = f"sqlite:///{tmp_path}/server.db"
    storage = Storage(url)
    _, key = storage.create_key("real")
    app = create_app(ServerSettings(database_url=url, llm_threads=1), storage=storage)  # default LLM factory
    with TestClient(app) as client:
        r = client.post("/v11/generate", json=oversize_request(), headers={"X-API-Key": key})
        assert r.status_code == 413, r.text
        assert r.json()["detail"]["code"] == "prompt_too_long" and "2,048 tokens" in r.json()["detail"]["message"]
        body = oversize_request()
        del body["voice"]  # the longest brief alone does not fit either
        r = client.post("/v11/generate", json=body, headers={"X-API-Key": key})
        assert r.status_code == 413, r.text
    storage.close()
