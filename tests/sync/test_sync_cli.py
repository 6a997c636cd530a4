"""`visage sync ...` end to end on a temp config and data folder, against a live loopback server."""

from __future__ import annotations

import tomllib
from pathlib import Path

import keyring
import pytest
from click.testing import CliRunner
from keyring.backends import fail

from app.cli import cli
from app.store import Store

from .conftest import Live


def invoke(tmp_path: Path, *args: str, env: dict[str, str] | None = None, input: str | None = None) -> object:
    return CliRunner().invoke(cli, ["--data-dir", str(tmp_path / "data"), "--config", str(tmp_path / "c.toml"),
                                    "sync", *args], env=env, input=input)


def test_enable_status_flush_disable(tmp_path: Path, live: Live, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VISAGE_SYNC_API_KEY", live.key)
    r = invoke(tmp_path, "status")
    assert r.exit_code == 0 and "off" in r.output
    r = invoke(tmp_path, "enable", "--url", live.url, "--analytics")
    assert r.exit_code == 0, r.output
    config = (tmp_path / "c.toml").read_text()
    assert tomllib.loads(config)["sync"] == {**tomllib.loads(config)["sync"], "enabled": True,
                                             "share_analytics": True, "server_url": live.url}
    assert live.key not in config
    with Store(tmp_path / "data" / "visage.db") as store:
        store.outbox.queue_message_events(True)
        cid = store.create_conversation()
        for i in range(7):
            store.add_message(cid, "user", f"m{i}")
    r = invoke(tmp_path, "status", "--json")
    assert '"pending_events": 7' in r.output and live.key not in r.output
    r = invoke(tmp_path, "flush", "--timeout", "20")
    assert r.exit_code == 0, r.output
    assert "sent 7, pending 0" in r.output and live.storage.count_events() == 7
    r = invoke(tmp_path, "disable", "--discard")
    assert r.exit_code == 0 and tomllib.loads((tmp_path / "c.toml").read_text())["sync"]["enabled"] is False


def test_set_key_without_a_keyring_fails_clearly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        r = invoke(tmp_path, "set-key", "--stdin", input="vsk_abc123\n")
    finally:
        keyring.set_keyring(before)
    assert r.exit_code == 2 and "no OS keyring" in r.output
    assert not (tmp_path / "c.toml").exists() or "vsk_abc123" not in (tmp_path / "c.toml").read_text()


def test_flush_with_sync_off_says_how_to_turn_it_on(tmp_path: Path) -> None:
    r = invoke(tmp_path, "flush")
    assert r.exit_code != 0 and "visage sync enable" in r.output
