"""Bad input gets a clear error, a non-zero exit, and leaves no partial rows."""

from __future__ import annotations

import sqlite3
import wave
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner, Result

from app.cli import cli
from tests.audio_helpers import speak_with_piper, write_wav


@pytest.fixture(autouse=True)
def isolated_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VISAGE_CONFIG_DIR", str(tmp_path / "config"))


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def message_count(data_dir: Path) -> int:
    db = data_dir / "visage.db"
    if not db.exists():
        return 0
    with sqlite3.connect(db) as conn:
        return conn.execute("select count(*) from messages").fetchone()[0]


def talk(data_dir: Path, wav: Path, *extra: str) -> Result:
    return run("--data-dir", str(data_dir), *extra, "talk", "--input", str(wav), "--output",
               str(data_dir.parent / "out.wav"))


def test_text_file_posing_as_audio(tmp_path: Path) -> None:
    fake = tmp_path / "question.wav"
    fake.write_text("this is not audio at all " * 50)
    result = talk(tmp_path / "data", fake)
    assert result.exit_code == 4
    assert "not an audio file" in result.stderr and "WAV" in result.stderr
    assert message_count(tmp_path / "data") == 0
    assert not (tmp_path / "out.wav").exists()


def test_missing_and_empty_files(tmp_path: Path) -> None:
    result = talk(tmp_path / "data", tmp_path / "nope.wav")
    assert result.exit_code == 4 and "not found" in result.stderr
    empty = tmp_path / "empty.wav"
    empty.touch()
    result = talk(tmp_path / "data", empty)
    assert result.exit_code == 4 and "empty" in result.stderr
    no_samples = tmp_path / "nosamples.wav"
    with wave.open(str(no_samples), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
    result = talk(tmp_path / "data", no_samples)
    assert result.exit_code == 4 and "no audio" in result.stderr


@pytest.mark.real_models
def test_silent_recording(tmp_path: Path) -> None:
    wav = write_wav(tmp_path / "silent.wav", np.zeros(32000, np.float32), 16000)
    result = talk(tmp_path / "data", wav)
    assert result.exit_code != 0
    assert "No speech was found" in result.stderr
    assert message_count(tmp_path / "data") == 0


@pytest.mark.real_models
def test_truncated_gguf(tmp_path: Path) -> None:
    from engines.models import resolve_llm

    broken = tmp_path / "broken.gguf"
    broken.write_bytes(resolve_llm("smollm2-135m").read_bytes()[: 1 << 20])
    config = tmp_path / "c.toml"
    config.write_text(f'[llm]\nmodel = "{broken}"\n')
    wav = write_wav(tmp_path / "q.wav", speak_with_piper("Hello there"), 16000)
    result = talk(tmp_path / "data", wav, "--config", str(config))
    assert result.exit_code == 3, result.output
    assert "broken.gguf" in result.stderr and "→" in result.stderr
    assert message_count(tmp_path / "data") == 0
    result = run("--data-dir", str(tmp_path / "data"), "--config", str(config), "chat", "hello")
    assert result.exit_code == 3 and message_count(tmp_path / "data") == 0


def test_missing_model_directory(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[asr]\nmodel = "/nonexistent/whisper-model"\n')
    wav = write_wav(tmp_path / "q.wav", np.zeros(16000, np.float32) + 0.1, 16000)
    result = talk(tmp_path / "data", wav, "--config", str(config))
    assert result.exit_code == 3
    assert "/nonexistent/whisper-model" in result.stderr and "→" in result.stderr
    assert message_count(tmp_path / "data") == 0


def test_unwritable_data_folder(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = run("--data-dir", str(blocker / "data"), "history", "list")
    assert result.exit_code == 5
    assert "--data-dir" in result.stderr or "VISAGE_DATA_DIR" in result.stderr


def test_garbage_config(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[llm]\nmodel = 42\nbogus = true\n")
    result = run("--config", str(config), "config", "show")
    assert result.exit_code == 2
    assert "llm.bogus" in result.stderr and "llm.model" in result.stderr


def test_unknown_engine_lists_choices(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[tts]\nengine = "festival"\n')
    result = run("--data-dir", str(tmp_path / "data"), "--config", str(config), "talk", "--input",
                 str(write_wav(tmp_path / "q.wav", speak_with_piper("hi"), 16000)), "--output", str(tmp_path / "o.wav"))
    assert result.exit_code == 2
    assert "festival" in result.stderr and "piper" in result.stderr and "edge-tts" in result.stderr
