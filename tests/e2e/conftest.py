"""Fixtures shared by the end-to-end tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh data folder (and config folder) for one `visage` run."""
    monkeypatch.setenv("VISAGE_CONFIG_DIR", str(tmp_path / "config"))
    return tmp_path / "data"
