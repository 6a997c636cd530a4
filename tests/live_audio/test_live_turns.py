"""Voice turns on a real sound server (PulseAudio, null sinks) with the app's real sounddevice backend.

The user speaks into the microphone sink with `paplay`; what Visage says is recorded from the speakers'
monitor with `parec`. Voices are espeak-ng's (not the app's own Piper voice). Cases: a hands-free turn; talking
over a long reply (playback stops on the speakers; how fast is bench/barge_in.py's job; the question is answered
whole, the reply is stored as heard and marked interrupted); a typed turn talked over; and the same with an
echo path (the speakers heard by the microphone at -10 dB, 80 ms):
Visage never answers its own voice and barge-in still works.
"""

from __future__ import annotations

import re
import time

import numpy as np
import pytest

from tests.live_audio.app_process import ListeningApp
from tests.live_audio.pulse import PulseServer, Recorder
from tests.speech_corpus import espeak

pytestmark = pytest.mark.real_models

LONG_REQUEST = "Please tell me a long story about a dragon who learns to bake bread."
QUESTION = "What is the capital of France?"
STOPPED_WITHIN_S = 1.0  # the reply had many seconds left: still playing after 1 s = not interrupted


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z']+", text.lower()))


def speech_onset(pcm: np.ndarray, rate: int = 16_000, floor: float = 0.01) -> float:
    """Seconds into ``pcm`` where the voice starts (espeak clips begin with a little silence)."""
    loud = np.nonzero(np.abs(pcm) > floor)[0]
    return float(loud[0] / rate) if len(loud) else 0.0


def ask_and_wait_for_reply(pulse: PulseServer, app: ListeningApp, text: str, voice: str = "en-gb") -> float:
    clip = espeak(text, voice, 160)
    said = pulse.say(clip)
    app.wait_for(lambda e: e["kind"] == "first_audio", timeout=90, after=said)
    return said


def talk_over(pulse: PulseServer, app: ListeningApp, spk_after: float, *, voice: str = "en-us") -> tuple[float, dict]:
    """Wait until Visage has spoken ~2 s after ``spk_after``, then ask QUESTION over it. Returns (when the
    user's voice started, the finished event of the question's turn)."""
    app.wait_for(lambda e: e["kind"] == "state" and e["state"] == "speaking", timeout=90, after=spk_after)
    time.sleep(2.0)
    clip = espeak(QUESTION, voice, 165)
    voice_at = pulse.say(clip) + speech_onset(clip)
    answered = app.wait_for(
        lambda e: e["kind"] == "finished" and "france" in e["user"].lower(), timeout=120, after=voice_at - 1
    )
    return voice_at, answered


def assert_stopped_quickly(speakers: Recorder, voice_at: float, answer: ListeningApp) -> float:
    """Playback of the talked-over reply ends within the bound after the user's voice starts, measured on the
    speakers' monitor: the last sound before the silence that lasts until the answer is heard."""
    answer_audio = answer.wait_for(lambda e: e["kind"] == "first_audio", timeout=60, after=voice_at)["t"]
    times, rms = speakers.envelope()
    before_answer = (times >= voice_at - 1.0) & (times < answer_audio) & (rms > 0.003)
    assert before_answer.any(), "nothing was playing when the user talked over Visage"
    stopped_at = float(times[before_answer][-1] + Recorder.block / 16_000)
    latency = stopped_at - voice_at
    heard = answer.of_kind("speech_started", after=voice_at - 0.5)
    detected = f"{(heard[0]['t'] - voice_at) * 1000:.0f} ms" if heard else "never"
    print(f"barge-in: playback stopped {latency * 1000:.0f} ms after the user started speaking "
          f"(speech detected after {detected})")
    # how fast is bench/barge_in.py's question (target 250 ms); here: it stopped, rather than playing on
    assert latency <= STOPPED_WITHIN_S, f"playback went on {latency:.2f} s after the user started talking over it"
    assert latency > -0.3, "the reply had ended before the user talked over it: nothing was interrupted"
    return latency


def test_hands_free_turn_is_answered_and_stored(pulse: PulseServer, listening: ListeningApp) -> None:
    speakers = pulse.recorder()
    try:
        said = ask_and_wait_for_reply(pulse, listening, QUESTION)
        done = listening.wait_for(lambda e: e["kind"] == "finished", timeout=120, after=said)
        time.sleep(0.5)
        heard = speakers.sound_between(said + 0.5, time.monotonic())
    finally:
        speakers.stop()
    assert {"capital", "france"} <= words(done["user"]), done["user"]
    assert "paris" in done["reply"].lower(), done["reply"]
    assert heard > 0.5, "no reply was heard on the speakers"
    rows = listening.messages()
    assert rows[0][0] == "user" and "france" in rows[0][1].lower()
    assert rows[1][0] == "assistant" and rows[1][2] == 0


def test_talking_over_a_long_reply_stops_it_and_is_answered_whole(
    pulse: PulseServer, listening: ListeningApp
) -> None:
    speakers = pulse.recorder()
    try:
        said = ask_and_wait_for_reply(pulse, listening, LONG_REQUEST)
        voice_at, answered = talk_over(pulse, listening, said)
        assert_stopped_quickly(speakers, voice_at, listening)
    finally:
        speakers.stop()
    assert {"what", "capital", "france"} <= words(answered["user"]), answered["user"]  # the first word too
    assert "paris" in answered["reply"].lower(), answered["reply"]
    story = listening.wait_for(lambda e: e["kind"] == "finished" and "dragon" in e["user"].lower(), timeout=5)
    assert story["interrupted"], "the talked-over reply is not marked interrupted"
    rows = listening.messages()
    stored = next(r for r in rows if r[0] == "assistant" and r[2] == 1)
    assert stored[1] == story["reply"] and len(stored[1]) > 0
    assert [r for r in rows if r[0] == "user"][-1][1].lower().count("france") == 1


def test_typed_turn_talked_over_is_stored_as_heard(pulse: PulseServer, listening: ListeningApp) -> None:
    speakers = pulse.recorder()
    try:
        typed_at = time.monotonic()
        listening.type(LONG_REQUEST)
        voice_at, answered = talk_over(pulse, listening, typed_at)
        assert_stopped_quickly(speakers, voice_at, listening)
    finally:
        speakers.stop()
    typed = listening.wait_for(lambda e: e["kind"] == "finished" and "dragon" in e["user"].lower(), timeout=5)
    assert typed["interrupted"]
    rows = listening.messages()
    story_row = next(r for r in rows if r[0] == "assistant" and r[2] == 1)
    assert story_row[1] == typed["reply"]
    assert "paris" in answered["reply"].lower(), answered["reply"]


def test_with_an_echo_path_visage_never_answers_itself_and_barge_in_still_works(
    pulse: PulseServer, listening: ListeningApp
) -> None:
    pulse.add_echo_path(latency_ms=80, gain_db=-10.0)  # a laptop: the microphone hears the speakers
    speakers = pulse.recorder()
    try:
        said = ask_and_wait_for_reply(pulse, listening, LONG_REQUEST)
        voice_at, answered = talk_over(pulse, listening, said)
        assert_stopped_quickly(speakers, voice_at, listening)
        listening.wait_until("listening", timeout=60)
        time.sleep(3.0)  # the answer's echo has died away: nothing more may come of it
    finally:
        speakers.stop()
    # The question was heard (talk_over waited for a turn with "France" in it) and answered as the user's. Its
    # words are not checked one by one here: under an echo the canceller has not learned, the transcript can be
    # garbled ("once is the capital of France", "Who has his look at it all on France?"): a known gap of
    # issue 17, measured by bench/barge_in.py ("answered whole").
    # its answer is heard whole: a burst of our own echo at the start of it stops playback for a moment, and the
    # reply goes on once its words prove to be ours (the CI run that lost "Paris" to its own echo)
    assert answered["reply"] and not answered["interrupted"], f"the answer was cut off: {answered['reply']!r}"
    turns = [e["user"] for e in listening.of_kind("finished") if e["user"]]
    assert len(turns) == 2, f"Visage answered something it said itself: {turns}"
    users = [r[1] for r in listening.messages() if r[0] == "user"]
    assert len(users) == 2 and "dragon" in users[0].lower() and "france" in users[1].lower(), users
