"""`visage doctor` tells what it found and what to fix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.cli import cli


@pytest.fixture(autouse=True)
def isolated_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VISAGE_CONFIG_DIR", str(tmp_path / "config"))


def doctor(tmp_path: Path, *extra: str) -> tuple[int, list[dict[str, str]]]:
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path / "data"), *extra, "doctor", "--json"])
    return result.exit_code, json.loads(result.stdout)


def test_healthy_setup_reports_models_engines_device_and_audio(tmp_path: Path) -> None:
    code, checks = doctor(tmp_path)
    assert code == 0, [c for c in checks if c["status"] == "error"]
    by_area: dict[str, list[dict[str, str]]] = {}
    for c in checks:
        by_area.setdefault(c["area"], []).append(c)
    assert {"packages", "engines", "model:llm", "model:asr", "model:tts", "model:turn", "compute", "audio",
            "storage"} <= set(by_area)
    (turn,) = by_area["model:turn"]
    assert turn["status"] == "ok" and "pipecat-ai" in turn["detail"]  # where the bytes come from
    llm = next(c for c in by_area["model:llm"] if "[in use]" in c["detail"])
    assert llm["name"] == "qwen2.5-coder-1.5b" and ".gguf" in llm["detail"]
    assert any("CPU" in c["detail"] and "because" not in c["name"] for c in by_area["compute"])
    # This machine has no sound card: doctor says so, and how text/file use still works.
    audio = by_area["audio"]
    assert all(c["status"] in ("ok", "warn") for c in audio)


def test_missing_model_is_an_error_with_the_fix(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[llm]\nmodel = "/nowhere/model.gguf"\n')
    code, checks = doctor(tmp_path, "--config", str(config))
    assert code == 1
    bad = [c for c in checks if c["status"] == "error"]
    assert any("/nowhere/model.gguf" in (c["name"] + c["detail"]) and c["fix"] for c in bad)
