"""Events that flow forward through the pipeline, and commands that flow back.

Every event is a small frozen dataclass with the ``turn_id`` it belongs to and the monotonic time ``t``
(seconds, ``time.monotonic()``) at which it was produced, so per-stage latency falls out of the events.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from engines.base import AudioChunk


def now() -> float:
    return time.monotonic()


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    turn_id: str
    t: float = field(default_factory=now)


@dataclass(frozen=True, slots=True, kw_only=True)
class SpeechStarted(Event):
    """The VAD found the start of user speech (``offset_s`` into the input stream)."""

    offset_s: float


@dataclass(frozen=True, slots=True, kw_only=True)
class SpeechEnded(Event):
    """The VAD decided the user stopped speaking. ``audio`` is mono float32 at ``sample_rate``."""

    audio: np.ndarray = field(repr=False)
    sample_rate: int
    offset_s: float  # end of speech, seconds into the input stream
    hangover_s: float  # silence the VAD waited for before deciding


@dataclass(frozen=True, slots=True, kw_only=True)
class Transcript(Event):
    text: str
    language: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class UserMessageSaved(Event):
    """The user's message of this turn is stored (``message_id``), before the reply starts."""

    message_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Token(Event):
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Sentence(Event):
    """A piece of the reply ready to speak (the first one may be an early clause)."""

    text: str
    index: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SpeechChunk(Event):
    """Synthesized audio for one sentence."""

    chunk: AudioChunk = field(repr=False)
    sentence_index: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Notice(Event):
    """Something the user must see: a fallback taken, a device missing. ``level`` is info|warning|error."""

    message: str
    level: str = "warning"


@dataclass(frozen=True, slots=True, kw_only=True)
class TurnFinished(Event):
    user_text: str
    reply_text: str  # what the user actually heard / saw
    interrupted: bool
    timings: dict[str, float]  # stage name -> seconds, see app.core.turn.Timings
    user_message_id: int | None = None  # the stored rows (None: not stored, e.g. an empty interrupted reply)
    reply_message_id: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplyResumed(Event):
    """The reply stopped for a sound that was not the user (its own echo, a cough) goes on from where it was cut."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TurnDropped(Event):
    """A heard utterance got no answer: no words in it, or it was Visage's own voice (``reason`` says which)."""

    reason: str


# ---- control: flows against the data, read first ----


@dataclass(frozen=True, slots=True, kw_only=True)
class Command:
    t: float = field(default_factory=now)


@dataclass(frozen=True, slots=True, kw_only=True)
class Interrupt(Command):
    turn_id: str | None = None  # None: whatever turn is running


@dataclass(frozen=True, slots=True, kw_only=True)
class SwitchEngine(Command):
    role: str
    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Shutdown(Command):
    pass
