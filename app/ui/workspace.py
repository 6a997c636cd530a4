"""The window's centre: tabs for the conversation, the copy studio and the usage dashboard, plus the
sync indicator the main window puts in its status bar.

Kept out of ``main_window.py`` so the window only places it (a few lines). The studio's "read aloud"
goes through the bridge's existing read-aloud path and brings the conversation tab (and so the avatar)
to the front while it speaks.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QTabWidget, QWidget

from app.ui import commands as cmd
from app.ui.dashboard import DashboardPanel
from app.ui.studio import StudioPanel
from app.ui.sync_ui import SyncIndicator

log = logging.getLogger(__name__)

CONVERSATION, STUDIO, DASHBOARD = 0, 1, 2


class Workspace(QTabWidget):
    def __init__(self, bridge: Any, conversation: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("workspace")
        self.bridge = bridge
        self.studio = StudioPanel(bridge)
        self.dashboard = DashboardPanel(self._db_path)
        self.sync_indicator = SyncIndicator()
        self.addTab(conversation, "Conversation")
        self.addTab(self.studio, "Copy studio")
        self.addTab(self.dashboard, "Dashboard")
        self.setDocumentMode(True)
        self.studio.sig_read_aloud.connect(self.read_aloud)
        self.studio.sig_generated.connect(lambda _v: self.dashboard.summary is not None and self.dashboard.refresh())
        bridge.sig_sync.connect(self.on_sync)
        bridge.sig_finished.connect(self._turn_finished)

    def _db_path(self) -> Path | None:
        store = self.bridge.session.store
        return None if store is None else Path(store.path)

    def read_aloud(self, text: str) -> None:
        """The avatar reads a studio variant: show it, and speak through the bridge's read-aloud path."""
        self.setCurrentIndex(CONVERSATION)
        self.bridge.send(cmd.ReadAloud(text))

    def on_sync(self, enabled: bool, status: Any) -> None:
        self.sync_indicator.show_state(enabled, status)
        self.studio.update_remote(self.bridge.settings)

    def _turn_finished(self, _event: object) -> None:
        if self.currentIndex() == DASHBOARD:
            self.dashboard.refresh()
