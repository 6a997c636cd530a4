"""copy_of_playback: a short sound is our echo when it is a delayed, scaled copy of what the speakers played.

Voices are espeak-ng's: "our" reply in one voice, the user in others. The echo is the reply itself, delayed and
quieter, with some noise, cut to the quarter second that slipped past the gate in the live runs."""

from __future__ import annotations

import numpy as np
import pytest

from app.core.pipeline import ECHO_COPY
from app.core.self_echo import copy_of_playback
from tests.speech_corpus import espeak

RATE = 16_000


@pytest.fixture(scope="module")
def reply() -> np.ndarray:
    return espeak("There are seven days in a week, and the capital of France is Paris.", "en-us", 170)


def echo_of(reply: np.ndarray, at_s: float, lag_s: float, length_s: float, gain: float, seed: int = 0) -> np.ndarray:
    """What the microphone heard of ``reply`` from ``at_s`` on, ``lag_s`` late, scaled, with room noise."""
    start = round((at_s - lag_s) * RATE)
    piece = gain * reply[start : start + round(length_s * RATE)]
    return (piece + np.random.default_rng(seed).normal(0, 0.002, len(piece))).astype(np.float32)


def test_a_quarter_second_of_echo_is_a_copy_of_the_reply_at_any_delay(reply: np.ndarray) -> None:
    window_end = 2.0
    played = reply[: round(window_end * RATE)]
    for lag_s in (0.08, 0.25, 0.6):  # a laptop, a sound server's loopback, a delay that jumped
        sound = echo_of(reply, 1.2, lag_s, 0.25, gain=0.3, seed=round(lag_s * 100))
        assert copy_of_playback(sound, played) >= 0.8, lag_s


def test_the_user_in_other_voices_is_not_a_copy(reply: np.ndarray) -> None:
    played = reply[: 2 * RATE]
    users = (("Stop.", "en-gb"), ("Wait a moment.", "en-us-nyc"), ("No, thank you.", "en-029"),
             ("What is the capital of France?", "en-gb-scotland"), ("Thank you.", "en-us"))
    for text, voice in users:
        sound = espeak(text, voice, 165)
        sound = sound[np.argmax(np.abs(sound) > 0.01):]
        for length_s in (0.25, 0.6):  # the shorter, the likelier a chance match
            assert copy_of_playback(sound[: round(length_s * RATE)], played) < ECHO_COPY, (text, length_s)


def test_the_user_talking_over_the_echo_is_not_taken_for_it(reply: np.ndarray) -> None:
    played = reply[: 2 * RATE]
    user = espeak("Stop.", "en-gb", 165)
    user = user[np.argmax(np.abs(user) > 0.01):][: round(0.3 * RATE)]
    echo = echo_of(reply, 1.2, 0.1, len(user) / RATE, gain=0.3)  # -10 dB
    assert copy_of_playback(user + echo, played) < ECHO_COPY


def test_silence_and_short_input_explain_nothing() -> None:
    assert copy_of_playback(np.zeros(4000, np.float32), np.ones(16000, np.float32)) == 0.0
    assert copy_of_playback(np.ones(4000, np.float32), np.zeros(16000, np.float32)) == 0.0
    assert copy_of_playback(np.ones(4000, np.float32), np.ones(100, np.float32)) == 0.0
