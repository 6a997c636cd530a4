"""`visage models catalogue` and `visage models install` end to end (loopback server for the download)."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner

from app.cli import cli
from app.core import config as config_mod
from app.models import catalogue as cat_mod
from app.models import catalogue_install
from tests.models.conftest import ModelServer, catalogue_with_chat_file


def test_catalogue_json_lists_every_entry_with_a_verdict_and_recommends_one_per_role(env: dict[str, str]) -> None:
    result = CliRunner().invoke(cli, ["models", "catalogue", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    names = [m["name"] for m in data["models"]]
    assert names == [e.name for e in cat_mod.load().entries]
    assert all(m["verdict"] in ("runs well here", "slow here", "won't fit") and m["reason"] for m in data["models"])
    assert set(data["recommended"]) == {"llm", "asr", "tts"} and data["machine"]["probe"]["measured"] is False

    voices = CliRunner().invoke(cli, ["models", "catalogue", "--role", "tts", "--language", "de"])
    assert voices.exit_code == 0 and "de_DE-thorsten-medium" in voices.output and "es_ES" not in voices.output


def test_install_use_and_refuse(env: dict[str, str], model_server: ModelServer, smollm: Path,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    gguf = smollm
    catalogue = catalogue_with_chat_file(gguf, "https://example.org/t/t.gguf")
    monkeypatch.setattr(cat_mod, "load", lambda path=None: catalogue)
    monkeypatch.setattr(catalogue_install, "BASE_URL_OVERRIDE", model_server.base)
    model_server.put("/t/t.gguf", gguf.read_bytes())
    real = catalogue.get("qwen2.5-0.5b-instruct-q4_k_m")
    model_server.put(urlsplit(real.files[0].url).path, gguf.read_bytes())  # not the bytes its sha256 names
    runner = CliRunner()

    done = runner.invoke(cli, ["models", "install", "test-chat", "--use"])
    assert done.exit_code == 0, done.output
    target = Path(env["VISAGE_MODELS_DIR"]) / "user" / "llm" / "test-chat.gguf"
    assert target.read_bytes() == gguf.read_bytes()
    settings = config_mod.load(Path(env["VISAGE_CONFIG"]))
    assert settings.llm.model == str(target) and settings.llm.chat_format == "chatml"

    refused = runner.invoke(cli, ["models", "install", real.name])
    assert refused.exit_code == 3 and "sha256" in refused.output
    assert not (Path(env["VISAGE_MODELS_DIR"]) / "user" / "llm" / f"{real.name}.gguf").exists()

    unknown = runner.invoke(cli, ["models", "install", "qwen2.5-1.5b"])
    assert unknown.exit_code == 8 and "qwen2.5-1.5b-instruct-q4_k_m" in unknown.output
