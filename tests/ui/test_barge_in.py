"""Barge-in through the window, with laptop-speaker echo: the microphone hears Visage's own live playback
(delayed, quieter) all the time, and the user talks over the reply once Visage has spoken for a while.
Real models; the audio clock is a real-time file sink."""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from app.core.echo import TimelineSink
from tests.audio_helpers import espeak_clip, speak_with_piper
from tests.ui.conftest import FileAudio

pytestmark = pytest.mark.real_models
RATE = 16_000


class Room:
    """A microphone beside the speakers: the question, then the echo of what the sink plays, and the
    user's interruption once ``interrupt_after_s`` of the reply has been heard. Paced in real time."""

    sample_rate = RATE

    def __init__(self, question: np.ndarray, interruption: np.ndarray, sink: TimelineSink, *,
                 interrupt_after_s: float = 1.5, echo_gain: float = 0.5, delay_s: float = 0.05,
                 tail_s: float = 12.0) -> None:
        self.question = question
        self.interruption = interruption
        self.sink = sink
        self.interrupt_after_s = interrupt_after_s
        self.echo_gain = echo_gain
        self.delay_s = delay_s
        self.tail_s = tail_s
        self._closed = threading.Event()
        self.interrupted_at: float | None = None  # monotonic time the user started talking over Visage

    def frames(self, n: int) -> Iterator[np.ndarray]:
        start = time.monotonic()
        i = 0
        user_pos: int | None = None
        end_of_script: float | None = None
        while not self._closed.is_set():
            due = start + (i + 1) * n / RATE
            if (delay := due - time.monotonic()) > 0:
                time.sleep(delay)
            frame = np.zeros(n, np.float32)
            q0 = i * n
            if q0 < len(self.question):
                part = self.question[q0 : q0 + n]
                frame[: len(part)] += part
            heard = self.sink.audible_time()
            frame += self.echo_gain * self.sink.reference(heard - self.delay_s, n)
            if user_pos is None and heard >= self.interrupt_after_s:
                user_pos = 0
                self.interrupted_at = time.monotonic()
            if user_pos is not None and user_pos < len(self.interruption):
                part = self.interruption[user_pos : user_pos + n]
                frame[: len(part)] += part
                user_pos += n
                if user_pos >= len(self.interruption):
                    end_of_script = time.monotonic() + self.tail_s
            if end_of_script is not None and time.monotonic() > end_of_script:
                return
            i += 1
            yield frame

    def close(self) -> None:
        self._closed.set()


def test_talking_over_visage_interrupts_it_and_its_echo_does_not(qtbot, open_window, ui_env: Path) -> None:  # type: ignore[no-untyped-def]
    question = np.concatenate([np.zeros(6400, np.float32),
                               speak_with_piper("Tell me a long story about a brave knight and a dragon."),
                               np.zeros(8000, np.float32)])
    interruption = espeak_clip("Stop. What is the weather like today?")
    if interruption is None:
        interruption = speak_with_piper("Stop. What is the weather like today?")
    audio = FileAudio()
    window = open_window(audio)
    rooms: list[Room] = []

    def make_room(_clip: np.ndarray) -> Room:
        sink = window.bridge.session.sink
        assert sink is not None
        rooms.append(Room(question, interruption, sink))
        return rooms[-1]

    audio.make_source = make_room
    tokens: dict[str, str] = {}
    window.bridge.sig_token.connect(lambda tid, text: tokens.__setitem__(tid, tokens.get(tid, "") + text))
    finished: list = []
    window.bridge.sig_finished.connect(finished.append)
    transcripts: list[str] = []
    window.bridge.sig_transcript.connect(lambda _tid, text: transcripts.append(text))
    stopped_at: list[float] = []
    window.bridge.sig_state.connect(lambda s: stopped_at.append(time.monotonic()) if s == "listening" else None)

    window.hands_free.click()
    qtbot.waitUntil(lambda: len(finished) >= 2, timeout=120_000)
    window.hands_free.click()  # stop listening

    first, second = finished[0], finished[1]
    assert first.interrupted, "the reply was not interrupted by the user's speech"
    generated = tokens[first.turn_id].strip()
    heard = first.reply_text
    assert 2 <= len(heard.split()) < len(generated.split()), (heard, generated)
    assert generated.startswith(heard.rstrip(" …").split()[0])
    assert "weather" in second.user_text.lower()
    # every transcript is the user's own words (the question, or "Stop." taken as a turn of its own when the
    # end-of-turn model hears it as complete): none is Visage's echo
    said = set(re.findall(r"\w+", "tell me a long story about a brave knight and a dragon stop what is the weather"
                                   " like today"))
    for text in transcripts:
        words = {w.strip(".,!?").lower() for w in text.split()}
        assert len(words & said) >= len(words) / 2, f"Visage answered something it did not hear: {transcripts}"
    with sqlite3.connect(ui_env / "visage.db") as db:
        rows = db.execute("select role, text, interrupted from messages order by id").fetchall()
    assert rows[1] == ("assistant", heard, 1)
    assert rows[2][0] == "user" and "weather" in rows[2][1].lower()
    bubble = window.chat.bubbles[1]
    assert bubble.text == heard and "interrupted" in bubble.meta.text()
    room = rooms[0]
    assert room.interrupted_at is not None
    reaction = [t - room.interrupted_at for t in stopped_at if t > room.interrupted_at]
    print(f"barge-in: heard {heard!r}; VAD+gate reacted {reaction[0] * 1000:.0f} ms after the user started")
