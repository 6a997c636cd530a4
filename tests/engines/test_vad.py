"""Silero VAD on real speech (two different synthetic voices), silence and noise."""

from __future__ import annotations

import numpy as np
import pytest

from app.core.config import VADSettings
from app.core.errors import AudioInputError
from engines.vad.silero import SileroVAD
from tests.audio_helpers import espeak_clip, frames, speak_with_piper
from tests.conftest import missing_tool

SENTENCE = "Could you tell me what the weather will be like tomorrow morning?"


@pytest.fixture(scope="module")
def vad() -> SileroVAD:
    return SileroVAD(VADSettings())


def _probabilities(vad: SileroVAD, pcm: np.ndarray) -> np.ndarray:
    vad.reset()
    return np.array([vad.confidence(f) for f in frames(pcm, vad.frame_samples)])


def test_frame_format(vad: SileroVAD) -> None:
    assert (vad.sample_rate, vad.frame_samples) == (16000, 512)
    info = vad.info()
    assert info.model_path and info.model_path.endswith("silero_vad_v6.onnx")
    assert info.version and "onnxruntime" in info.version


def test_piper_speech_is_detected(vad: SileroVAD) -> None:
    probs = _probabilities(vad, speak_with_piper(SENTENCE))
    assert np.mean(probs > 0.5) > 0.7, "most frames of continuous speech count as speech"
    assert probs.max() > 0.9


def test_espeak_speech_is_detected(vad: SileroVAD) -> None:
    clip = espeak_clip(SENTENCE)
    if clip is None:
        missing_tool("espeak-ng is not installed")
    probs = _probabilities(vad, clip)
    assert np.mean(probs > 0.5) > 0.5
    assert probs.max() > 0.9


def test_silence_and_noise_are_not_speech(vad: SileroVAD) -> None:
    silence = np.zeros(16000, dtype=np.float32)
    assert _probabilities(vad, silence).max() < 0.2
    noise = (np.random.default_rng(1).standard_normal(32000) * 0.05).astype(np.float32)
    probs = _probabilities(vad, noise)
    assert np.mean(probs > 0.5) < 0.05


def test_speech_after_silence_is_found_where_it_starts(vad: SileroVAD) -> None:
    speech = speak_with_piper("Hello there.")
    pcm = np.concatenate([np.zeros(16000, dtype=np.float32), speech])
    probs = _probabilities(vad, pcm)
    first = int(np.argmax(probs > 0.5))
    assert 0.9 <= first * 512 / 16000 <= 1.3  # speech starts 1 s in (plus Piper's short lead-in)


def test_reset_makes_results_repeatable(vad: SileroVAD) -> None:
    pcm = speak_with_piper("One two three.")
    assert np.allclose(_probabilities(vad, pcm), _probabilities(vad, pcm))


def test_int16_frames_match_float_frames(vad: SileroVAD) -> None:
    pcm = speak_with_piper("Testing one two.")
    as_int = (pcm * 32767).astype(np.int16)
    # int16 rounding moves a probability by up to ~0.01 (measured); unscaled int16 would be far off
    assert np.allclose(_probabilities(vad, pcm), _probabilities(vad, as_int), atol=0.05)


@pytest.mark.parametrize("shape", [(480,), (512, 2), (0,)])
def test_wrong_frame_size_is_refused(vad: SileroVAD, shape: tuple[int, ...]) -> None:
    with pytest.raises(AudioInputError) as caught:
        vad.confidence(np.zeros(shape, dtype=np.float32))
    assert "512" in (caught.value.hint or "")
