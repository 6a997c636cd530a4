"""The FastAPI application of the local API (the same framework as the remote API in ``server/``).

Routes under ``/v1``: ``GET models`` · ``POST chat/completions`` · ``POST audio/transcriptions`` ·
``POST audio/speech``; and ``GET /health``. With a key (always beyond loopback) every ``/v1`` route needs
``Authorization: Bearer KEY``. A request whose ``Origin`` is a web page not on this computer is refused
(403), and on loopback only a loopback ``Host`` is served, so a web page cannot drive the API through
the user's browser (DNS rebinding).

History: API conversations are not stored unless the request has ``X-Visage-Save: true``; then the
messages and the reply are saved as a new conversation (or appended to ``X-Visage-Conversation: ID``)
and the response carries ``X-Visage-Conversation`` with its id.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import FastAPI, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from app.api import audio, chat, errors
from app.api import models as model_names
from app.api.errors import ApiError
from app.api.host import EngineHost, Gates
from app.api.keys import matches
from app.core.audio_io import ASR_RATE, load_audio
from app.core.errors import AudioInputError, EngineError

log = logging.getLogger(__name__)

SAVE_HEADER = "X-Visage-Save"
CONVERSATION_HEADER = "X-Visage-Conversation"
MAX_UPLOAD_BYTES = 25 * 1024 * 1024  # OpenAI's limit for /audio/transcriptions
MAX_SPEECH_CHARS = 4096
LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]"}
OPENAI_VOICES = {"alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer", "verse"}


class SpeechRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    model: str = Field(min_length=1)
    input: str = Field(min_length=1, max_length=MAX_SPEECH_CHARS)
    voice: str = Field(min_length=1)
    response_format: str = "mp3"
    speed: float = Field(1.0, ge=0.25, le=4.0)
    instructions: str | None = None


class ClosingStreamingResponse(StreamingResponse):
    """A streaming response that always closes its body when it ends. When the client leaves, Starlette cancels the
    response while the body generator waits at a ``yield`` and leaves it there until the garbage collector finds
    it; ours holds the LLM's lock until then (the next request waited 120 s for it in one test run)."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            aclose = getattr(self.body_iterator, "aclose", None)
            if aclose is not None:
                await aclose()


def _host_name(value: str) -> str:
    if value.startswith("["):
        return value.split("]")[0] + "]"
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def create_app(host: EngineHost, *, key: str | None = None, loopback_only: bool = True) -> FastAPI:
    app = FastAPI(title="Visage local API", version="1", docs_url=None, redoc_url=None)
    errors.install(app)
    gates = Gates()

    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Response:
        origin = request.headers.get("origin")
        if origin and urlsplit(origin).hostname not in LOOPBACK_HOSTS:
            return errors.error_response(403, "Requests from web pages are refused by Visage's local API.",
                                         code="origin_refused")
        if loopback_only and _host_name(request.headers.get("host", "")) not in LOOPBACK_HOSTS:
            return errors.error_response(403, "Visage's local API answers only requests to 127.0.0.1 or localhost.",
                                         code="host_refused")
        if key is not None and request.url.path.startswith("/v1"):
            auth = request.headers.get("authorization", "")
            given = auth[7:].strip() if auth[:7].lower() == "bearer " else None
            if not matches(given, key):
                return errors.error_response(
                    401, "Missing or wrong API key: send `Authorization: Bearer KEY` with the key stored by "
                    "`visage api-key`.", code="invalid_api_key")
        return await call_next(request)  # type: ignore[no-any-return]

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "busy": gates.waiting()}

    @app.get("/v1/models")
    async def list_models() -> dict[str, Any]:
        loaded = {}
        for role in ("llm", "asr", "tts"):
            try:
                loaded[role] = (await host.engine(role))[0]
            except EngineError:  # a role without an engine is simply not listed as loaded
                loaded[role] = None
        return await asyncio.to_thread(model_names.listing, loaded)

    async def pieces(messages: list[Any], options: Any, reply: chat.Reply) -> AsyncIterator[str]:
        async with gates("llm"):
            llm, worker = await host.engine("llm")
            async for piece in worker.iterate(llm.generate, messages, options=options, outcome=reply.outcome,
                                              cancel=reply.cancel):
                yield piece

    @app.post("/v1/chat/completions", response_model=None)
    async def chat_completions(body: chat.ChatRequest, request: Request) -> Response:
        messages = chat.to_messages(body)
        options = chat.options(body, host.settings.api.max_tokens)
        llm, _ = await host.engine("llm")
        name = await asyncio.to_thread(model_names.check, "llm", body.model, llm)
        reply = chat.Reply(name)
        save = _save_target(request)
        stream = pieces(messages, options, reply)
        try:
            first = await anext(stream, None)  # errors before the first token keep their status code
        except BaseException:
            reply.cancel.set()
            await stream.aclose()
            raise
        headers: dict[str, str] = {}
        if body.stream:
            saved: int | None = None
            if save is not None:  # the id goes in the headers, sent before the reply: the reply is added at its end
                saved = await _save(host, save, messages, None)
                headers[CONVERSATION_HEADER] = str(saved)

            async def finished(text: str) -> None:
                if saved is not None:
                    await _save(host, saved, [], text)

            include_usage = bool(body.stream_options and body.stream_options.include_usage)
            body_iter = chat.event_stream(reply, first, stream, include_usage=include_usage, on_done=finished)
            return ClosingStreamingResponse(body_iter, media_type="text/event-stream", headers=headers | {
                "Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        parts = [first] if first is not None else []
        async for piece in stream:
            parts.append(piece)
        text = "".join(parts)
        if save is not None:
            headers[CONVERSATION_HEADER] = str(await _save(host, save, messages, text))
        return JSONResponse(reply.completion(text), headers=headers)

    @app.post("/v1/audio/transcriptions", response_model=None)
    async def transcriptions(
        file: Annotated[UploadFile, File()],
        model: Annotated[str, Form()],
        language: Annotated[str | None, Form()] = None,
        prompt: Annotated[str | None, Form()] = None,
        response_format: Annotated[str, Form()] = "json",
        temperature: Annotated[float, Form(ge=0.0, le=1.0)] = 0.0,
    ) -> Response:
        if response_format not in audio.TRANSCRIPT_FORMATS:
            raise ApiError(400, f"response_format must be one of {', '.join(audio.TRANSCRIPT_FORMATS)}.",
                           code="invalid_value", param="response_format")
        asr, _ = await host.engine("asr")
        await asyncio.to_thread(model_names.check, "asr", model, asr)
        samples = await _read_upload(file)
        timestamps = response_format in ("srt", "vtt", "verbose_json")
        async with gates("asr"):
            asr, worker = await host.engine("asr")
            result = await worker.call(asr.transcribe_file, samples, language=language or None, prompt=prompt,
                                       timestamps=timestamps, temperature=temperature)
        if response_format == "text":
            return PlainTextResponse(result.text + "\n")
        if response_format == "srt":
            return PlainTextResponse(audio.srt(result), media_type="application/x-subrip")
        if response_format == "vtt":
            return PlainTextResponse(audio.vtt(result), media_type="text/vtt")
        if response_format == "verbose_json":
            return JSONResponse(audio.verbose(result, samples.size / ASR_RATE))
        return JSONResponse({"text": result.text})

    @app.post("/v1/audio/speech", response_model=None)
    async def speech(body: SpeechRequest) -> Response:
        if body.response_format not in audio.FORMATS:
            raise ApiError(400, f"response_format must be one of {', '.join(audio.FORMATS)}.",
                           code="invalid_value", param="response_format")
        tts, _ = await host.engine("tts")
        voice = await asyncio.to_thread(model_names.check, "tts", body.model, tts)
        if body.voice not in {voice, *OPENAI_VOICES}:
            raise ApiError(400, f"There is no voice {body.voice!r}: Visage speaks with {voice!r} (OpenAI's voice "
                           "names also pick it).", code="invalid_value", param="voice")
        chunks = []
        async with gates("tts"):
            tts, worker = await host.engine("tts")
            async for chunk in worker.iterate(tts.synthesize, body.input):
                chunks.append(chunk)
        if not chunks:
            raise ApiError(400, "There is nothing to say in `input` (no words).", code="invalid_value",
                           param="input")
        data = await asyncio.to_thread(audio.encode, chunks, body.response_format, body.speed)
        return Response(data, media_type=audio.MEDIA_TYPES[body.response_format])

    return app


async def _read_upload(file: UploadFile) -> Any:
    """The upload decoded by Visage's own audio loader (PyAV) to 16 kHz mono; 400 with the reason if not audio."""
    data = await file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise ApiError(413, f"The audio file is larger than {MAX_UPLOAD_BYTES // 2**20} MB.",
                       code="file_too_large", param="file")
    name = Path(file.filename or "audio").name or "audio"

    def decode() -> Any:
        folder = Path(tempfile.mkdtemp(prefix="visage-api-"))
        try:
            path = folder / name
            path.write_bytes(data)
            try:
                return load_audio(path, ASR_RATE)
            except AudioInputError as err:  # name the upload, not the temporary folder
                raise AudioInputError(err.message.replace(str(path), name), hint=err.hint) from None
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    return await asyncio.to_thread(decode)


def _save_target(request: Request) -> int | bool | None:
    """None: do not store. True: a new conversation. An int: append to that conversation."""
    wanted = request.headers.get(SAVE_HEADER, "").strip().lower() in ("1", "true", "yes")
    if not wanted:
        return None
    existing = request.headers.get(CONVERSATION_HEADER, "").strip()
    if not existing:
        return True
    if not existing.isdigit():
        raise ApiError(400, f"{CONVERSATION_HEADER} must be a conversation id (a number).", code="invalid_value")
    return int(existing)


async def _save(host: EngineHost, target: int | bool, messages: list[Any], reply: str | None) -> int:
    """Store the request's messages (a new conversation: all of them; an existing one: the last user message)
    and the reply; returns the conversation's id."""
    store = await host.store()

    def write() -> int:
        conversation = store.create_conversation(None) if target is True else int(target)
        if target is True:
            kept = [m for m in messages if m.role in ("user", "assistant")]
        else:
            kept = [m for m in messages if m.role == "user"][-1:]
        for message in kept:
            store.add_message(conversation, message.role, message.content)
        if reply is not None:
            store.add_message(conversation, "assistant", reply)
        return conversation

    conversation = await asyncio.to_thread(write)
    await host.saved()
    return conversation
