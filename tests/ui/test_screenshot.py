"""scripts/screenshot.py produces a PNG of the real window mid-conversation."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

pytestmark = pytest.mark.real_models
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "screenshot.py"


def test_screenshot_script_saves_the_window_mid_conversation(qapp, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("VISAGE_CONFIG_DIR", str(tmp_path / "config"))
    spec = importlib.util.spec_from_file_location("visage_screenshot", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = module.take(tmp_path / "shot.png")
    image = QImage(str(out))
    assert not image.isNull() and image.width() >= 1000 and image.height() >= 600
    # not a blank frame: the avatar, the bubbles and the sidebar make many distinct colours
    colours = {image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)}
    assert len(colours) > 200
