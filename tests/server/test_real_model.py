"""The server's default generation path: the copy studio on the shipped SmolLM2 GGUF via LlamaCppLLM."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from server.app import create_app
from server.settings import ServerSettings
from server.storage import Storage
from tests.remote_helpers import brief_dict


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
