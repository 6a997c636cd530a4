"""faster-whisper on real (Piper-spoken) speech with the shipped models."""

from __future__ import annotations

import numpy as np
import pytest

from app.core.config import ASRSettings
from app.core.errors import AudioInputError, ModelError
from engines.asr.faster_whisper import FasterWhisperASR, cuda_device_count
from engines.models import resolve_asr
from tests.audio_helpers import speak_with_piper

SENTENCE = "Please remind me to call my sister at seven o'clock tonight."
KEY_WORDS = ("remind", "call", "sister", "tonight")


@pytest.fixture(scope="module")
def tiny() -> FasterWhisperASR:
    return FasterWhisperASR(ASRSettings(model="tiny.en"))


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    return speak_with_piper(SENTENCE)


def test_tiny_en_transcribes_the_key_words(tiny: FasterWhisperASR, speech: np.ndarray) -> None:
    result = tiny.transcribe(speech)
    text = result.text.lower()
    assert all(word in text for word in KEY_WORDS), text
    assert result.language == "en"
    assert result.segments and result.segments[-1][1] <= len(speech) / 16000 + 0.5


def test_base_transcribes_the_key_words(speech: np.ndarray) -> None:
    try:
        resolve_asr("base")
    except ModelError as err:
        pytest.fail(f"whisper base is not prepared; run `visage setup-models` first ({err.message})")
    asr = FasterWhisperASR(ASRSettings(model="base", compute_type="int8"))
    text = asr.transcribe(speech).text.lower()
    assert all(word in text for word in KEY_WORDS), text


def test_int16_audio_is_accepted(tiny: FasterWhisperASR, speech: np.ndarray) -> None:
    text = tiny.transcribe((speech * 32767).astype(np.int16)).text.lower()
    assert "sister" in text


def test_device_is_reported_with_its_reason(tiny: FasterWhisperASR) -> None:
    info = tiny.info()
    assert info.device == ("cuda" if cuda_device_count() > 0 else "cpu")
    assert "CUDA" in info.device_reason
    assert info.model_path == str(resolve_asr("tiny.en"))
    assert info.version and "faster-whisper" in info.version


@pytest.mark.parametrize("audio", [np.zeros(0, np.float32), np.zeros((16000, 2), np.float32)])
def test_unusable_audio_is_refused(tiny: FasterWhisperASR, audio: np.ndarray) -> None:
    with pytest.raises(AudioInputError):
        tiny.transcribe(audio)


def test_missing_model_folder_says_what_to_do(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ModelError) as caught:
        FasterWhisperASR(ASRSettings(model=str(tmp_path / "gone")))
    assert "[asr] model" in (caught.value.hint or "")


def test_damaged_model_bin_is_a_model_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    src = resolve_asr("tiny.en")
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        (tmp_path / name).write_bytes((src / name).read_bytes())
    with (src / "model.bin").open("rb") as fh:
        (tmp_path / "model.bin").write_bytes(fh.read(2_000_000))
    with pytest.raises(ModelError) as caught:
        FasterWhisperASR(ASRSettings(model=str(tmp_path)))
    assert "setup.sh" in (caught.value.hint or "")
