"""Piper speaks real audio, one chunk per sentence, with phoneme timings that match the audio."""

from __future__ import annotations

import itertools
import threading

import numpy as np
import pytest

from app.core.config import TTSSettings
from app.core.errors import ModelError
from engines.base import AudioChunk
from engines.models import SHIPPED_VOICES, package_dir, patched_voice_path, resolve_voice
from engines.tts.alignment import PAUSE
from engines.tts.piper import PiperTTS

TEXT = "Good morning! The meeting starts at nine. Please bring your notes."
VOWELS = set("aeiouɑæɐɒəɚɛɜɪɔʊʌ")


@pytest.fixture(scope="module")
def tts() -> PiperTTS:
    if not patched_voice_path("joe").is_file():
        pytest.fail("the alignment-patched voice is missing: run `visage setup-models` (scripts/setup.sh)")
    return PiperTTS(TTSSettings(voice="joe"))


@pytest.fixture(scope="module")
def chunks(tts: PiperTTS) -> list[AudioChunk]:
    return list(tts.synthesize(TEXT))


def _rms(pcm: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(pcm)))) if pcm.size else 0.0


def test_one_chunk_per_sentence_with_its_text(chunks: list[AudioChunk]) -> None:
    assert [c.text for c in chunks] == ["Good morning!", "The meeting starts at nine.", "Please bring your notes."]


def test_chunks_are_speech(tts: PiperTTS, chunks: list[AudioChunk]) -> None:
    assert tts.sample_rate == 22050
    for chunk in chunks:
        assert chunk.sample_rate == 22050
        assert chunk.pcm.dtype == np.float32 and chunk.pcm.ndim == 1
        assert np.abs(chunk.pcm).max() <= 1.0
        assert _rms(chunk.pcm) > 0.05, "audible energy"
        words = len(chunk.text.split())
        assert 0.15 * words < chunk.duration < 1.0 * words + 0.5, (chunk.text, chunk.duration)


def test_phoneme_timings_cover_the_audio(chunks: list[AudioChunk]) -> None:
    for chunk in chunks:
        assert chunk.timing_source == "piper-alignment"
        assert chunk.phonemes
        timings = chunk.phonemes
        assert timings[0].start == 0.0
        for before, after in itertools.pairwise(timings):
            assert after.start == pytest.approx(before.start + before.duration, abs=1e-9), "contiguous"
        assert all(t.duration > 0 for t in timings)
        end = timings[-1].start + timings[-1].duration
        assert end == pytest.approx(chunk.duration, abs=256 / 22050)
        symbols = {t.phoneme for t in timings}
        assert not symbols & {"ˈ", "ˌ", "ː", "^", "$"}, "marks are merged into their neighbours"


def test_timings_line_up_with_the_sound(chunks: list[AudioChunk]) -> None:
    """Vowels are loud and pauses are quiet in the audio where the timings put them."""
    vowel_rms: list[float] = []
    pause_rms: list[float] = []
    for chunk in chunks:
        assert chunk.phonemes is not None
        for t in chunk.phonemes:
            seg = chunk.pcm[int(t.start * chunk.sample_rate) : int((t.start + t.duration) * chunk.sample_rate)]
            if t.phoneme in VOWELS:
                vowel_rms.append(_rms(seg))
            elif t.phoneme == PAUSE and t.duration > 0.1:
                pause_rms.append(_rms(seg))
    assert vowel_rms and pause_rms
    assert np.median(vowel_rms) > 4 * np.median(pause_rms)


def test_first_phonemes_spell_the_first_word(chunks: list[AudioChunk]) -> None:
    assert chunks[0].phonemes is not None
    spoken = [t.phoneme for t in chunks[0].phonemes if t.phoneme != PAUSE]
    assert spoken[:2] == ["ɡ", "ʊ"]  # "good"


def test_cancel_stops_between_sentences(tts: PiperTTS) -> None:
    cancel = threading.Event()
    got = []
    for chunk in tts.synthesize(TEXT, cancel=cancel):
        got.append(chunk)
        cancel.set()
    assert len(got) == 1


def test_blank_text_gives_no_audio(tts: PiperTTS) -> None:
    assert list(tts.synthesize("   \n ")) == []


def test_length_scale_slows_speech_down() -> None:
    normal = PiperTTS(TTSSettings(length_scale=1.0))
    slow = PiperTTS(TTSSettings(length_scale=1.6))
    sentence = "This sentence is spoken at two different speeds."
    d_normal = sum(c.duration for c in normal.synthesize(sentence))
    d_slow = sum(c.duration for c in slow.synthesize(sentence))
    assert d_slow > 1.3 * d_normal


def test_unpatched_voice_without_espeak_has_no_phoneme_timings(monkeypatch: pytest.MonkeyPatch) -> None:
    """(With espeak-ng installed, tests/engines/test_espeak_timing.py covers the espeak fallback.)"""
    import ctypes.util

    from engines.tts.espeak_timing import EspeakTimer

    monkeypatch.setattr(EspeakTimer, "_lib", None)
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)
    package, rel = SHIPPED_VOICES["joe"]
    folder = package_dir(package)
    assert folder is not None
    tts = PiperTTS(TTSSettings(voice=str(folder / rel)))
    chunk = next(iter(tts.synthesize("Hello.")))
    assert chunk.phonemes is None and chunk.timing_source is None
    assert _rms(chunk.pcm) > 0.05
    assert "unpatched" in tts.info().details["phoneme_alignments"]


def test_info_names_the_voice(tts: PiperTTS) -> None:
    info = tts.info()
    assert info.model_path == str(resolve_voice("joe"))
    assert info.details["phoneme_alignments"] == "yes"
    assert info.version and info.version.startswith("piper-tts")


def test_a_corrupt_voice_file_is_a_model_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    voice = tmp_path / "broken.onnx"
    voice.write_bytes(b"\x00" * 2_000_000)
    (tmp_path / "broken.onnx.json").write_text('{"audio": {"sample_rate": 22050}}')
    with pytest.raises(ModelError) as caught:
        PiperTTS(TTSSettings(voice=str(voice)))
    assert "[tts] voice" in (caught.value.hint or "")
