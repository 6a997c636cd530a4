"""Synthetic speech for avatar tests: syllable bursts with matching phoneme timings (no TTS needed)."""

from __future__ import annotations

import numpy as np

from engines.base import AudioChunk, PhonemeTiming

SR = 22050


def syllables(
    n: int = 6,
    *,
    consonant_s: float = 0.06,
    vowel_s: float = 0.20,
    gap_s: float = 0.15,
    lead_in_s: float = 0.0,
    timing_shift_s: float = 0.0,
    sample_rate: int = SR,
) -> AudioChunk:
    """``n`` times "b" (silent closure) + "ɑ" (a loud voiced burst) + a pause, like "ba ba ba".

    ``timing_shift_s`` moves the phoneme timings (not the audio) later, to simulate a badly aligned TTS.
    Syllable period (consonant+vowel+gap) should not be a multiple of a video frame, so the frame grid
    samples every phase of the bursts.
    """
    timings: list[PhonemeTiming] = []
    pieces: list[np.ndarray] = []
    t = 0.0
    if lead_in_s:
        timings.append(PhonemeTiming("^", 0.0, lead_in_s))
        pieces.append(np.zeros(round(lead_in_s * sample_rate), np.float32))
        t = lead_in_s
    rng = np.random.default_rng(1)
    for _ in range(n):
        nc = round(consonant_s * sample_rate)
        nv = round(vowel_s * sample_rate)
        ng = round(gap_s * sample_rate)
        timings.append(PhonemeTiming("b", t + timing_shift_s, nc / sample_rate))
        t += nc / sample_rate
        timings.append(PhonemeTiming("ɑ", t + timing_shift_s, nv / sample_rate))
        t += nv / sample_rate
        timings.append(PhonemeTiming("_", t + timing_shift_s, ng / sample_rate))
        t += ng / sample_rate
        tt = np.arange(nv) / sample_rate
        env = np.sin(np.pi * (np.arange(nv) + 0.5) / nv) ** 0.5
        voice = sum(np.sin(2 * np.pi * f * tt) / k for k, f in enumerate((180, 360, 540, 720), start=1))
        pieces.append(np.zeros(nc, np.float32))
        pieces.append((0.3 * env * voice + 0.002 * rng.standard_normal(nv)).astype(np.float32))
        pieces.append(np.zeros(ng, np.float32))
    return AudioChunk(np.concatenate(pieces), sample_rate, "ba " * n, tuple(timings), "test")
