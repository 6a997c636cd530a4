"""`visage serve` and `visage api-key` refuse what they cannot do safely, with the fix, before loading models."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from app.cli import cli


def test_serve_beyond_loopback_without_a_key_is_refused_before_loading(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VISAGE_API_KEY", raising=False)
    monkeypatch.setattr("app.core.secret_store.backend_name", lambda: None)
    monkeypatch.setattr("app.core.assembly.build_engines", lambda *a, **k: pytest.fail("models were loaded"))
    result = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "needs an API key" in result.output and "visage api-key --generate" in result.output


def test_api_key_without_a_keyring_stores_nothing_and_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("app.core.secret_store.backend_name", lambda: None)
    result = CliRunner().invoke(cli, ["api-key", "--generate"])
    assert result.exit_code != 0 and "no OS keyring" in result.output and "VISAGE_API_KEY" in result.output
