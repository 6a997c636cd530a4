"""A user who pauses mid-sentence is not answered mid-sentence: the real pipeline (Silero VAD, Smart Turn, the
default Whisper and LLM) on speech that is not Visage's own voice, with 0.6-0.8 s pauses spliced in.

Through `visage talk` on a file (the end-of-turn decisions run inline there, so the result does not depend on
the machine's speed): the whole utterance must come back as ONE user turn, with the words after the pause in it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.audio_helpers import write_wav
from tests.e2e.test_voice_turn import stored_rows, talk
from tests.speech_corpus import Recording, human_recordings, paused_espeak, paused_recording


def user_rows(data_dir: Path) -> list[str]:
    return [text for role, text, _interrupted in stored_rows(data_dir) if role == "user"]


def recording(name: str) -> Recording:
    return next(r for r in human_recordings() if r.name == name)


def word_index(rec: Recording, word: str) -> int:
    return [w[0] for w in rec.words].index(word)


@pytest.mark.real_models
def test_a_question_with_a_pause_before_its_last_word_is_answered_whole(
    data_dir: Path, tmp_path: Path, no_network: None
) -> None:
    clip = paused_espeak("What is the capital of", "France?", 0.7, voice="en-gb", speed=155, pitch=40)
    result, _ = talk(data_dir, write_wav(tmp_path / "q.wav", clip, 16_000), tmp_path / "r.wav")

    assert len(result["turns"]) == 1, [t["transcript"] for t in result["turns"]]
    transcript = result["turns"][0]["transcript"].lower()
    assert "capital" in transcript and "france" in transcript
    assert "paris" in result["turns"][0]["reply"].lower()
    assert len(user_rows(data_dir)) == 1


@pytest.mark.real_models
@pytest.mark.parametrize(("name", "pauses", "first", "last"), [
    # a human reader, pauses where people hesitate: after "woman" (0.6 s) and after "been" (0.8 s)
    ("librivox-0920", (("woman", 0.6), ("been", 0.8)), "married", "respectable"),
    # a pause after "and": the sentence is plainly not over. (With Whisper base, trimmed, this one is cut: at
    # the pause base repeats itself, "rather cold-hearted and cold-hearted.", and the words no longer dangle.)
    ("librivox-0890", (("and", 0.7),), "cold", "selfish"),
])
def test_a_human_recording_with_pauses_is_one_turn(
    data_dir: Path, tmp_path: Path, no_network: None,
    name: str, pauses: tuple[tuple[str, float], ...], first: str, last: str,
) -> None:
    rec = recording(name)
    clip = rec.audio
    # splice from the last pause back, so earlier word timings stay valid
    for word, pause_s in sorted(pauses, key=lambda p: -word_index(rec, p[0])):
        shifted = Recording(rec.name, rec.text, clip, rec.words)
        clip = paused_recording(shifted, [word_index(rec, word)], pause_s)
    result, _ = talk(data_dir, write_wav(tmp_path / "q.wav", clip, 16_000), tmp_path / "r.wav")

    transcripts = [t["transcript"].lower() for t in result["turns"]]
    assert len(transcripts) == 1, f"cut into {len(transcripts)} turns: {transcripts}"
    assert first in transcripts[0] and last in transcripts[0], transcripts[0]
    stored = user_rows(data_dir)
    assert len(stored) == 1 and last in stored[0].lower()
