"""Speech and transcription through the official `openai` client: a Piper recording made by the API is
transcribed by the API, and every speech format decodes with PyAV to the length Piper gives directly."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest

from tests.model_choice import DEFAULT_ASR

pytestmark = pytest.mark.real_models
SENTENCE = "Please water the tomatoes in the garden tomorrow morning."


def decoded_seconds(data: bytes) -> float:
    import av

    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(audio=0))
        return samples / stream.rate


@pytest.fixture(scope="module")
def direct_seconds(api_engines: Any) -> float:
    """How long Piper itself takes to say SENTENCE."""
    _settings, engines = api_engines
    return sum(chunk.duration for chunk in engines.tts.synthesize(SENTENCE))


@pytest.fixture(scope="module")
def recording(client: Any) -> bytes:
    return client.audio.speech.create(model="joe", voice="joe", input=SENTENCE, response_format="wav").read()


@pytest.mark.parametrize("fmt", ["wav", "mp3", "opus", "aac", "flac"])
def test_speech_decodes_to_the_expected_length(client: Any, direct_seconds: float, fmt: str) -> None:
    data = client.audio.speech.create(model="tts-1", voice="alloy", input=SENTENCE, response_format=fmt).read()
    seconds = decoded_seconds(data)
    assert 0.85 * direct_seconds - 0.1 < seconds < 1.15 * direct_seconds + 0.1, (seconds, direct_seconds)


def test_pcm_is_raw_16_bit_at_24_khz_and_speed_shortens_it(client: Any, direct_seconds: float) -> None:
    pcm = client.audio.speech.create(model="tts-1", voice="alloy", input=SENTENCE, response_format="pcm").read()
    samples = np.frombuffer(pcm, dtype="<i2")
    assert 0.85 * direct_seconds - 0.1 < samples.size / 24_000 < 1.15 * direct_seconds + 0.1
    assert np.abs(samples).max() > 3000  # speech, not silence
    fast = client.audio.speech.create(model="tts-1", voice="alloy", input=SENTENCE, response_format="pcm",
                                      speed=2.0).read()
    assert 0.4 < len(fast) / len(pcm) < 0.6


def test_a_transcription_of_a_piper_recording_contains_its_words(client: Any, recording: bytes) -> None:
    result = client.audio.transcriptions.create(model="whisper-1", file=("question.wav", recording))
    text = result.text.lower()
    for word in ("water", "tomatoes", "garden", "tomorrow", "morning"):
        assert word in text, text
    plain = client.audio.transcriptions.create(model=DEFAULT_ASR, file=("question.wav", recording),
                                               response_format="text")
    assert "tomatoes" in plain.lower()


def test_verbose_json_srt_and_vtt_have_segment_times(client: Any, recording: bytes) -> None:
    seconds = decoded_seconds(recording)
    verbose = client.audio.transcriptions.create(model=DEFAULT_ASR, file=("q.wav", recording),
                                                 response_format="verbose_json")
    assert verbose.language == "en" and abs(verbose.duration - seconds) < 0.1
    assert verbose.segments and 0 <= verbose.segments[0].start < verbose.segments[-1].end <= seconds + 0.5
    assert "tomatoes" in " ".join(s.text for s in verbose.segments).lower()
    srt = client.audio.transcriptions.create(model=DEFAULT_ASR, file=("q.wav", recording), response_format="srt")
    lines = srt.strip().splitlines()
    assert lines[0] == "1" and " --> " in lines[1] and lines[1].startswith("00:00:0") and "," in lines[1]
    vtt = client.audio.transcriptions.create(model=DEFAULT_ASR, file=("q.wav", recording), response_format="vtt")
    assert vtt.startswith("WEBVTT\n\n00:00:0") and "tomatoes" in vtt.lower()


def test_an_mp3_upload_is_decoded_by_the_same_audio_loader(client: Any) -> None:
    mp3 = client.audio.speech.create(model="tts-1", voice="alloy", input=SENTENCE, response_format="mp3").read()
    result = client.audio.transcriptions.create(model="whisper-1", file=("note.mp3", mp3))
    assert "tomatoes" in result.text.lower()
