"""Engine contracts. Every engine is synchronous and is called from one worker thread at a time.

Adapters live in ``engines/<role>/`` and are named ``<Library><Role>`` (``FasterWhisperASR``,
``LlamaCppLLM``...). Heavy imports happen inside the adapter modules, which the registry imports lazily.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

import numpy as np

Role = Literal["vad", "asr", "llm", "tts", "turn"]


@dataclass(frozen=True, slots=True)
class PhonemeTiming:
    """One phoneme of synthesized speech: IPA symbol, start and duration in seconds from chunk start."""

    phoneme: str
    start: float
    duration: float


@dataclass(frozen=True, slots=True)
class AudioChunk:
    """Mono float32 PCM in [-1, 1] at ``sample_rate``; phoneme timings when the engine knows them."""

    pcm: np.ndarray = field(repr=False)
    sample_rate: int
    text: str = ""
    phonemes: tuple[PhonemeTiming, ...] | None = None
    #: where the timings came from: "piper-alignment", "espeak", "word-boundary", or None
    timing_source: str | None = None

    @property
    def duration(self) -> float:
        return len(self.pcm) / float(self.sample_rate)


@dataclass(frozen=True, slots=True)
class ChatMessage:
    role: Literal["system", "user", "assistant"]
    content: str


@dataclass(frozen=True, slots=True)
class TranscriptResult:
    text: str
    language: str | None = None
    #: (start_s, end_s, text) per segment
    segments: tuple[tuple[float, float, str], ...] = ()
    #: how the text was decoded: "trimmed" (the real audio length), "padded" (Whisper's 30 s window)
    decode: str = "padded"
    #: why the trimmed pass was not trusted (then ``decode`` is "padded"); None when it was not tried or held
    fallback_reason: str | None = None


@dataclass(frozen=True, slots=True)
class EngineInfo:
    """What ``visage doctor`` prints about a loaded or loadable engine."""

    role: str
    name: str
    model: str  # human name of the model
    model_path: str | None
    version: str | None  # library version
    device: str  # "cpu", "cuda", ...
    device_reason: str = ""  # why that device ("no CUDA build of llama.cpp", ...)
    details: dict[str, str] = field(default_factory=dict)


@runtime_checkable
class VAD(Protocol):
    sample_rate: int  # Hz the model expects
    frame_samples: int  # samples per call to ``confidence``

    def confidence(self, frame: np.ndarray) -> float:
        """Speech probability of one frame of ``frame_samples`` float32 samples."""

    def reset(self) -> None:
        """Forget recurrent state (call between independent streams)."""

    def info(self) -> EngineInfo: ...


@runtime_checkable
class ASR(Protocol):
    sample_rate: int

    def transcribe(self, audio: np.ndarray) -> TranscriptResult:
        """Transcribe mono float32 audio at ``sample_rate``."""

    def info(self) -> EngineInfo: ...


@runtime_checkable
class EndOfTurn(Protocol):
    """Semantic end-of-turn detection: has the speaker finished, judged from the utterance's audio?"""

    sample_rate: int
    threshold: float  # above it the turn counts as complete

    def complete_probability(self, audio: np.ndarray) -> float:
        """P(the utterance in ``audio``, mono at ``sample_rate``, is a finished turn), in [0, 1]."""

    def info(self) -> EngineInfo: ...


@runtime_checkable
class LLM(Protocol):
    def stream(
        self, messages: Sequence[ChatMessage], *, cancel: threading.Event | None = None
    ) -> Iterator[str]:
        """Yield text pieces of the reply as they are decoded; stop early when ``cancel`` is set."""

    def info(self) -> EngineInfo: ...


@runtime_checkable
class SentenceEndJudge(Protocol):
    """An LLM that can also say whether the user's words so far are a finished sentence."""

    def sentence_end_probability(self, messages: Sequence[ChatMessage]) -> float | None:
        """P(the last message's words, trailing punctuation aside, end a sentence); None: no opinion."""


@runtime_checkable
class TTS(Protocol):
    sample_rate: int

    def synthesize(self, text: str, *, cancel: threading.Event | None = None) -> Iterator[AudioChunk]:
        """Yield audio for ``text``, one chunk per sentence, as soon as each is ready."""

    def info(self) -> EngineInfo: ...
