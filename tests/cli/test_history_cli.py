"""`visage history ...` over a real store (no models needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.cli import cli
from app.store import Store


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VISAGE_CONFIG_DIR", str(tmp_path / "config"))
    data = tmp_path / "data"
    store = Store(data / "visage.db")
    first = store.create_conversation()
    store.add_message(first, "user", "Where do penguins live?")
    store.add_message(first, "assistant", "Mostly in the southern hemisphere, around Antarctica.",
                      timings={"asr_s": 0.4, "first_audio_s": 1.1})
    second = store.create_conversation("Cooking")
    store.add_message(second, "user", "How long do I boil an egg?")
    store.add_message(second, "assistant", "About nine minutes for a hard", interrupted=True)
    store.close()
    return data


def run(data_dir: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--data-dir", str(data_dir), *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_list_show_search(data_dir: Path) -> None:
    listing = run(data_dir, "history", "list")
    assert "Where do penguins live?" in listing and "Cooking" in listing
    rows = json.loads(run(data_dir, "history", "list", "--json"))
    assert {r["title"] for r in rows} == {"Where do penguins live?", "Cooking"}
    cooking = next(r for r in rows if r["title"] == "Cooking")
    shown = run(data_dir, "history", "show", str(cooking["id"]))
    assert "assistant [interrupted]: About nine minutes for a hard" in shown
    hits = run(data_dir, "history", "search", "antarctica")
    assert "[Antarctica]" in hits
    assert "Nothing found" in run(data_dir, "history", "search", "giraffe")


def test_export_formats_parse_back(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "all.json"
    run(data_dir, "history", "export", "--format", "json", "--out", str(out))
    exported = json.loads(out.read_text())
    texts = [m["text"] for c in exported["conversations"] for m in c["messages"]]
    assert "Where do penguins live?" in texts and "About nine minutes for a hard" in texts
    markdown = run(data_dir, "history", "export", "--format", "md")
    assert "Where do penguins live?" in markdown and "Antarctica" in markdown


def test_show_unknown_conversation_says_what_to_do(data_dir: Path) -> None:
    result = CliRunner().invoke(cli, ["--data-dir", str(data_dir), "history", "show", "999"])
    assert result.exit_code == 8
    assert "999" in result.stderr and "visage history list" in result.stderr
