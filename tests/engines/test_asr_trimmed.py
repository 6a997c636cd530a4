"""Whisper without the 30 s padding: same words as the padded pass, and the guard that falls back to it."""

from __future__ import annotations

import re

import numpy as np
import pytest

from app.core.config import ASRSettings
from engines.asr import trimmed
from engines.asr.faster_whisper import FasterWhisperASR
from engines.models import resolve_asr
from tests.speech_corpus import espeak, human_recordings


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower().replace("-", " "))


def decoded(text: str, **kw: float | bool) -> trimmed.Decoded:
    values = {"language": "en", "avg_logprob": -0.2, "no_speech_prob": 0.05, "hit_length_cap": False} | kw
    return trimmed.Decoded(text=text, **values)  # type: ignore[arg-type]


# -- the guard, on crafted results -------------------------------------------------------------------

def test_natural_sentences_pass_the_guard() -> None:
    jfk = "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country."
    assert trimmed.distrust(decoded(jfk), 9.0) is None
    assert trimmed.distrust(decoded("No, no, I said very very early."), 2.5) is None


@pytest.mark.parametrize(
    ("text", "duration", "kw", "why"),
    [
        ("What is the capital of France? What is the capital of France?", 2.1, {}, "repeats"),
        ("he was not an old-s-y-y-y-y-y-y-", 3.0, {}, "repeats"),
        ("thank you thank you thank you", 2.0, {}, "repeats"),
        ("a b c d e f g h i j k l m n o p", 1.0, {}, "faster than anyone speaks"),
        ("", 2.0, {}, "no text"),
        ("Hello there.", 2.0, {"no_speech_prob": 0.9}, "no speech"),
        ("Hello there.", 2.0, {"avg_logprob": -1.6}, "unsure"),
        ("Hello there.", 2.0, {"hit_length_cap": True}, "length cap"),
        ("la" * 200, 20.0, {}, "compression ratio"),
    ],
)
def test_the_guard_names_what_is_wrong(text: str, duration: float, kw: dict, why: str) -> None:
    reason = trimmed.distrust(decoded(text, **kw), duration)
    assert reason is not None and why in reason


def test_text_past_the_end_of_the_audio_is_dropped() -> None:
    """A segment that ends after the audio is the decoder repeating itself into the padding."""
    import tokenizers
    from faster_whisper.tokenizer import Tokenizer

    hf = tokenizers.Tokenizer.from_file(str(resolve_asr("tiny.en") / "tokenizer.json"))
    tok = Tokenizer(hf, False, task="transcribe", language="en")
    ts = [tok.timestamp_begin + round(t / 0.02) for t in (0.0, 2.0, 2.0, 4.0)]
    text = tok.encode(" What is the capital of France?")
    tokens = [ts[0], *text, ts[1], ts[2], *text, ts[3]]
    assert trimmed._text_within(tokens, tok, 2.0) == "What is the capital of France?"
    assert trimmed._text_within([*text, *text], tok, 2.0).count("France") == 2  # no timestamps: kept (the guard judges)


# -- the real models ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny() -> FasterWhisperASR:
    return FasterWhisperASR(ASRSettings(model="tiny.en", cpu_threads=2, trim_padding=True))


@pytest.fixture(scope="module")
def base() -> FasterWhisperASR:
    return FasterWhisperASR(ASRSettings(model="base", compute_type="int8", language=None, cpu_threads=2,
                                        trim_padding=True))


@pytest.fixture(scope="module")
def humans() -> dict[str, np.ndarray]:
    return {r.name: r.audio for r in human_recordings()}


@pytest.mark.parametrize("clip", ["librivox-0870", "librivox-0930", "goforward"])
def test_base_trimmed_hears_the_same_words_as_padded_on_human_speech(
    base: FasterWhisperASR, humans: dict[str, np.ndarray], clip: str
) -> None:
    result = base.transcribe(humans[clip])
    assert result.decode == "trimmed", result.fallback_reason
    assert words(result.text) == words(base._padded(humans[clip]).text)
    assert result.language == "en"  # detected: language = None


@pytest.mark.parametrize("clip", ["librivox-0870", "librivox-0930"])
def test_tiny_trimmed_hears_the_same_words_as_padded(
    tiny: FasterWhisperASR, humans: dict[str, np.ndarray], clip: str
) -> None:
    result = tiny.transcribe(humans[clip])
    assert result.decode == "trimmed", result.fallback_reason
    assert words(result.text) == words(tiny._padded(humans[clip]).text)


def test_base_trimmed_on_an_espeak_accent(base: FasterWhisperASR) -> None:
    audio = espeak("What is the capital of France?", "en-gb", 155, 40)
    result = base.transcribe(audio)
    assert result.decode == "trimmed", result.fallback_reason
    assert words(result.text) == words(base._padded(audio).text)


def test_base_detects_another_language_on_the_trimmed_pass(base: FasterWhisperASR) -> None:
    result = base.transcribe(espeak("Guten Morgen, wie geht es dir heute?", "de", 160, 50))
    assert result.language == "de"
    assert "morgen" in words(result.text)


def test_a_bad_trimmed_result_falls_back_to_the_padded_pass(
    tiny: FasterWhisperASR, humans: dict[str, np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    loop = decoded("he might even have been he might even have been he might even have been")
    monkeypatch.setattr(trimmed, "decode_trimmed", lambda *a, **k: loop)
    result = tiny.transcribe(humans["librivox-0930"])
    assert result.decode == "padded"
    assert result.fallback_reason and "repeats" in result.fallback_reason
    assert words(result.text) == words("He might even have been made amiable himself.")


def test_trimming_can_be_turned_off_and_threads_are_explicit(humans: dict[str, np.ndarray]) -> None:
    asr = FasterWhisperASR(ASRSettings(model="tiny.en", trim_padding=False, cpu_threads=1))
    result = asr.transcribe(humans["goforward"])
    assert result.decode == "padded" and result.fallback_reason is None
    assert "forward" in words(result.text)
    assert asr.info().details["cpu_threads"] == "1"
