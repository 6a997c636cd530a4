"""`visage chat` with the real embedded LLM: one-shot, interactive, and Ctrl-C stopping a reply (not the app)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.cli import cli

pytestmark = pytest.mark.real_models


def rows(data_dir: Path) -> list[tuple[int, str, str, int]]:
    with sqlite3.connect(data_dir / "visage.db") as db:
        return db.execute("select conversation_id, role, text, interrupted from messages order by id").fetchall()


def test_one_shot_and_continue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VISAGE_CONFIG_DIR", str(tmp_path / "config"))
    data = tmp_path / "data"
    first = CliRunner().invoke(cli, ["--data-dir", str(data), "chat", "What is the capital of France?"])
    assert first.exit_code == 0, first.output
    assert first.stdout.startswith("visage: ") and len(first.stdout.split()) > 2
    again = CliRunner().invoke(cli, ["--data-dir", str(data), "chat", "--continue", "And of Italy?"])
    assert again.exit_code == 0, again.output
    stored = rows(data)
    assert [r[1] for r in stored] == ["user", "assistant", "user", "assistant"]
    assert len({r[0] for r in stored}) == 1  # --continue stayed in the same conversation
    assert stored[1][2] in first.stdout


def test_interactive_session_reads_lines_until_quit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VISAGE_CONFIG_DIR", str(tmp_path / "config"))
    data = tmp_path / "data"
    result = CliRunner().invoke(cli, ["--data-dir", str(data), "chat"], input="Hello!\nWhat is two plus two?\n/quit\n")
    assert result.exit_code == 0, result.output
    assert [r[1] for r in rows(data)] == ["user", "assistant", "user", "assistant"]


def test_ctrl_c_stops_the_reply_not_the_app(tmp_path: Path) -> None:
    env = {**os.environ, "VISAGE_CONFIG_DIR": str(tmp_path / "config"), "PYTHONUNBUFFERED": "1"}
    (tmp_path / "config").mkdir()
    # A long reply, so there is time to interrupt it.
    (tmp_path / "config" / "config.toml").write_text("[llm]\nmax_tokens = 2000\ntemperature = 0.8\n")
    data = tmp_path / "data"
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "--data-dir", str(data), "chat"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write("Write a very long story about a dragon, with many chapters.\n")
    proc.stdin.flush()
    seen = ""
    deadline = time.monotonic() + 120
    while "visage: " not in seen and time.monotonic() < deadline:
        seen += proc.stdout.read(1)
    assert "visage: " in seen, seen
    for _ in range(15):  # let a few tokens stream
        seen += proc.stdout.read(1)
    proc.send_signal(signal.SIGINT)
    time.sleep(1.0)
    proc.stdin.write("/quit\n")
    proc.stdin.flush()
    out, _ = proc.communicate(timeout=120)
    seen += out
    assert proc.returncode == 0, seen
    assert "[stopped]" in seen
    stored = rows(data)
    assert [r[1] for r in stored] == ["user", "assistant"]
    assert stored[1][3] == 1 and stored[1][2]  # kept, marked interrupted
