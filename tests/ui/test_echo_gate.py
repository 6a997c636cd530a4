"""The echo gate against a recorded mix of our own playback (through a simulated room) plus user speech.

The microphone signal is built once: Visage's real Piper reply, delayed, quieter, with a small reverb,
a low-pass and noise (what a laptop's microphone hears from its own speakers), plus a user's line spoken
by another synthesizer (espeak-ng) two seconds in. The real Silero VAD and segmenter decide turns.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

from app.core.audio_io import FileAudioSink
from app.core.config import VADSettings
from app.core.echo import EchoGate, TimelineSink
from app.core.segmenter import Segmenter, SpeechStart
from tests.audio_helpers import espeak_clip, speak_with_piper

pytestmark = pytest.mark.real_models

RATE = 16_000
REPLY = "Paris is the capital of France. It is known for the Eiffel Tower, fine food and long walks by the river."
USER_AT_S = 2.0


@functools.cache
def playback() -> TimelineSink:
    from tests.audio_helpers import _piper

    sink = TimelineSink(FileAudioSink())
    for chunk in _piper().synthesize(REPLY):
        sink.play(chunk)
    return sink


def room(x: np.ndarray, delay_s: float = 0.06, gain: float = 0.5) -> np.ndarray:
    rng = np.random.default_rng(0)
    d = int(delay_s * RATE)
    y = np.concatenate([np.zeros(d, np.float32), x])[: len(x)] * gain
    ir = np.zeros(1600)
    ir[[0, 160, 480, 1200]] = [1.0, 0.3, 0.15, 0.08]  # direct sound and three reflections
    y = np.convolve(y, ir)[: len(x)]
    y = np.convolve(y, np.ones(3) / 3, mode="same")  # the speaker/mic roll-off
    return (y + rng.normal(0, 0.002, len(y))).astype(np.float32)


@functools.cache
def signals() -> tuple[np.ndarray, np.ndarray, int]:
    sink = playback()
    reference = sink.reference(sink.end_time, int(sink.end_time * RATE))
    echo = room(reference)
    user = espeak_clip("Stop please, wait a moment.")
    if user is None:
        user = speak_with_piper("Stop please, wait a moment.")  # same voice, different words: still not echo
    mix = echo.copy()
    start = int(USER_AT_S * RATE)
    mix[start : start + len(user)] += 0.5 * user[: len(mix) - start]
    return echo, mix, len(user)


def speech_starts(signal: np.ndarray, gated: bool) -> list[float]:
    from engines.vad.silero import SileroVAD

    vad = SileroVAD(VADSettings())
    segmenter = Segmenter(VADSettings(), RATE, vad.frame_samples)
    gate = EchoGate.for_sink(playback())
    starts = []
    n = vad.frame_samples
    for i in range(0, len(signal) - n + 1, n):
        frame = signal[i : i + n]
        if gated:
            frame = gate.process(frame, at=(i + n) / RATE).frame
        found = segmenter.push(frame, vad.confidence(frame))
        if isinstance(found, SpeechStart):
            starts.append(found.offset_s)
    return starts


def test_without_the_gate_our_own_voice_would_be_taken_for_the_user() -> None:
    echo, _, _ = signals()
    assert speech_starts(echo, gated=False), "control: the raw echo must look like speech to the VAD"


def test_the_gate_keeps_our_own_voice_from_the_vad() -> None:
    echo, _, _ = signals()
    assert speech_starts(echo, gated=True) == []


def test_the_user_talking_over_our_voice_gets_through_at_the_right_time() -> None:
    _, mix, user_len = signals()
    starts = speech_starts(mix, gated=True)
    assert starts, "the user's barge-in was swallowed by the gate"
    assert USER_AT_S - 0.3 <= starts[0] <= USER_AT_S + 0.5
    assert all(USER_AT_S - 0.3 <= s <= USER_AT_S + user_len / RATE for s in starts)


def test_frames_pass_untouched_when_nothing_plays() -> None:
    gate = EchoGate(lambda: 0.0, lambda _t, n: np.zeros(n, np.float32))
    frame = np.random.default_rng(1).normal(0, 0.1, 512).astype(np.float32)
    result = gate.process(frame)
    assert not result.playing and result.passed
    assert np.array_equal(result.frame, frame)


def test_the_sink_clock_places_chunks_and_forgets_what_was_never_played() -> None:
    inner = FileAudioSink(realtime=False)
    sink = TimelineSink(inner)
    placed: list[float] = []
    sink.add_listener(lambda chunk, offset: placed.append(offset))
    from engines.base import AudioChunk

    tone = AudioChunk(pcm=np.full(8000, 0.5, np.float32), sample_rate=16_000)
    sink.play(tone)
    sink.play(tone)
    assert placed == [0.0, 0.5]
    assert sink.end_time == pytest.approx(1.0)
    assert np.allclose(sink.reference(1.0, 16_000), 0.5)
