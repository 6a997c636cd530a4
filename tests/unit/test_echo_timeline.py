"""Where the echo gate places microphone frames: a sound card's clock moves in steps, the echo does not; a
simulated microphone may skip audio, and then its clock is the truth. Either way the filter must converge."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from app.core.echo import EchoGate, EchoGateSettings

RATE = 16_000
N = 512
SECONDS = 10


def make_room(pause_s: tuple[float, float] | None = None) -> tuple[np.ndarray, np.ndarray,
                                                                   Callable[[float, int], np.ndarray]]:
    """Noise played for 10 s (silent during ``pause_s``); the microphone hears it 60 ms later: direct sound and a
    decaying tail."""
    rng = np.random.default_rng(0)
    n = SECONDS * RATE
    played = np.convolve(rng.normal(0.0, 0.1, n), [1.0, 0.7, 0.4], mode="same")
    if pause_s is not None:
        played[round(pause_s[0] * RATE) : round(pause_s[1] * RATE)] = 0.0
    ir = np.zeros(1000 + 960)
    ir[960:] = 0.1 * rng.normal(0.0, 1.0, 1000) * np.exp(-np.arange(1000) / 200.0)
    ir[960] = 2.0  # the direct sound carries most of the echo (a laptop's speaker is beside its microphone)
    ir *= 0.5 / np.linalg.norm(ir)
    echo = np.convolve(played, ir)[:n] + rng.normal(0.0, 1e-3, n)

    def reference(until: float, count: int) -> np.ndarray:
        end = round(until * RATE)
        out = np.zeros(count, np.float32)
        lo, hi = max(end - count, 0), min(end, n)
        if hi > lo:
            out[lo - (end - count) : hi - (end - count)] = played[lo:hi]
        return out

    return played, echo, reference


def run(gate: EchoGate, frames: list[tuple[np.ndarray, float]]) -> float:
    """Feed (frame, clock reading) pairs; the ERLE (dB) over the last three seconds."""
    mic_power = residual_power = 0.0
    for k, (frame, reading) in enumerate(frames):
        result = gate.process(frame.astype(np.float32), at=reading)
        if (k + 1) * N > (SECONDS - 3) * RATE:
            assert result.residual is not None
            mic_power += float(np.sum(frame.astype(np.float64) ** 2))
            residual_power += float(np.sum(result.residual.astype(np.float64) ** 2))
    return float(10 * np.log10(mic_power / residual_power))


def continuous_microphone(step_s: float, jitter_s: float) -> tuple[EchoGate, list[tuple[np.ndarray, float]]]:
    """A real microphone: consecutive frames are consecutive samples. The clock read at each frame moves in
    steps of ``step_s`` (the output callback's block) plus up to ``jitter_s`` of queueing/scheduling."""
    _, echo, reference = make_room()
    rng = np.random.default_rng(1)
    frames = []
    for i in range(0, len(echo) - N + 1, N):
        reading = np.floor((i + N) / RATE / step_s) * step_s + jitter_s * rng.random()
        frames.append((echo[i : i + N], float(reading)))
    return EchoGate(lambda: 0.0, reference), frames


@pytest.mark.parametrize(
    ("step_s", "jitter_s"),
    [(0.02, 0.0003), (0.01, 0.0003), (1 / RATE, 0.002), (1 / RATE, 0.0)],
    ids=["20ms-steps", "10ms-steps", "queue-jitter", "exact"],
)
def test_a_continuous_microphone_is_placed_on_its_own_timeline(step_s: float, jitter_s: float) -> None:
    gate, frames = continuous_microphone(step_s, jitter_s)
    erle = run(gate, frames)
    assert gate.resyncs == 0
    assert erle > 20.0  # measured: 32-33 dB in all four
    if jitter_s or step_s > 1 / RATE:
        assert gate.use_timeline


def test_taking_a_stepping_clock_at_its_word_defeats_the_filter() -> None:
    """The control: re-anchoring on every reading moves the filter's input by up to 20 ms between frames."""
    gate, frames = continuous_microphone(0.02, 0.0003)
    placed = run(gate, frames)
    erle = run(EchoGate(gate.clock, gate.reference, settings=EchoGateSettings(resync_s=0.0)), frames)
    assert erle < placed - 15.0  # measured: 7 dB (what the one-tap match alone removes) against 32 dB


def test_the_timeline_runs_on_through_the_silence_between_replies() -> None:
    """Two replies with a second of silence between them, a microphone whose clock moves in 20 ms steps. The
    gate re-anchored the timeline on one clock reading at each reply's start: the echo then sat up to a step
    away from where the filter had learned it, a different amount every reply, and on PulseAudio the first
    syllables of Visage's answers passed as the user (it interrupted itself, 2 of 8 answers in one run)."""
    _, mic, reference = make_room(pause_s=(4.0, 5.0))
    rng = np.random.default_rng(4)
    gate = EchoGate(lambda: 0.0, reference)
    mic_power = out_power = 0.0
    for i in range(0, len(mic) - N + 1, N):
        reading = np.floor((i + N) / RATE / 0.02) * 0.02 + 0.0003 * rng.random()
        if 4.96 * RATE <= i < 4.96 * RATE + N:
            reading += 0.013  # where the second reply comes within reach: a reading 13 ms off
        result = gate.process(mic[i : i + N].astype(np.float32), at=float(reading))
        if 5.1 * RATE <= i < 5.6 * RATE:  # the second reply's first half second
            assert result.residual is not None
            mic_power += float(np.sum(mic[i : i + N].astype(np.float64) ** 2))
            out_power += float(np.sum(result.residual.astype(np.float64) ** 2))
    assert gate.use_timeline
    assert 10 * np.log10(mic_power / out_power) > 20.0


def test_a_microphone_that_skips_audio_is_placed_by_the_clock() -> None:
    """A simulated microphone (like the barge-in test's room) that builds each frame from the sink's clock when
    it runs: a late frame skips ahead and the next ones overlap. Each reading is then exactly right."""
    _, echo, reference = make_room()
    rng = np.random.default_rng(2)
    frames = []
    t = N / RATE
    while t < SECONDS - 0.05:
        late = float(rng.choice([0.0, 0.0, 0.0, 0.004, 0.012]))  # a loaded machine wakes up late
        end = round((t + late) * RATE)
        frames.append((echo[end - N : end], end / RATE))
        t += N / RATE
    gate = EchoGate(lambda: 0.0, reference)
    erle = run(gate, frames)
    assert not gate.use_timeline
    assert erle > 20.0  # measured: 33 dB


def test_a_new_gate_on_the_same_sink_starts_from_the_learned_room() -> None:
    """Hands-free off and on again: the session builds a new gate for the same sink; the room is not relearned."""
    from app.core.audio_io import FileAudioSink
    from app.core.echo import TimelineSink
    from engines.base import AudioChunk

    played, echo, _ = make_room()
    sink = TimelineSink(FileAudioSink())
    sink.play(AudioChunk(pcm=played.astype(np.float32), sample_rate=RATE))
    first = EchoGate.for_sink(sink)
    half = len(echo) // 2 // N * N
    for i in range(0, half, N):
        first.process(echo[i : i + N].astype(np.float32), at=(i + N) / RATE)
    assert first.canceller is not None and first.canceller.converged
    second = EchoGate.for_sink(sink)
    result = second.process(echo[half : half + N].astype(np.float32), at=(half + N) / RATE)
    assert second.canceller is first.canceller
    assert result.converged and result.residual is not None
    frame = echo[half : half + N]
    assert float(np.sum(frame**2)) > 100 * float(np.sum(result.residual.astype(np.float64) ** 2))  # > 20 dB at once
    # a gate built without a sink learns its own room
    assert EchoGate(sink.audible_time, sink.reference).canceller is None


class LatentDevice:
    """A sound card that holds ``latency_s`` of audio (silence included) it has already been handed: a chunk
    queued now is heard that much after the audible time; stopping drops only what it was not yet handed."""

    def __init__(self, latency_s: float) -> None:
        self.latency_s = latency_s
        self.now = 0.0
        self.queued_until = 0.0

    def play(self, chunk: object) -> None:
        self.queued_until = self.start_time() + chunk.duration  # type: ignore[attr-defined]

    def audible_time(self) -> float:
        return self.now

    def start_time(self) -> float:
        return max(self.queued_until, self.now + self.latency_s)

    def stop(self) -> None:
        self.queued_until = 0.0

    def drain(self, timeout: float | None = None) -> None: ...

    def close(self) -> None: ...


def test_the_echo_reference_is_placed_where_the_device_will_play_it() -> None:
    """PulseAudio holds 50-150 ms: placing a reply at the audible time put the reference that much too early,
    a different amount at every reply, and the echo of each reply's first syllables passed as the user."""
    from app.core.echo import TimelineSink
    from engines.base import AudioChunk

    device = LatentDevice(0.12)
    sink = TimelineSink(device)
    placed: list[float] = []
    sink.add_listener(lambda _chunk, offset: placed.append(offset))
    device.now = 2.0
    tone = AudioChunk(pcm=np.full(8000, 0.5, np.float32), sample_rate=16_000)
    sink.play(tone)
    sink.play(tone)
    assert placed == pytest.approx([2.12, 2.62])
    assert np.allclose(sink.reference(3.12, 16_000), 0.5)
    assert not sink.reference(2.12, 1920).any()  # before it: silence, as the device played it

    device.now = 2.5  # barge-in: the device still plays what it holds, up to 2.62
    sink.stop()
    kept = sink.reference(2.62, int(0.12 * RATE))
    assert np.allclose(kept, 0.5), "what the device held is heard: its echo needs its reference"
    assert not sink.reference(3.2, int(0.58 * RATE)).any()  # never played
    sink.play(tone)
    assert placed[-1] == pytest.approx(2.62)


def test_the_speaker_sink_starts_a_chunk_after_what_it_handed_the_device() -> None:
    """The clock math of the real sounddevice sink, driven through its callback as PortAudio would."""
    from types import SimpleNamespace

    from app.core.audio_device import SpeakerSink

    sink = SpeakerSink()
    sink._rate, sink._stream = 16_000, SimpleNamespace(latency=0.1)  # as if opened (the tests have no sound card)
    out = np.zeros((1024, 1), np.float32)
    for k in range(10):  # 10 callbacks of silence, each heard 0.1 s after it ran (the device's latency)
        sink._callback(out, 1024, SimpleNamespace(outputBufferDacTime=k * 0.064 + 0.1, currentTime=k * 0.064), None)
    now_audible = sink.audible_time()
    assert sink.start_time() == pytest.approx(10 * 1024 / 16_000)
    assert sink.start_time() - now_audible == pytest.approx(0.1 + 1024 / 16_000, abs=0.03)
    sink.play(SimpleNamespace(pcm=np.ones(1600, np.float32), sample_rate=16_000))  # type: ignore[arg-type]
    assert sink.start_time() == pytest.approx((10 * 1024 + 1600) / 16_000)
    sink.stop()
    assert sink.start_time() == pytest.approx(10 * 1024 / 16_000)
