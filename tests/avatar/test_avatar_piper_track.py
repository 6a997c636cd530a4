"""The viseme track built from REAL Piper alignments (the alignment-patched Joe voice)."""

from __future__ import annotations

import pytest

from app.core.config import TTSSettings
from engines.avatar.visemes import VisemeTrack, phoneme_shape
from engines.base import AudioChunk
from engines.models import patched_voice_path
from engines.tts.piper import PiperTTS

TEXT = "Bob and Pam made maps by the pool."
BILABIAL = {"p", "b", "m"}


@pytest.fixture(scope="module")
def chunk() -> AudioChunk:
    if not patched_voice_path("joe").is_file():
        pytest.fail("the alignment-patched voice is missing: run `visage setup-models` (scripts/setup.sh)")
    chunks = list(PiperTTS(TTSSettings(voice="joe")).synthesize(TEXT))
    assert len(chunks) == 1 and chunks[0].timing_source == "piper-alignment" and chunks[0].phonemes
    return chunks[0]


def test_lips_close_in_the_middle_of_every_p_b_m(chunk: AudioChunk) -> None:
    track = VisemeTrack.from_phonemes(chunk.phonemes or ())
    closures = [p for p in chunk.phonemes or () if p.phoneme in BILABIAL]
    assert len(closures) >= 7, [p.phoneme for p in chunk.phonemes or ()]  # b b p m m p b p
    for p in closures:
        mid = p.start + p.duration / 2.0
        mouth = track.sample(mid)
        assert mouth.open <= 0.01 and mouth.press >= 0.95, (p, mouth)
        assert track.shape_at(mid) == "A"


def test_mouth_opens_on_vowels(chunk: AudioChunk) -> None:
    track = VisemeTrack.from_phonemes(chunk.phonemes or ())
    vowels = [p for p in chunk.phonemes or () if phoneme_shape(p.phoneme) in "CDE" and p.duration >= 0.04]
    assert len(vowels) >= 3, [p.phoneme for p in chunk.phonemes or ()]
    for p in vowels:
        mouth = track.sample(p.start + p.duration / 2.0)
        assert mouth.open >= 0.3, (p, mouth)


def test_track_spans_the_audio_and_rests_in_pauses(chunk: AudioChunk) -> None:
    track = VisemeTrack.from_phonemes(chunk.phonemes or ())
    assert track.source == "phonemes"
    assert abs(track.end - chunk.duration) < 0.05
    assert track.sample(-0.5).open == 0.0 and track.sample(chunk.duration + 0.5).open == 0.0
