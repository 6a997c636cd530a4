"""A desktop window for studio tests that need no language model (drafts browser, video clips)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.core.config import Settings
from app.core.pipeline import Engines
from tests.fakes import ScriptedLLM
from tests.ui.conftest import NoAudio


def scripted_loader(settings: Settings, progress: Any, on_notice: Callable[[str], None]) -> Engines:
    """Engines with a scripted LLM only: the window starts in a moment, and nothing here asks a model."""
    return Engines(llm=ScriptedLLM("Fine."))  # type: ignore[arg-type]


def open_studio(qtbot: Any, data_dir: Path, settings: Settings | None = None) -> Any:
    """A started MainWindow over ``data_dir`` (closed by qtbot at the end), showing the Copy studio tab."""
    from app.ui.bridge import CoreBridge
    from app.ui.main_window import MainWindow

    bridge = CoreBridge(settings or Settings(), data_dir, audio=NoAudio(), loader=scripted_loader)  # type: ignore[arg-type]
    window = MainWindow(bridge, theme="light")
    qtbot.addWidget(window)
    window.show()
    bridge.start()
    window.workspace.setCurrentWidget(window.workspace.studio)
    return window
