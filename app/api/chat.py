"""``POST /v1/chat/completions``: OpenAI's request mapped onto the LLM engine, and its answer or chunks back.

Supported: messages (system / developer / user / assistant; text content or text parts), temperature,
top_p, max_tokens / max_completion_tokens, stop, seed, frequency and presence penalties, ``stream``
(server-sent events, ``stream_options.include_usage``), ``response_format`` json_object / json_schema
(a llama.cpp grammar built from the schema, as in the copy studio). Tools, images, ``n`` > 1 and
logprobs are refused with a 400 that says so. A temperature left out is the ``[llm]`` setting's.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.api.errors import ApiError
from engines.base import ChatMessage
from engines.llm.generation import GenerationOptions, Outcome

ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant"}


class _Loose(BaseModel):
    model_config = ConfigDict(extra="allow")  # clients send fields we ignore (user, metadata, store...)


class Message(_Loose):
    role: str
    content: str | list[dict[str, Any]] | None = None


class StreamOptions(_Loose):
    include_usage: bool = False


class ChatRequest(_Loose):
    model: str = Field(min_length=1)
    messages: list[Message] = Field(min_length=1)
    temperature: float | None = Field(None, ge=0.0, le=2.0)
    top_p: float | None = Field(None, gt=0.0, le=1.0)
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    stop: str | list[str] | None = None
    seed: int | None = None
    frequency_penalty: float = Field(0.0, ge=-2.0, le=2.0)
    presence_penalty: float = Field(0.0, ge=-2.0, le=2.0)
    n: int = Field(1, ge=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    response_format: dict[str, Any] | None = None
    tools: list[Any] | None = None
    logprobs: bool | None = None


def _text(message: Message, index: int) -> str:
    content = message.content
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    pieces = []
    for part in content:
        if part.get("type") != "text":
            raise ApiError(400, f"messages[{index}] has a {part.get('type')!r} part: Visage reads text only.",
                           code="unsupported_content", param=f"messages[{index}].content")
        pieces.append(str(part.get("text", "")))
    return "".join(pieces)


def to_messages(request: ChatRequest) -> list[ChatMessage]:
    out = []
    for i, message in enumerate(request.messages):
        role = ROLES.get(message.role)
        if role is None:
            raise ApiError(400, f"messages[{i}] has the role {message.role!r}; Visage answers system, developer, "
                           "user and assistant messages (no tools).", code="unsupported_role",
                           param=f"messages[{i}].role")
        out.append(ChatMessage(role, _text(message, i)))  # type: ignore[arg-type]
    if not any(m.role == "user" for m in out):
        raise ApiError(400, "There is no user message to answer.", code="invalid_request", param="messages")
    return out


def _schema(response_format: dict[str, Any] | None) -> dict[str, Any] | None:
    if not response_format:
        return None
    kind = response_format.get("type")
    if kind in (None, "text"):
        return None
    if kind == "json_object":
        return {"type": "object"}
    if kind == "json_schema":
        spec = response_format.get("json_schema") or {}
        schema = spec.get("schema") if isinstance(spec, dict) else None
        if not isinstance(schema, dict):
            raise ApiError(400, "response_format.json_schema.schema must be a JSON schema object.",
                           code="invalid_value", param="response_format")
        return schema
    raise ApiError(400, f"response_format type {kind!r} is not supported (text, json_object, json_schema).",
                   code="invalid_value", param="response_format")


def options(request: ChatRequest, default_max_tokens: int) -> GenerationOptions:
    if request.n != 1:
        raise ApiError(400, "Visage writes one choice per request (n = 1).", code="unsupported_value", param="n")
    if request.tools:
        raise ApiError(400, "Visage's local models do not call tools.", code="unsupported_value", param="tools")
    if request.logprobs:
        raise ApiError(400, "Visage does not return logprobs.", code="unsupported_value", param="logprobs")
    stop = (request.stop,) if isinstance(request.stop, str) else tuple(request.stop or ())
    return GenerationOptions(
        max_tokens=request.max_completion_tokens or request.max_tokens or default_max_tokens,
        temperature=request.temperature, top_p=request.top_p, stop=tuple(s for s in stop if s), seed=request.seed,
        frequency_penalty=request.frequency_penalty, presence_penalty=request.presence_penalty,
        json_schema=_schema(request.response_format),
    )


class Reply:
    """One completion's identity and its outcome, shared by the whole answer and the chunks."""

    def __init__(self, model: str) -> None:
        self.id = f"chatcmpl-{uuid.uuid4().hex}"
        self.created = int(time.time())
        self.model = model
        self.outcome = Outcome()
        self.cancel = threading.Event()

    def usage(self) -> dict[str, int]:
        o = self.outcome
        return {"prompt_tokens": o.prompt_tokens, "completion_tokens": o.completion_tokens,
                "total_tokens": o.prompt_tokens + o.completion_tokens}

    def completion(self, text: str) -> dict[str, Any]:
        return {
            "id": self.id, "object": "chat.completion", "created": self.created, "model": self.model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                         "finish_reason": self.outcome.finish_reason or "stop", "logprobs": None}],
            "usage": self.usage(),
        }

    def chunk(self, delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        return {"id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}]}

    def usage_chunk(self) -> dict[str, Any]:
        return {"id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model,
                "choices": [], "usage": self.usage()}


def sse(data: dict[str, Any] | str) -> bytes:
    """One server-sent event: ``data: <json>`` and a blank line."""
    text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return f"data: {text}\n\n".encode()


async def event_stream(reply: Reply, first: str | None, pieces: AsyncIterator[str], *,
                       include_usage: bool, on_done: Any) -> AsyncIterator[bytes]:
    """The SSE body: a role chunk, one chunk per piece, the finish chunk, usage if asked, ``[DONE]``."""
    parts: list[str] = []
    try:
        yield sse(reply.chunk({"role": "assistant", "content": ""}))
        if first is not None:
            parts.append(first)
            yield sse(reply.chunk({"content": first}))
            async for piece in pieces:
                parts.append(piece)
                yield sse(reply.chunk({"content": piece}))
        yield sse(reply.chunk({}, reply.outcome.finish_reason or "stop"))
        if include_usage:
            yield sse(reply.usage_chunk())
        yield sse("[DONE]")
        await on_done("".join(parts))
    finally:
        reply.cancel.set()  # a client that went away stops the engine at its next token
        await pieces.aclose()  # type: ignore[attr-defined]

