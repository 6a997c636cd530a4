"""Lip-sync timings for a Piper voice without alignments come from espeak-ng's phoneme events."""

from __future__ import annotations

import ctypes.util

import numpy as np
import pytest

from app.core.config import TTSSettings
from app.core.errors import DependencyError
from engines import models
from engines.base import PhonemeTiming
from engines.tts import espeak_timing
from engines.tts.espeak_timing import EspeakTimer, fit_to_audio
from engines.tts.piper import PiperTTS

pytestmark = pytest.mark.real_models
TEXT = "Bob and Pam made maps by the pool."


def closures(timings: tuple[PhonemeTiming, ...]) -> list[float]:
    return [t.start + t.duration / 2 for t in timings if t.phoneme in ("p", "b", "m")]


@pytest.fixture(scope="module")
def voices() -> tuple[PiperTTS, PiperTTS]:
    package, rel = models.SHIPPED_VOICES["joe"]
    original = models.package_file(package, rel)
    assert original is not None
    return PiperTTS(TTSSettings(voice="joe")), PiperTTS(TTSSettings(voice=str(original)))


def test_unpatched_voice_gets_espeak_timings(voices: tuple[PiperTTS, PiperTTS]) -> None:
    _, plain = voices
    assert not plain.has_alignments
    chunk = next(plain.synthesize(TEXT))
    assert chunk.timing_source == "espeak" and chunk.phonemes
    assert len(closures(chunk.phonemes)) == 9  # every b, p and m of the sentence
    last = chunk.phonemes[-1]
    assert chunk.phonemes[0].start >= 0 and last.start + last.duration <= chunk.duration + 1e-6


def test_espeak_timings_land_close_to_the_true_alignments(voices: tuple[PiperTTS, PiperTTS]) -> None:
    """On one and the same audio (Piper's durations are random per synthesis), espeak's fitted lip closures
    fall near the ones Piper itself reports."""
    patched, _ = voices
    true = next(patched.synthesize(TEXT))
    assert true.timing_source == "piper-alignment" and true.phonemes
    fitted = fit_to_audio(EspeakTimer().timings(TEXT), true.pcm, true.sample_rate)
    expected, got = closures(true.phonemes), closures(fitted)
    assert len(got) == len(expected) == 9
    errors = [abs(a - b) for a, b in zip(expected, got, strict=True)]
    # Over 20 syntheses the mean error stayed under 40 ms; single closures reach ~100 ms now and then,
    # still inside what viewers tolerate (lips up to ~125 ms late, ITU-R BT.1359).
    assert sum(errors) / len(errors) < 0.05 and max(errors) < 0.15, errors


def test_missing_library_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(EspeakTimer, "_lib", None)
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)
    with pytest.raises(DependencyError, match="espeak-ng") as err:
        EspeakTimer()
    assert err.value.hint and "apt-get install espeak-ng" in err.value.hint


def test_fit_stretches_the_phoneme_span_onto_the_speech() -> None:
    rate = 1000
    pcm = np.zeros(3000, np.float32)
    pcm[1000:2000] = 0.5  # speech from 1.0 s to 2.0 s
    timings = [PhonemeTiming("a", 0.1, 0.2), PhonemeTiming("m", 0.3, 0.2)]  # espeak: 0.1 .. 0.5
    fitted = fit_to_audio(timings, pcm, rate)
    assert fitted[0].start == pytest.approx(1.0) and fitted[0].duration == pytest.approx(0.5)
    assert fitted[1].start == pytest.approx(1.5) and fitted[1].duration == pytest.approx(0.5)
    assert espeak_timing.speech_span(np.zeros(10, np.float32), rate) == (0.0, 0.01)
