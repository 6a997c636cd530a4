"""Smart Turn v3.2: finished utterances vs utterances cut mid-sentence, in voices that are not the app's own,
and the clear errors for a missing or corrupt model."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from app.core.errors import AudioInputError, ModelError
from app.models.describe import describe_models
from app.models.prepare import prepare_smart_turn
from engines.base import EndOfTurn
from engines.turn import features, model_file
from engines.turn.smart_turn import SmartTurnDetector
from engines.turn.text_cues import sounds_unfinished
from tests.audio_helpers import fixed_piper, resample
from tests.speech_corpus import cut_after, espeak, human_recordings, paused_recording

TAIL = np.zeros(3200, np.float32)  # the 0.2 s of silence the segmenter has heard when it asks


@pytest.fixture(scope="module")
def detector() -> SmartTurnDetector:
    return SmartTurnDetector()


def test_it_is_an_end_of_turn_engine(detector: SmartTurnDetector) -> None:
    assert isinstance(detector, EndOfTurn)
    info = detector.info()
    assert info.details["threads"] == "1" and "pipecat-ai" in info.details["source"]


@pytest.mark.parametrize("question", ["What is the capital of France?", "How many days are in a week?",
                                      "Please remind me to call my sister tonight."])
def test_finished_questions_in_piper_and_espeak_voices_are_complete(detector: SmartTurnDetector,
                                                                   question: str) -> None:
    tts = fixed_piper()
    piper = resample(np.concatenate([c.pcm for c in tts.synthesize(question)]), tts.sample_rate, 16000)
    assert detector.is_complete(np.concatenate([piper, TAIL]))
    assert detector.is_complete(np.concatenate([espeak(question, "en-us"), TAIL]))


def test_the_same_question_cut_after_a_few_words_is_not(detector: SmartTurnDetector) -> None:
    tts = fixed_piper()
    (chunk,) = list(tts.synthesize("What is the capital of France?"))
    assert chunk.phonemes, "the prepared voice reports phoneme timings"
    word_ends = [p.start for p in chunk.phonemes if p.phoneme == " "]
    pcm = resample(chunk.pcm, tts.sample_rate, 16000)
    cut = pcm[: round(word_ends[4] * 16000)]  # "What is the capital"
    assert detector.complete_probability(np.concatenate([pcm, TAIL])) > 0.5
    assert detector.complete_probability(np.concatenate([cut, TAIL])) < 0.5


def test_human_speech_cut_after_a_function_word_is_mostly_incomplete(detector: SmartTurnDetector) -> None:
    """LibriVox sentences: complete ones score high; cut right after "an", "and", "is", "been", "have" low."""
    recs = {r.name: r for r in human_recordings()}
    for name in ("librivox-0870", "librivox-0890", "librivox-0920"):
        assert detector.is_complete(recs[name].audio), name
    cuts = [("librivox-0880", "an"), ("librivox-0890", "and"), ("librivox-0890", "is"),
            ("librivox-0920", "have"), ("librivox-0920", "been"), ("librivox-0930", "have"),
            ("librivox-0930", "been"), ("librivox-0870", "much")]
    scores = []
    for name, word in cuts:
        rec = recs[name]
        index = [w[0] for w in rec.words].index(word)
        scores.append(detector.complete_probability(cut_after(rec, index)))
    assert sum(s < 0.5 for s in scores) >= 7, scores  # the model is one signal: the transcript is the other


def test_a_mid_sentence_pause_in_human_speech_is_not_the_end(detector: SmartTurnDetector) -> None:
    """'Unless to be rather cold hearted and … [0.7 s] …': the audio up to the pause is judged unfinished."""
    rec = next(r for r in human_recordings() if r.name == "librivox-0890")
    index = [w[0] for w in rec.words].index("and")
    paused = paused_recording(rec, [index], 0.7)
    pause_start = round(rec.words[index][2] * 16000)
    assert detector.complete_probability(paused[: pause_start + 3200]) < 0.5
    assert detector.is_complete(paused)


@pytest.mark.parametrize(("text", "unfinished"), [
    ("What is the capital of", True), ("I was wondering if", True), ("Can you tell me how to", True),
    ("I like the", True), ("So, um,", True), ("Could you turn it on", False), ("Where are you from", False),
    ("What is the capital of France?", False), ("Set a timer for ten minutes", False), ("", False),
])
def test_a_transcript_ending_on_a_dangling_word_sounds_unfinished(text: str, unfinished: bool) -> None:
    assert sounds_unfinished(text) is unfinished


@pytest.mark.parametrize("audio", [np.zeros((16000, 2), np.float32), np.zeros(100, np.float32)])
def test_unusable_audio_is_refused(detector: SmartTurnDetector, audio: np.ndarray) -> None:
    with pytest.raises(AudioInputError):
        detector.complete_probability(audio)


def test_features_keep_the_end_of_a_long_utterance() -> None:
    audio = np.concatenate([np.zeros(16000 * 9, np.float32), np.ones(16000, np.float32)])
    window = features.last_window(audio)
    assert window.shape == (features.WINDOW_SAMPLES,) and window[-1] == 1.0
    assert features.log_mel(window).shape == (80, 800)


# -- the model file ----------------------------------------------------------------------------------

def test_a_missing_model_names_the_setup_command(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as caught:
        model_file.resolve_smart_turn(models_dir=tmp_path)
    assert "visage setup-models" in (caught.value.hint or "")
    rows = {(r["role"], r["name"]): r for r in describe_models(models_dir=tmp_path)}
    row = rows[("turn", model_file.SMART_TURN_NAME)]
    assert not row["found"] and "visage setup-models" in row["fix"]


def test_a_corrupt_model_is_refused(tmp_path: Path) -> None:
    path = model_file.smart_turn_path(models_dir=tmp_path)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\0" * model_file.SIZE)
    with pytest.raises(ModelError) as caught:
        model_file.resolve_smart_turn(models_dir=tmp_path)
    assert "corrupt" in caught.value.message and "visage setup-models" in (caught.value.hint or "")
    with pytest.raises(ModelError):
        SmartTurnDetector(path)


def _wheel(tmp_path: Path, payload: bytes | None) -> Path:
    wheel = tmp_path / f"pipecat_ai-{model_file.PIPECAT_VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("pipecat/__init__.py", "")
        if payload is not None:
            zf.writestr(model_file.MEMBER, payload)
    return wheel


def test_setup_takes_the_model_out_of_the_wheel(tmp_path: Path) -> None:
    real = model_file.resolve_smart_turn()  # prepared by scripts/setup.sh
    wheel = _wheel(tmp_path, real.read_bytes())
    message = prepare_smart_turn(tmp_path / "models", wheel=wheel)
    assert "took" in message
    assert model_file.resolve_smart_turn(models_dir=tmp_path / "models").read_bytes() == real.read_bytes()
    assert "already" in prepare_smart_turn(tmp_path / "models", wheel=wheel)


@pytest.mark.parametrize(("payload", "why"), [(None, "does not contain"), (b"not a model", "checksum")])
def test_a_wrong_wheel_leaves_nothing_half_written(tmp_path: Path, payload: bytes | None, why: str) -> None:
    with pytest.raises(ModelError) as caught:
        prepare_smart_turn(tmp_path / "models", wheel=_wheel(tmp_path, payload))
    assert why in caught.value.message
    assert not model_file.smart_turn_path(models_dir=tmp_path / "models").exists()
