"""Long-term memory from the terminal: facts kept across conversations, and used by the real model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.cli import cli


def visage(data: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--data-dir", str(data), *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_add_edit_forget_and_restore(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VISAGE_CONFIG_DIR", str(tmp_path / "config"))
    data = tmp_path / "data"
    assert "Nothing remembered yet" in visage(data, "memory", "list")
    assert visage(data, "memory", "add", "my name is Sam") == "remembered #1: My name is Sam.\n"
    visage(data, "memory", "add", "I live in Lyon.")
    assert "changed #2: I live in Paris." in visage(data, "memory", "edit", "2", "I live in Paris")
    assert "forgot #1" in visage(data, "memory", "forget", "1")
    assert [f["text"] for f in json.loads(visage(data, "memory", "list", "--json"))] == ["I live in Paris."]
    visage(data, "memory", "restore", "1")
    assert visage(data, "memory", "list").splitlines() == ["   1  My name is Sam.", "   2  I live in Paris."]
    empty = CliRunner().invoke(cli, ["--data-dir", str(data), "memory", "add", "   "])
    assert empty.exit_code != 0 and "cannot be empty" in empty.output
    missing = CliRunner().invoke(cli, ["--data-dir", str(data), "memory", "forget", "99"])
    assert missing.exit_code != 0 and "visage memory list" in missing.output


@pytest.mark.real_models
def test_a_fact_said_in_one_conversation_is_known_in_the_next(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VISAGE_CONFIG_DIR", str(tmp_path / "config"))
    data = tmp_path / "data"
    said = CliRunner().invoke(cli, ["--data-dir", str(data), "chat", "Remember that my name is Zorblax."])
    assert said.exit_code == 0, said.output
    assert "Remembered: My name is Zorblax." in said.output
    assert "Zorblax" in visage(data, "memory", "list")
    # A new conversation (no --continue): only the memory can tell the model the name.
    asked = visage(data, "chat", "What is my name?")
    assert "Zorblax" in asked, asked
