"""A simulated laptop for echo tests and the echo benchmark: what its microphone hears of its own speakers.

The echo path is the speaker's band (a small driver: little below 300 Hz or above 4 kHz), a delay (device
latency + air), the direct sound, three early reflections (desk, screen, wall) and an exponentially decaying
diffuse reverberation tail (-60 dB after ``t60_s``), then microphone noise. Deterministic for a given seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RATE = 16_000


def band_pass(low_hz: float, high_hz: float, taps: int = 129) -> np.ndarray:
    """A linear-phase windowed-sinc band-pass FIR (``taps`` odd; delay ``taps // 2`` samples)."""
    t = np.arange(taps) - taps // 2
    window = np.hamming(taps)

    def low(fc: float) -> np.ndarray:
        return 2 * fc / RATE * np.sinc(2 * fc / RATE * t) * window

    return low(high_hz) - low(low_hz)


@dataclass(frozen=True, slots=True)
class Room:
    name: str
    delay_s: float = 0.08  # speaker -> microphone as the audible clock sees it
    t60_s: float = 0.2  # reverberation time
    drr_db: float = 0.0  # direct + early reflections over the reverberant tail (energy)
    band_hz: tuple[float, float] = (300.0, 4000.0)  # the speaker's (and microphone's) band
    gain: float = 0.45  # echo path gain (the impulse response's energy is gain**2)
    noise_rms: float = 0.002
    seed: int = 0

    def impulse_response(self) -> np.ndarray:
        rng = np.random.default_rng(self.seed)
        fir = band_pass(*self.band_hz)
        direct = round(self.delay_s * RATE) - len(fir) // 2  # the band-pass's own delay counts in delay_s
        ir = np.zeros(direct + round(self.t60_s * RATE))
        ir[direct] = 1.0
        for after_s, gain in ((0.004, 0.5), (0.009, -0.35), (0.017, 0.25)):
            ir[direct + round(after_s * RATE)] += gain
        start = direct + round(0.005 * RATE)
        t = np.arange(len(ir) - start) / RATE
        tail = rng.normal(0.0, 1.0, len(t)) * np.exp(-6.9 * t / self.t60_s)  # 10**(-60/20) = e**-6.9
        tail *= np.sqrt(np.sum(ir**2) / np.sum(tail**2) * 10 ** (-self.drr_db / 10))
        ir[start:] += tail
        ir = np.convolve(ir, fir)
        return ir * (self.gain / np.sqrt(np.sum(ir**2)))

    def echo(self, played: np.ndarray) -> np.ndarray:
        """What the microphone hears of ``played`` (16 kHz, same length), noise included."""
        y = np.convolve(np.asarray(played, np.float64), self.impulse_response())[: len(played)]
        noise = np.random.default_rng(self.seed + 1).normal(0.0, self.noise_rms, len(y))
        return (y + noise).astype(np.float32)


ROOMS = {
    "laptop": Room("laptop"),
    "reverberant": Room("reverberant", delay_s=0.12, t60_s=0.25, drr_db=-3.0, gain=0.8, seed=1),
    "close": Room("close", delay_s=0.06, t60_s=0.15, drr_db=3.0, gain=0.5, seed=2),
}


def erle_db(mic: np.ndarray, residual: np.ndarray) -> float:
    """Echo return loss enhancement: how much quieter the canceller's residual is than the microphone (dB)."""
    den = float(np.sum(np.square(residual, dtype=np.float64)))
    return 10.0 * float(np.log10(float(np.sum(np.square(mic, dtype=np.float64))) / max(den, 1e-20)))
