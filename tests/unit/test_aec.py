"""The adaptive echo canceller alone, on synthetic signals with a known echo path."""

from __future__ import annotations

import numpy as np
import pytest

from app.core.aec import AecFrame, AecSettings, EchoCanceller
from app.core.echo import one_tap_cancel

B = 512
RATE = 16_000


def pink(n: int, rng: np.random.Generator) -> np.ndarray:
    spectrum = np.fft.rfft(rng.normal(0.0, 1.0, n))
    spectrum[1:] /= np.sqrt(np.arange(1, len(spectrum)))
    spectrum[0] = 0.0
    x = np.fft.irfft(spectrum, n)
    return x / np.std(x)


def echo_path(rng: np.random.Generator, taps: int = 3000, delay: int = 800) -> np.ndarray:
    """A room: nothing for ``delay`` samples, a direct sound, then a decaying random tail; energy 0.25."""
    ir = rng.normal(0.0, 1.0, taps) * np.exp(-np.arange(taps) / 480.0)
    ir[:delay] = 0.0
    ir[delay] = 3.0
    return ir * (0.5 / np.linalg.norm(ir))


def feed(aec: EchoCanceller, x: np.ndarray, mic: np.ndarray) -> list[AecFrame]:
    """Run whole blocks through the canceller; the reference window ends with each microphone block."""
    padded = np.concatenate([np.zeros(aec.window - B), x])
    return [aec.process(padded[i : i + aec.window], mic[i : i + B]) for i in range(0, len(mic) - B + 1, B)]


def misalignment_db(aec: EchoCanceller, ir: np.ndarray) -> float:
    learned = aec.impulse_response()
    true = np.zeros(len(learned))
    true[: len(ir)] = ir
    return float(10 * np.log10(np.sum((learned - true) ** 2) / np.sum(ir**2)))


def erle_db(frames: list[AecFrame]) -> float:
    return float(10 * np.log10(sum(f.mic_power for f in frames) / sum(f.residual_power for f in frames)))


@pytest.mark.parametrize("kind", ["white", "pink"])
def test_it_learns_a_known_echo_path_and_cancels_it(kind: str) -> None:
    rng = np.random.default_rng(0)
    n = 6 * RATE
    x = 0.1 * (rng.normal(0.0, 1.0, n) if kind == "white" else pink(n, rng))
    ir = echo_path(rng)
    mic = np.convolve(x, ir)[:n] + rng.normal(0.0, 1e-3, n)  # echo 34 dB above the microphone noise
    aec = EchoCanceller(4096, B)
    assert misalignment_db(aec, ir) == pytest.approx(0.0)
    frames = feed(aec, x, mic)
    # measured: white 32 dB, pink 36 dB over the last second; -38 / -33 dB misalignment
    assert erle_db(frames[-31:]) > 25.0
    assert erle_db(frames[31:62]) > 12.0  # already in the second second
    assert misalignment_db(aec, ir) < -25.0
    assert aec.converged and aec.double_talk_blocks == 0
    peak = int(np.argmax(np.abs(aec.impulse_response())))
    assert peak == 800  # the direct sound, where the room put it


def talker(n: int, rng: np.random.Generator, level: float) -> np.ndarray:
    """Someone else in the room: bursts of low-passed noise, about three syllables a second."""
    voice = np.convolve(rng.normal(0.0, 1.0, n), np.ones(8) / 8, mode="same")
    voice *= np.sin(np.pi * 3 * np.arange(n) / RATE) ** 2
    return voice * (level / np.std(voice))


def double_talk_run(settings: AecSettings) -> tuple[float, float, list[AecFrame]]:
    rng = np.random.default_rng(1)
    n = 8 * RATE
    x = rng.normal(0.0, 0.1, n)
    ir = echo_path(rng)
    mic = np.convolve(x, ir)[:n] + rng.normal(0.0, 1e-3, n)
    start, length = 4 * RATE, int(1.5 * RATE)
    mic[start : start + length] += talker(length, rng, 0.1)  # louder than our echo (RMS 0.05)
    aec = EchoCanceller(4096, B, settings)
    padded = np.concatenate([np.zeros(aec.window - B), x])
    frames: list[AecFrame] = []
    before = after = 0.0
    for i in range(0, n - B + 1, B):
        if i == start:
            before = misalignment_db(aec, ir)
        frames.append(aec.process(padded[i : i + aec.window], mic[i : i + B]))
        if i + B >= start + length and i < start + length:
            after = misalignment_db(aec, ir)
    talk = frames[start // B + 1 : (start + length) // B]
    return before, after, talk


def test_adaptation_freezes_while_someone_talks_over_the_echo() -> None:
    before, after, talk = double_talk_run(AecSettings())
    assert before < -25.0  # converged before the talker started
    assert sum(f.double_talk for f in talk) >= 0.9 * len(talk)
    assert sum(f.adapted for f in talk) <= 0.1 * len(talk)
    assert after < before + 1.0  # the filter did not learn the talker (measured: unchanged, -32.7 dB)
    # the same run without the detector: the talker's voice drags the filter off the room (measured: -23.4 dB)
    _, blind_after, blind_talk = double_talk_run(AecSettings(double_talk_ratio=float("inf")))
    assert not any(f.double_talk for f in blind_talk)
    assert blind_after > after + 5.0


def test_nothing_is_learned_while_the_reference_is_silent() -> None:
    rng = np.random.default_rng(2)
    aec = EchoCanceller(2048, B)
    x = rng.normal(0.0, 0.1, 2 * RATE)
    ir = echo_path(rng, taps=1500, delay=300)
    feed(aec, x, np.convolve(x, ir)[: len(x)])
    learned = aec.impulse_response()
    # silence from the speaker, a voice in the room: the filter keeps what it knew
    frames = feed(aec, np.zeros(RATE), talker(RATE, rng, 0.05))
    assert not any(f.adapted for f in frames)
    assert np.array_equal(aec.impulse_response(), learned)
    aec.reset()
    assert not np.any(aec.impulse_response()) and not aec.converged


def test_the_output_is_the_microphone_when_nothing_was_learned() -> None:
    rng = np.random.default_rng(3)
    aec = EchoCanceller(1024, B)
    mic = rng.normal(0.0, 0.05, B)
    frame = aec.process(np.zeros(aec.window), mic)
    assert np.allclose(frame.residual, mic, atol=1e-6)
    assert frame.echo_power == 0.0 and not frame.adapted


def test_a_filter_that_lost_the_room_no_longer_counts_as_converged() -> None:
    """On PulseAudio the filter once "converged" and then cancelled 0.5 dB while still claiming it, so its estimate
    of the echo left was near zero and every echo frame passed the gate. When our voice plays and the filter takes
    out almost nothing for half a second, it counts as unconverged again; it relearns and converges again."""
    rng = np.random.default_rng(5)
    n = 4 * RATE
    x = 0.1 * pink(3 * n, rng)
    ir = echo_path(rng)
    learned = np.convolve(x[:n], ir)[:n]
    # then the microphone hears our voice through a path the filter has not learned: a plain delayed copy, as
    # through a sound server's loopback, 75 ms late
    moved_ir = np.zeros(4096)
    moved_ir[1200] = 0.4
    moved = np.convolve(x, moved_ir)[n : 3 * n]
    mic = np.concatenate([learned, moved]) + rng.normal(0.0, 1e-3, 3 * n)
    aec = EchoCanceller(4096, B)
    padded = np.concatenate([np.zeros(aec.window - B), x])
    frames = []
    for i in range(0, len(mic) - B + 1, B):  # beside the one-tap match, as the echo gate runs it
        ref, block = padded[i : i + aec.window], mic[i : i + B]
        frames.append(aec.process(ref, block, alternative=one_tap_cancel(block, ref[-(B + 4000):])[0]))
    before = frames[: n // B]
    assert before[-1].converged
    blocks_per_s = RATE // B
    after = frames[n // B :]
    lost_at = next(i for i, f in enumerate(after) if not f.converged)
    assert lost_at < blocks_per_s, lost_at / blocks_per_s  # measured: 0.5 s
    assert aec.losses >= 1
    assert after[-1].converged  # relearned
    assert erle_db(after[-blocks_per_s:]) > 10.0
