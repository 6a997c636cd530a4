"""Fakes for orchestration tests only. Never a default: nothing in app/ or engines/ imports this."""

from __future__ import annotations

import threading
import time
import types
from collections.abc import Iterator, Sequence

import numpy as np

from app.core.errors import NetworkError
from engines.base import AudioChunk, ChatMessage, EngineInfo, PhonemeTiming, TranscriptResult


def _info(role: str, name: str) -> EngineInfo:
    return EngineInfo(role=role, name=name, model="fake", model_path=None, version=None, device="cpu")


class ScriptedLLM:
    """Streams a fixed reply word by word, optionally slowly; records what it was asked."""

    def __init__(self, reply: str, delay_s: float = 0.0) -> None:
        self.reply = reply
        self.delay_s = delay_s
        self.calls: list[list[ChatMessage]] = []
        self.cancels: list[threading.Event | None] = []  # the cancel event each call was given
        self.tokens_sent = 0

    def stream(self, messages: Sequence[ChatMessage], *, cancel: threading.Event | None = None) -> Iterator[str]:
        self.calls.append(list(messages))
        self.cancels.append(cancel)
        for i, word in enumerate(self.reply.split(" ")):
            if cancel is not None and cancel.is_set():
                return
            if self.delay_s:
                time.sleep(self.delay_s)
            self.tokens_sent += 1
            yield word if i == 0 else " " + word

    def info(self) -> EngineInfo:
        return _info("llm", "scripted")


class ToneTTS:
    """One chunk per call: a tone whose length follows the text (0.05 s per character)."""

    sample_rate = 16_000

    def __init__(self, name: str = "tone", fail: bool = False) -> None:
        self.name = name
        self.fail = fail
        self.spoken: list[str] = []
        self.cancels: list[threading.Event | None] = []  # the cancel event each call was given

    def synthesize(self, text: str, *, cancel: threading.Event | None = None) -> Iterator[AudioChunk]:
        self.cancels.append(cancel)
        if self.fail:
            raise NetworkError("no network")
        self.spoken.append(text)
        n = int(0.05 * len(text) * self.sample_rate)
        t = np.arange(n) / self.sample_rate
        pcm = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
        yield AudioChunk(pcm=pcm, sample_rate=self.sample_rate, text=text,
                         phonemes=(PhonemeTiming("a", 0.0, n / self.sample_rate),), timing_source="fake")

    def info(self) -> EngineInfo:
        return _info("tts", self.name)


class FixedASR:
    sample_rate = 16_000

    def __init__(self, text: str) -> None:
        self.text = text
        self.heard: list[int] = []

    def transcribe(self, audio: np.ndarray) -> TranscriptResult:
        self.heard.append(len(audio))
        return TranscriptResult(text=self.text, language="en")

    def info(self) -> EngineInfo:
        return _info("asr", "fixed")


class EnergyVAD:
    """Speech = frames louder than a threshold (the fake input is tone bursts and silence)."""

    sample_rate = 16_000
    frame_samples = 512

    def confidence(self, frame: np.ndarray) -> float:
        return 0.9 if float(np.sqrt(np.mean(frame**2))) > 0.05 else 0.05

    def reset(self) -> None:
        pass

    def info(self) -> EngineInfo:
        return _info("vad", "energy")


class FakeHistory:
    """A fake conversation history: the calls the pipeline makes (create, add, update a message), kept in lists."""

    def __init__(self) -> None:
        self.conversations: list[int] = []
        self.messages: list[dict[str, object]] = []

    def create_conversation(self, title: str | None = None) -> int:
        self.conversations.append(len(self.conversations) + 1)
        return self.conversations[-1]

    def add_message(self, conversation_id: int, role: str, text: str, *, interrupted: bool = False,
                    timings: dict[str, float] | None = None, turn_id: str | None = None,
                    supersede_from: int | None = None, incomplete: bool = False) -> int:
        self.messages.append({"conversation_id": conversation_id, "role": role, "text": text,
                              "interrupted": interrupted, "timings": timings or {}, "turn_id": turn_id,
                              "supersede_from": supersede_from, "incomplete": incomplete})
        return len(self.messages)

    def update_message(self, message_id: int, text: str, *, interrupted: bool = False, incomplete: bool = False,
                       timings: dict[str, float] | None = None) -> None:
        self.messages[message_id - 1].update(text=text, interrupted=interrupted, incomplete=incomplete,
                                             timings=timings or {})


def speech_like(seconds: float, sample_rate: int = 16_000) -> np.ndarray:
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    return (0.4 * np.sin(2 * np.pi * 180 * t)).astype(np.float32)


def silence(seconds: float, sample_rate: int = 16_000) -> np.ndarray:
    return np.zeros(int(seconds * sample_rate), np.float32)


class SchemaLLM:
    """A copy-studio LLM (``chat`` with ``json_schema``) that answers with a valid JSON object built from the
    schema itself: each text field filled with ``phrase`` cut to its limit, each list with hashtags.
    Deterministic and instant; ``delay_s`` makes it slow; records how many calls it got. With ``n_ctx`` it has
    a context window like ``LlamaCppLLM`` (``settings.n_ctx``, ``count_tokens`` at ~4 characters a token) and
    fails as llama-cpp-python does when a prompt does not fit."""

    def __init__(self, phrase: str = "Cold brew coffee made simple for busy people every morning",
                 delay_s: float = 0.0, n_ctx: int | None = None) -> None:
        self.phrase = phrase
        self.delay_s = delay_s
        self.calls = 0
        self._lock = threading.Lock()
        if n_ctx is not None:
            self.settings = types.SimpleNamespace(n_ctx=n_ctx)

    def count_tokens(self, text: str) -> int:
        return self._tokens(text)

    @staticmethod
    def _tokens(text: str) -> int:
        return len(text) // 4 + 1

    def _check_context(self, messages: Sequence[ChatMessage]) -> None:
        n_ctx = getattr(getattr(self, "settings", None), "n_ctx", None)
        tokens = sum(self._tokens(m.content) + 4 for m in messages)
        if n_ctx is not None and tokens >= n_ctx:  # llama-cpp-python's own check and words
            raise ValueError(f"Requested tokens ({tokens}) exceed context window of {n_ctx}")

    def chat(self, messages: Sequence[ChatMessage], *, grammar: str | None = None,
             json_schema: dict | None = None, max_tokens: int | None = None,  # type: ignore[type-arg]
             temperature: float | None = None, cancel: threading.Event | None = None) -> str:
        import json

        self._check_context(messages)
        with self._lock:
            self.calls += 1
            call = self.calls
        if self.delay_s:
            time.sleep(self.delay_s)
        out: dict[str, object] = {}
        for name, spec in ((json_schema or {}).get("properties") or {}).items():
            if spec.get("type") == "array":
                count = max(1, int(spec.get("minItems", 1)))
                out[name] = [f"#Tag{chr(97 + i)}{call % 10}" for i in range(count)]
            else:
                limit = int(spec.get("maxLength", 80))
                words = f"{self.phrase} {call}".split()
                text = ""
                for word in words:
                    if len(text) + len(word) + 1 > limit:
                        break
                    text = f"{text} {word}".strip()
                out[name] = text or self.phrase[:limit]
        return json.dumps(out)


class ScriptedEndOfTurn:
    """An end-of-turn model that answers the given probabilities in order (the last one repeats)."""

    def __init__(self, *probabilities: float) -> None:
        self.probabilities = list(probabilities) or [0.9]
        self.heard: list[float] = []  # seconds of audio of each call

    def complete_probability(self, audio: np.ndarray) -> float:
        self.heard.append(len(audio) / 16_000)
        index = min(len(self.heard) - 1, len(self.probabilities) - 1)
        return self.probabilities[index]
