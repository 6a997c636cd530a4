"""The raw wire format of a streamed reply (httpx, no SDK), and history only on request."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from app.api.server import ApiServer
from tests.model_choice import SMALL_LLM

pytestmark = pytest.mark.real_models


def test_server_sent_events_are_framed_as_openai_does(api_server: ApiServer) -> None:
    body = {"model": SMALL_LLM, "messages": [{"role": "user", "content": "Count to five."}], "stream": True,
            "max_tokens": 20, "temperature": 0}
    with httpx.stream("POST", f"{api_server.url}/chat/completions", json=body, timeout=120) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        raw = b"".join(response.iter_bytes()).decode()
    assert raw.endswith("data: [DONE]\n\n")
    events = raw.split("\n\n")[:-1]
    assert all(e.startswith("data: ") and "\n" not in e for e in events)
    chunks = [json.loads(e[6:]) for e in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" and c["model"] == SMALL_LLM for c in chunks)
    assert len({c["id"] for c in chunks}) == 1
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert chunks[-1]["choices"][0]["finish_reason"] in ("stop", "length") and chunks[-1]["choices"][0]["delta"] == {}
    assert all(c["choices"][0]["finish_reason"] is None for c in chunks[:-1])
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks).strip()


def conversations(host: Any) -> list[Any]:
    import asyncio

    store = asyncio.run(host.store())
    return store.list_conversations()


def test_api_conversations_are_stored_only_when_the_request_asks(api_server: ApiServer, api_host: Any) -> None:
    before = len(conversations(api_host))
    body = {"model": SMALL_LLM, "messages": [{"role": "user", "content": "Remember the blue door."}],
            "max_tokens": 8, "temperature": 0}
    plain = httpx.post(f"{api_server.url}/chat/completions", json=body, timeout=120)
    assert plain.status_code == 200 and "X-Visage-Conversation" not in plain.headers
    assert len(conversations(api_host)) == before
    saved = httpx.post(f"{api_server.url}/chat/completions", json=body, headers={"X-Visage-Save": "true"},
                       timeout=120)
    conversation_id = int(saved.headers["X-Visage-Conversation"])
    streamed = httpx.post(f"{api_server.url}/chat/completions", timeout=120,
                          json=body | {"stream": True, "messages": [{"role": "user", "content": "And the key?"}]},
                          headers={"X-Visage-Save": "1", "X-Visage-Conversation": str(conversation_id)})
    assert streamed.status_code == 200 and streamed.text.endswith("data: [DONE]\n\n")
    assert len(conversations(api_host)) == before + 1
    store = __import__("asyncio").run(api_host.store())
    messages = store.get_conversation(conversation_id).messages
    assert [m.role for m in messages] == ["user", "assistant", "user", "assistant"]
    assert messages[0].text == "Remember the blue door."
    assert messages[1].text == saved.json()["choices"][0]["message"]["content"]
    assert messages[2].text == "And the key?" and messages[3].text
