"""The echo gate against a recorded mix of our own playback (through a simulated room) plus user speech.

The microphone signal is built once: two of Visage's real Piper replies with a second of silence between them,
through a simulated laptop room (speaker band, 60-120 ms delay, direct sound and early reflections, a
reverberation tail of 150-250 ms, noise: see tests/echo_room.py), plus a user's line spoken by another
synthesizer (espeak-ng) over one of the replies. The real Silero VAD and segmenter decide turns, with the
segmenter's barge-in rule on while we play (three frames of speech start a turn), as in the pipeline.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pytest

from app.core.audio_io import FileAudioSink
from app.core.config import VADSettings
from app.core.echo import EchoGate, EchoGateSettings, GateResult, TimelineSink
from app.core.segmenter import Segmenter, SpeechStart
from engines.base import AudioChunk
from tests.audio_helpers import espeak_clip, speak_with_piper
from tests.echo_room import RATE, ROOMS, Room, erle_db

pytestmark = pytest.mark.real_models

REPLIES = (
    "Paris is the capital of France. It is known for the Eiffel Tower, fine food and long walks by the river.",
    "The river Seine runs through the middle of the city. Its bridges are lovely at night, and the museums "
    "along its banks hold some of the most famous paintings in the world.",
)
GAP_S = 1.0
USER_LINE = "Stop please, wait a moment."
USER_AFTER_S = 2.0  # into a reply
LOUD, QUIET = 0.5, 0.125  # the user's level; QUIET is a quarter of the level this test used to use
ONE_TAP = EchoGateSettings(adaptive=False)  # the canceller before this one, for comparison


@functools.cache
def playback() -> tuple[TimelineSink, float, float, float]:
    """The sink after both replies, with (end of the first reply, start of the second, end of the second)."""
    from tests.audio_helpers import fixed_piper

    tts = fixed_piper()  # the same replies in every run: the bounds below were measured on them
    sink = TimelineSink(FileAudioSink())
    for chunk in tts.synthesize(REPLIES[0]):
        sink.play(chunk)
    first_end = sink.end_time
    sink.play(AudioChunk(pcm=np.zeros(int(GAP_S * tts.sample_rate), np.float32), sample_rate=tts.sample_rate))
    second = sink.end_time
    for chunk in tts.synthesize(REPLIES[1]):
        sink.play(chunk)
    return sink, first_end, second, sink.end_time


@functools.cache
def played() -> np.ndarray:
    sink, *_, end = playback()
    return sink.reference(end + 1.0, int((end + 1.0) * RATE))  # what the speaker played, then a second of quiet


@functools.cache
def user_speech() -> np.ndarray:
    clip = espeak_clip(USER_LINE)
    return clip if clip is not None else speak_with_piper(USER_LINE)  # other words: still not our echo


@functools.cache
def echo(room: str = "laptop", stop_at: float | None = None) -> np.ndarray:
    """What the microphone hears of our voice; with ``stop_at``: playback was stopped there (barge-in)."""
    voice = played().copy()
    if stop_at is not None:
        voice[round(stop_at * RATE) :] = 0.0
    return ROOMS[room].echo(voice)


def mix(room: str, level: float, at_s: float, stop_at: float | None = None) -> np.ndarray:
    signal = echo(room, stop_at).copy()
    user = user_speech()
    start = int(at_s * RATE)
    signal[start : start + len(user)] += level * user[: len(signal) - start]
    return signal


def second_reply_user_at() -> float:
    return playback()[2] + USER_AFTER_S


@dataclass
class Run:
    starts: list[float]  # where the segmenter put each speech start (seconds)
    detected: list[float]  # when it said so
    results: list[GateResult]


def gate_run(signal: np.ndarray, settings: EchoGateSettings | None = None, *, gated: bool = True,
             stop_at: float | None = None) -> Run:
    """The VAD + segmenter on the gated microphone; with ``stop_at``, our playback was stopped there."""
    from engines.vad.silero import SileroVAD

    vad = SileroVAD(VADSettings())
    segmenter = Segmenter(VADSettings(), RATE, vad.frame_samples)
    sink = playback()[0]

    def reference(until: float, count: int) -> np.ndarray:
        out = sink.reference(until, count)
        if stop_at is not None:  # what TimelineSink.stop does to the samples that were never played
            cut = count - max(0, round((until - stop_at) * RATE))
            out[max(cut, 0) :] = 0.0
        return out

    gate = EchoGate(sink.audible_time, reference, settings=settings)
    run = Run([], [], [])
    n = vad.frame_samples
    for i in range(0, len(signal) - n + 1, n):
        frame = signal[i : i + n]
        if gated:
            result = gate.process(frame, at=(i + n) / RATE)
            run.results.append(result)
            frame = result.frame
            segmenter.busy = result.playing  # the pipeline's barge-in rule while a reply plays
        else:
            segmenter.busy = True
        found = segmenter.push(frame, vad.confidence(frame))
        if isinstance(found, SpeechStart):
            run.starts.append(found.offset_s)
            run.detected.append((i + n) / RATE)
    return run


def barge_in(room: str, level: float, at_s: float) -> Run:
    """The user talks over us at ``at_s``; as in the app, the first speech start stops our playback."""
    first = gate_run(mix(room, level, at_s))
    if not first.detected:
        return first
    stop_at = first.detected[0]
    return gate_run(mix(room, level, at_s, stop_at), stop_at=stop_at)


def span_erle(signal: np.ndarray, results: list[GateResult], start_s: float, end_s: float) -> float:
    """ERLE of the canceller's output (before the gate) over frames within [start_s, end_s)."""
    n = len(results[0].frame)
    first, last = int(start_s * RATE) // n, int(end_s * RATE) // n
    out = [r.residual if r.residual is not None else signal[k * n : (k + 1) * n]
           for k, r in enumerate(results[first:last], start=first)]
    return erle_db(signal[first * n : last * n], np.concatenate(out))


def test_without_the_gate_our_own_voice_would_be_taken_for_the_user() -> None:
    assert gate_run(echo(), gated=False).starts, "control: the raw echo must look like speech to the VAD"


def test_the_one_tap_canceller_lets_this_room_s_echo_through() -> None:
    """Control: the room is harder than a delay (reverberation, colouration); one tap leaves most of it."""
    assert gate_run(echo(), ONE_TAP).starts  # measured: 4-5 false starts, from 200 ms into each reply on


@pytest.mark.parametrize("room", ["laptop", "reverberant"])
def test_our_own_voice_never_starts_a_turn(room: str) -> None:
    run = gate_run(echo(room))
    assert run.starts == [], f"Visage would have answered its own voice at {run.starts}"
    playing = [r for r in run.results if r.playing]
    assert sum(r.passed for r in playing) < 0.05 * len(playing)


@pytest.mark.parametrize("room", ["laptop", "reverberant"])
def test_the_canceller_removes_most_of_the_echo(room: str) -> None:
    _, first_end, second, end = playback()
    signal = echo(room)
    adaptive = gate_run(signal).results
    one_tap = gate_run(signal, ONE_TAP).results
    # measured (9 Piper takes x 3 rooms): second reply 23.6-26.6 dB adaptive, 2.4-3.3 dB one-tap;
    # first reply after its first second 16.4-19.0 dB
    learned = span_erle(signal, adaptive, second, end)
    assert learned > 18.0
    assert span_erle(signal, adaptive, 1.0, first_end) > 12.0
    assert learned > span_erle(signal, one_tap, second, end) + 15.0
    last = [r for r in adaptive if r.playing][-1]
    assert last.converged
    assert abs(last.lag_s - ROOMS[room].delay_s) < 0.01  # the filter's strongest tap is the direct sound


@pytest.mark.parametrize(("room", "within_s"), [("laptop", 0.3), ("reverberant", 0.5)])
def test_the_user_talking_over_our_voice_is_heard_once_at_the_right_time(room: str, within_s: float) -> None:
    """In the reverberant room our echo is 8 dB louder than this user at the microphone."""
    at = second_reply_user_at()
    run = barge_in(room, LOUD, at)
    assert len(run.starts) == 1, run.starts
    # measured (45 room-takes): 19-147 ms after the user started; in the reverberant room twice 418-452 ms
    # ("stop" lost under a loud stretch of our voice, "please" heard)
    assert at - 0.1 <= run.starts[0] <= at + within_s


def test_the_user_talking_over_the_first_reply_is_heard_too() -> None:
    """The very first reply: the filter has had three seconds of our voice to learn the room."""
    at = 3.0
    run = barge_in("laptop", LOUD, at)
    assert run.starts and at - 0.1 <= run.starts[0] <= at + 0.5, run.starts  # measured: 8-104 ms


@pytest.mark.parametrize("room", ["laptop", "reverberant"])
def test_a_quieter_user_still_gets_through_while_we_play(room: str) -> None:
    """A quarter of the level above: about 15 dB under our echo at the microphone."""
    at = second_reply_user_at()
    run = barge_in(room, QUIET, at)
    assert run.starts, "the quiet user was gated"
    # measured over 9 Piper takes x 3 rooms: 15 within 150 ms, 8 at ~0.45 s (the first word lost under a loud
    # stretch of our voice), 4 at ~1 s ("stop please" lost, "wait a moment" heard); never before the user
    assert at - 0.1 <= run.starts[0] <= at + 1.2, run.starts
    assert all(at - 0.1 <= s <= at + len(user_speech()) / RATE for s in run.starts)


def test_the_one_tap_gate_cannot_tell_the_quieter_user_from_its_own_echo() -> None:
    at = second_reply_user_at()
    run = gate_run(mix("laptop", QUIET, at), ONE_TAP)
    assert any(s < at - 0.1 for s in run.starts)  # it "heard" our echo long before the user spoke


@pytest.mark.parametrize("room", ["laptop", "reverberant"])
def test_talking_over_us_does_not_wreck_the_filter(room: str) -> None:
    """With playback going on (no barge-in), the rest of the reply after the user talked over it is cancelled
    as well as without them, and does not start a turn."""
    at = second_reply_user_at()
    end = playback()[3]
    after = at + len(user_speech()) / RATE + 0.3
    signal = mix(room, LOUD, at)
    run = gate_run(signal)
    alone = gate_run(echo(room)).results
    assert any(r.double_talk for r in run.results[int(at * RATE) // 512 :])
    # measured: 0.1-0.8 dB below
    assert span_erle(signal, run.results, after, end) > span_erle(echo(room), alone, after, end) - 3.0
    assert all(s < after for s in run.starts), run.starts


def test_frames_pass_untouched_when_nothing_plays() -> None:
    gate = EchoGate(lambda: 0.0, lambda _t, n: np.zeros(n, np.float32))
    frame = np.random.default_rng(1).normal(0, 0.1, 512).astype(np.float32)
    result = gate.process(frame)
    assert not result.playing and result.passed
    assert np.array_equal(result.frame, frame)


class ManualSink(FileAudioSink):
    """A sink whose audible clock the test sets (where playback is when it gets stopped)."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0

    def audible_time(self) -> float:
        return self.now

    def stop(self) -> None:  # a device without output latency: nothing after the clock is ever played
        with self._lock:
            if self._queued_s > self.now:
                self._truncate(self.now)


def test_a_stopped_reply_leaves_only_its_tail_and_the_next_reply_starts_cancelled() -> None:
    """Barge-in stops playback mid-reply: what was never played makes no echo (the gate lets the room go quiet
    after the reverberation), and the filter, kept, cancels the next reply from its first frame."""
    from tests.audio_helpers import fixed_piper

    tts = fixed_piper()  # the same replies in every run: the bounds below were measured on them
    inner = ManualSink()
    sink = TimelineSink(inner)
    room = Room("stop", seed=3)
    gate = EchoGate.for_sink(sink)
    for chunk in tts.synthesize(REPLIES[0]):
        sink.play(chunk)
    stop_at = 4.0
    heard = sink.reference(stop_at, int(stop_at * RATE))
    mic = room.echo(np.concatenate([heard, np.zeros(RATE, np.float32)]))  # then the tail, then noise only
    n = 512
    results = []
    for i in range(0, len(mic) - n + 1, n):
        if i >= len(heard) and inner.now < stop_at:
            inner.now = stop_at
            sink.stop()
        results.append(gate.process(mic[i : i + n], at=(i + n) / RATE))
    assert results[len(heard) // n - 1].playing
    quiet_from = stop_at + gate.settings.lead_s + gate.settings.max_lag_s + gate.settings.tail_s + 0.1
    assert not any(r.playing for r in results[int(quiet_from * RATE) // n :])
    assert gate.canceller is not None and gate.canceller.converged

    # the next reply, three seconds later on the clock
    start = stop_at + 3.0
    inner.now = start
    for chunk in tts.synthesize(REPLIES[1]):
        sink.play(chunk)
    reply = sink.reference(sink.end_time, int((sink.end_time - start) * RATE))
    next_mic = room.echo(reply)
    first_second = []
    for i in range(0, RATE - n + 1, n):
        result = gate.process(next_mic[i : i + n], at=start + (i + n) / RATE)
        assert result.residual is not None
        first_second.append((next_mic[i : i + n], result.residual))
    mic_part = np.concatenate([m for m, _ in first_second])
    out_part = np.concatenate([o for _, o in first_second])
    assert erle_db(mic_part, out_part) > 8.0  # a fresh filter manages ~0 dB in its first second (this: 12 dB)


def test_the_sink_clock_places_chunks_and_forgets_what_was_never_played() -> None:
    inner = FileAudioSink(realtime=False)
    sink = TimelineSink(inner)
    placed: list[float] = []
    sink.add_listener(lambda chunk, offset: placed.append(offset))

    tone = AudioChunk(pcm=np.full(8000, 0.5, np.float32), sample_rate=16_000)
    sink.play(tone)
    sink.play(tone)
    assert placed == [0.0, 0.5]
    assert sink.end_time == pytest.approx(1.0)
    assert np.allclose(sink.reference(1.0, 16_000), 0.5)


@functools.cache
def _recogniser() -> object:
    from app.core.config import ASRSettings
    from engines.asr.faster_whisper import FasterWhisperASR

    return FasterWhisperASR(ASRSettings())


def test_with_no_echo_path_the_user_talking_over_us_reaches_the_recogniser_untouched() -> None:
    """Headphones, or a sound server's null sinks: the microphone hears the user and nothing of our voice. The
    filter then learns nothing real; its output, fitted on the user's own voice, distorted the first words by
    6-7 dB on PulseAudio ("What in the capital of France?"). Now such frames pass as the microphone gave them."""
    at = second_reply_user_at()
    user = espeak_clip("What is the capital of France?", voice="en-us")
    assert user is not None, "espeak-ng is installed by setup"
    mic = np.zeros(len(played()), np.float32)
    start = int(at * RATE)
    mic[start : start + len(user)] = user
    run = gate_run(mic)
    n = 512
    out = np.concatenate([r.frame for r in run.results])
    user_frames = [k for k in range(start // n, (start + len(user)) // n)
                   if np.abs(mic[k * n : (k + 1) * n]).max() > 0.05]
    assert all(run.results[k].playing for k in user_frames)  # our voice was playing all along
    assert all(run.results[k].passed for k in user_frames)
    assert all(np.array_equal(run.results[k].frame, mic[k * n : (k + 1) * n]) for k in user_frames)
    assert run.starts and at - 0.1 <= run.starts[0] <= at + 0.3, run.starts
    pad = np.zeros(RATE // 2, np.float32)
    through_gate = out[start - RATE // 4 : start + len(user) + RATE // 4]
    heard = _recogniser().transcribe(np.concatenate([pad, through_gate, pad]))  # type: ignore[attr-defined]
    alone = _recogniser().transcribe(np.concatenate([pad, user, pad]))  # type: ignore[attr-defined]
    assert heard.text.strip() == alone.text.strip()
    assert "capital" in heard.text.lower()
