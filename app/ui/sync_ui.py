"""Opt-in sync in the window: the status-bar indicator and the Sync page of the settings dialog.

The indicator shows what ``Session`` reports on ``sig_sync`` (never reads the database itself):
off / on without a sender / ok with the last success / pending events (retrying) / stopped with the
server's error and the fix. The settings page edits ``[sync]`` (validated by ``app.core.config`` with
the rest of the dialog) and stores the API key in the OS keyring through ``app.sync.credentials`` in a
background thread; without a keyring it says so and stores nothing (never a plain file).
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtWidgets import QCheckBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget

from app.core.config import SyncSettings
from app.ui.jobs import thread_job

log = logging.getLogger(__name__)

OFF_COLOUR = "#7f8c8d"
OK_COLOUR = "#1e8449"
WAIT_COLOUR = "#b9770e"
STOP_COLOUR = "#c0392b"


def describe_sync(enabled: bool, status: Any) -> tuple[str, str, str]:
    """(short text, colour, tooltip) for the indicator. ``status`` is an app.sync.SyncStatus or None."""
    if not enabled:
        return "Sync: off", OFF_COLOUR, "Nothing leaves this computer. Turn sync on in Settings > Sync."
    if status is None:
        return ("Sync: on (no analytics)", OFF_COLOUR,
                "Sync is on but usage analytics are not shared, so there is nothing to send.")
    last = f"last success {status.last_success[:16].replace('T', ' ')}" if status.last_success else "never sent yet"
    if status.stopped:
        return (f"Sync stopped: {status.stopped}", STOP_COLOUR,
                f"{status.pending} event(s) kept. Fix the cause (e.g. set a valid API key in Settings > Sync), "
                "then press Save key or run `visage sync flush`.")
    if status.pending and status.last_error:
        retry = f" in {status.next_retry_in_s:.0f} s" if status.next_retry_in_s is not None else ""
        return (f"Sync: {status.pending} pending, retrying{retry}", WAIT_COLOUR,
                f"{status.last_error} Events are kept and sent when the server answers ({last}).")
    if status.pending:
        return f"Sync: {status.pending} pending", WAIT_COLOUR, f"Sending in the background ({last})."
    return f"Sync ok · {last}", OK_COLOUR, f"Everything is sent ({status.sent_this_session} this session)."


class SyncIndicator(QLabel):
    """A label for the status bar, fed by ``CoreBridge.sig_sync``."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sync_indicator")
        self.enabled = False
        self.status: Any = None
        self.show_state(False, None)

    def show_state(self, enabled: bool, status: Any) -> None:
        self.enabled, self.status = enabled, status
        text, colour, tip = describe_sync(enabled, status)
        self.setText(f"● {text}" if len(text) < 90 else f"● {text[:87]}…")
        self.setStyleSheet(f"color: {colour};")
        self.setToolTip(tip)


class SyncPage(QWidget):
    """Settings > Sync: server URL, what to share, remote copywriting, and the API key (OS keyring only)."""

    def __init__(self, settings: SyncSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.enabled = QCheckBox("Use a remote Visage API (off: nothing leaves this computer)")
        self.enabled.setChecked(settings.enabled)
        self.server_url = QLineEdit(settings.server_url or "")
        self.server_url.setPlaceholderText("https://visage.example.com")
        self.analytics = QCheckBox("Share usage analytics (counts and timings, never message or draft text)")
        self.analytics.setChecked(settings.share_analytics)
        self.remote_copy = QCheckBox("Use the remote API for copywriting (falls back to the local model)")
        self.remote_copy.setChecked(settings.use_remote_copywriting)
        self.api_key = QLineEdit()
        self.api_key.setEchoMode(QLineEdit.EchoMode.Password)
        self.api_key.setPlaceholderText("paste the key printed by `python -m server create-key`")
        self.save_key = QPushButton("Save key")
        self.key_note = QLabel("Checking for an OS keyring…")
        self.key_note.setObjectName("key_note")
        self.key_note.setWordWrap(True)
        self.keyring_ok: bool | None = None
        key_row = QHBoxLayout()
        key_row.addWidget(self.api_key, 1)
        key_row.addWidget(self.save_key)
        form = QFormLayout(self)
        form.addRow(self.enabled)
        form.addRow("Server URL", self.server_url)
        form.addRow(self.analytics)
        form.addRow(self.remote_copy)
        form.addRow("API key", key_row)
        form.addRow("", self.key_note)
        self.save_key.clicked.connect(self.store_key)
        self.enabled.toggled.connect(self._enable_fields)
        self._enable_fields(settings.enabled)
        self.jobs = [thread_job("Checking the keyring", self._describe_key, on_done=self._key_described)]

    def _enable_fields(self, on: bool) -> None:
        for w in (self.server_url, self.analytics, self.remote_copy):
            w.setEnabled(on)

    # ---- the key (background thread: a keyring may talk to D-Bus) ----
    @staticmethod
    def _describe_key() -> tuple[bool, str]:
        from app.core.secret_store import backend_name
        from app.sync import credentials

        return backend_name() is not None, credentials.describe()

    def _key_described(self, result: tuple[bool, str]) -> None:
        ok, text = result
        self.keyring_ok = ok
        self.key_note.setText(f"API key: {text}")
        self.key_note.setStyleSheet("" if ok else f"color: {STOP_COLOUR};")
        self.api_key.setEnabled(ok)
        self.save_key.setEnabled(ok)

    def store_key(self) -> None:
        key = self.api_key.text()
        if not key.strip():
            self.key_note.setText("Paste the API key first.")
            return
        from app.sync import credentials

        self.save_key.setEnabled(False)
        self.jobs.append(thread_job("Saving the API key", credentials.set_api_key, key,
                                    on_done=self._key_saved, on_failed=self._key_failed))

    def _key_saved(self, backend: str) -> None:
        self.api_key.clear()
        self.save_key.setEnabled(True)
        self.key_note.setText(f"API key saved in the OS keyring ({backend}). It is never written to config.toml.")
        self.key_note.setStyleSheet(f"color: {OK_COLOUR};")

    def _key_failed(self, message: str) -> None:
        self.save_key.setEnabled(True)
        self.key_note.setText(f"The key was NOT stored: {message}")
        self.key_note.setStyleSheet(f"color: {STOP_COLOUR};")

    # ---- values for the dialog's validation ----
    def values(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled.isChecked(),
            "server_url": self.server_url.text().strip() or None,
            "share_analytics": self.analytics.isChecked(),
            "use_remote_copywriting": self.remote_copy.isChecked(),
        }
