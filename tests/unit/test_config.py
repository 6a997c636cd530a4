from pathlib import Path

import pytest

from app.core import config
from app.core.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_missing_file_means_defaults(tmp_path: Path) -> None:
    settings = config.load(tmp_path / "nope.toml")
    assert settings.llm.model == "qwen2.5-coder-1.5b"
    assert settings.tts.engine == "piper"


def test_values_are_read(tmp_path: Path) -> None:
    text = '[llm]\nmodel = "/models/big.gguf"\nn_gpu_layers = -1\n[tts]\nengine = "edge-tts"\n'
    settings = config.load(write(tmp_path, text))
    assert settings.llm.model == "/models/big.gguf"
    assert settings.llm.n_gpu_layers == -1
    assert settings.tts.engine == "edge-tts"


def test_unknown_key_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        config.load(write(tmp_path, "[llm]\ntemprature = 0.5\n"))
    assert "llm.temprature" in str(err.value)
    assert "unknown setting" in str(err.value)


def test_unknown_section_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown setting 'speech'"):
        config.load(write(tmp_path, "[speech]\nx = 1\n"))


def test_bad_value_names_key_and_value(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        config.load(write(tmp_path, "[vad]\nthreshold = 3\n"))
    message = str(err.value)
    assert "vad.threshold" in message and "3" in message


def test_garbage_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        config.load(write(tmp_path, "this is = = not toml ["))
    binary = tmp_path / "bin.toml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ConfigError):
        config.load(binary)


def test_written_file_documents_every_field_and_loads_back(tmp_path: Path) -> None:
    settings = config.Settings()
    settings.llm.temperature = 0.9
    settings.persona.system_prompt = 'Say "hi" \\ politely.'
    path = config.save(settings, tmp_path / "c.toml")
    text = path.read_text()
    for section, field in config.Settings.model_fields.items():
        if field.annotation is not None and hasattr(field.annotation, "model_fields"):
            assert f"[{section}]" in text
            for sub in field.annotation.model_fields.values():
                assert sub.description and f"# {sub.description}" in text
    again = config.load(path)
    assert again.llm.temperature == 0.9
    assert again.persona.system_prompt == 'Say "hi" \\ politely.'
