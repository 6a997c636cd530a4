"""Entry point of the desktop window: ``visage run`` calls :func:`main` when a display exists."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from app.core.config import Settings

log = logging.getLogger(__name__)


def main(settings: Settings, data_dir: Path, *, config_path: Path | None = None) -> int:
    """Open the window, load the models in the background, run until it is closed. Returns the exit code."""
    from PySide6.QtWidgets import QApplication

    from app.ui.bridge import CoreBridge
    from app.ui.main_window import MainWindow
    from app.ui.theme import apply_theme

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("Visage")
    apply_theme(app, settings.ui.theme)
    bridge = CoreBridge(settings, Path(data_dir), config_path=config_path)
    window = MainWindow(bridge, theme=settings.ui.theme)
    window.show()
    bridge.start()
    if not settings.ui.first_run_done:  # a new install: the welcome opens over the window
        __import__("app.ui.welcome", fromlist=["show_welcome"]).show_welcome(window, bridge, Path(data_dir))
    __import__("app.ui.autorun", fromlist=["install"]).install(app, window, bridge)  # smoke test / bench only
    code = app.exec()
    bridge.close()
    log.info("window closed (exit code %s)", code)
    return int(code)
