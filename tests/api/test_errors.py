"""Errors in OpenAI's shape with the right status codes; keys, origins and binds."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest

from app.api.server import ApiServer
from app.core.errors import ConfigError
from tests.model_choice import SMALL_LLM

pytestmark = pytest.mark.real_models
HELLO = [{"role": "user", "content": "Hello"}]


def error_of(exc: openai.APIStatusError) -> dict[str, Any]:
    body = exc.body
    assert isinstance(body, dict) and {"message", "type", "code"} <= set(body)
    return body


def test_an_unknown_model_is_a_404_naming_the_served_one(client: Any) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="gpt-4o", messages=HELLO)
    body = error_of(caught.value)
    assert body["code"] == "model_not_found" and SMALL_LLM in body["message"]
    with pytest.raises(openai.NotFoundError):
        client.audio.speech.create(model="no-such-voice", voice="alloy", input="Hi.")


def test_an_installed_model_that_is_not_loaded_says_how_to_switch(client: Any) -> None:
    installed = [m for m in client.models.list() if m.role == "llm" and not m.loaded]
    if not installed:
        pytest.skip("only one chat model is installed here")
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model=installed[0].id, messages=HELLO)
    assert error_of(caught.value)["code"] == "model_not_loaded" and "Settings" in caught.value.body["message"]


def test_bad_audio_is_a_400_with_visages_message(client: Any) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.audio.transcriptions.create(model="whisper-1", file=("memo.wav", b"this is not audio" * 50))
    body = error_of(caught.value)
    assert body["code"] == "invalid_audio" and body["param"] == "file"
    assert "memo.wav is not an audio file Visage can read" in body["message"] and "WAV, FLAC, MP3" in body["message"]
    assert "/tmp" not in body["message"]


def test_a_prompt_beyond_the_context_is_a_400(client: Any) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model=SMALL_LLM, messages=[{"role": "user", "content": "word " * 3000}])
    body = error_of(caught.value)
    assert body["code"] == "context_length_exceeded" and "n_ctx" in body["message"]
    with pytest.raises(openai.BadRequestError):  # the same when streaming: refused before the stream starts
        client.chat.completions.create(model=SMALL_LLM, stream=True,
                                       messages=[{"role": "user", "content": "word " * 3000}])


@pytest.mark.parametrize("extra", [{"temperature": 5}, {"n": 2}, {"tools": [{"type": "function", "function": {
    "name": "f", "parameters": {}}}]}, {"response_format": {"type": "grammar"}}])
def test_invalid_or_unsupported_options_are_400s(client: Any, extra: dict[str, Any]) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model=SMALL_LLM, messages=HELLO, **extra)
    assert error_of(caught.value)["type"] == "invalid_request_error"


def test_an_unknown_voice_or_format_is_a_400(client: Any) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.audio.speech.create(model="tts-1", voice="nobody", input="Hi.")
    assert "joe" in caught.value.body["message"]
    with pytest.raises(openai.BadRequestError):
        client.audio.speech.create(model="tts-1", voice="alloy", input="Hi.", response_format="ogg-vorbis")  # type: ignore[arg-type]


def test_a_web_page_or_a_foreign_host_name_is_refused(api_server: ApiServer) -> None:
    url = f"http://127.0.0.1:{api_server.port}/v1/models"
    assert httpx.get(url).status_code == 200
    page = httpx.get(url, headers={"Origin": "https://evil.example"})
    assert page.status_code == 403 and page.json()["error"]["code"] == "origin_refused"
    rebinding = httpx.get(url, headers={"Host": "evil.example:8765"})
    assert rebinding.status_code == 403 and rebinding.json()["error"]["code"] == "host_refused"


def test_with_a_key_every_request_needs_it(api_host: Any) -> None:
    with ApiServer(api_host, port=0, key="a-long-enough-test-key") as server:
        wrong = openai.OpenAI(base_url=server.url, api_key="wrong-key", max_retries=0)
        with pytest.raises(openai.AuthenticationError) as caught:
            wrong.models.list()
        assert error_of(caught.value)["code"] == "invalid_api_key"
        right = openai.OpenAI(base_url=server.url, api_key="a-long-enough-test-key", max_retries=0)
        assert any(m.loaded for m in right.models.list())


def test_listening_beyond_loopback_without_a_key_is_refused(api_host: Any) -> None:
    with pytest.raises(ConfigError) as caught:
        ApiServer(api_host, bind_host="0.0.0.0", port=0, key=None)
    assert "needs an API key" in caught.value.message and "visage api-key" in (caught.value.hint or "")


def test_a_port_in_use_is_a_clear_error(api_host: Any, api_server: ApiServer) -> None:
    with pytest.raises(ConfigError) as caught:
        ApiServer(api_host, port=api_server.port)
    assert "already in use" in caught.value.message
