"""Settings › Local API: serve the local models as an OpenAI-compatible API (``app.api``).

On/off, the port, and "also reachable from my network", which needs an API key: the key is generated or
pasted here and stored in the OS keyring in a background thread (``app.api.keys``), never in config.toml.
Without a keyring the page says so and the network option cannot be saved.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton, QSpinBox, QWidget

from app.core.config import ApiSettings, ConfigError
from app.ui.jobs import thread_job

OK_COLOUR = "#1e8449"
STOP_COLOUR = "#c0392b"


class ApiPage(QWidget):
    def __init__(self, settings: ApiSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.enabled = QCheckBox("Serve Visage's models to other programs (OpenAI-compatible API)")
        self.enabled.setChecked(settings.enabled)
        self.port = QSpinBox()
        self.port.setRange(1, 65535)
        self.port.setValue(settings.port)
        self.network = QCheckBox("Also reachable from my network (needs an API key)")
        self.network.setChecked(settings.network)
        self.address = QLabel()
        self.address.setObjectName("api_address")
        self.address.setWordWrap(True)
        self.address.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.key = QLineEdit()
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key.setPlaceholderText("paste a key, or press Generate")
        self.generate = QPushButton("Generate")
        self.save_key = QPushButton("Save key")
        self.key_note = QLabel("Checking for an OS keyring…")
        self.key_note.setObjectName("api_key_note")
        self.key_note.setWordWrap(True)
        #: None while the keyring is being checked; then whether a key is stored
        self.has_key: bool | None = None
        key_row = QHBoxLayout()
        key_row.addWidget(self.key, 1)
        key_row.addWidget(self.generate)
        key_row.addWidget(self.save_key)
        form = QFormLayout(self)
        form.addRow(self.enabled)
        form.addRow("Port", self.port)
        form.addRow(self.network)
        form.addRow("API key", key_row)
        form.addRow("", self.key_note)
        form.addRow("Address", self.address)
        self.enabled.toggled.connect(self._refresh)
        self.network.toggled.connect(self._refresh)
        self.port.valueChanged.connect(self._refresh)
        self.generate.clicked.connect(self._generate)
        self.save_key.clicked.connect(self.store_key)
        self._refresh()
        self.jobs = [thread_job("Checking the keyring", self._describe_key, on_done=self._key_described)]

    def _refresh(self) -> None:
        on = self.enabled.isChecked()
        for w in (self.port, self.network):
            w.setEnabled(on)
        if not on:
            self.address.setText("Off: nothing listens.")
            return
        where = "this computer and your network" if self.network.isChecked() else "this computer only"
        key = "with the key as `Authorization: Bearer KEY`" if self.network.isChecked() or self.has_key else \
            "any API key text works on this computer"
        self.address.setText(f"http://127.0.0.1:{self.port.value()}/v1 — reachable from {where}; {key}. "
                             "Not saved in your history unless a request sends X-Visage-Save: true.")

    # ---- the key (background thread: a keyring may talk to D-Bus) ----
    @staticmethod
    def _describe_key() -> tuple[bool, bool]:
        from app.api import keys
        from app.core.secret_store import backend_name

        return backend_name() is not None, keys.get_key() is not None

    def _key_described(self, result: tuple[bool, bool]) -> None:
        keyring_ok, stored = result
        self.has_key = stored
        for w in (self.key, self.generate, self.save_key):
            w.setEnabled(keyring_ok)
        if not keyring_ok and not stored:
            from app.api.keys import NO_KEYRING_HINT

            self.key_note.setText(f"No OS keyring: the API stays on this computer. {NO_KEYRING_HINT}")
            self.key_note.setStyleSheet(f"color: {STOP_COLOUR};")
        else:
            self.key_note.setText("A key is stored in the OS keyring." if stored else "No key stored yet.")
            self.key_note.setStyleSheet("")
        self._refresh()

    def _generate(self) -> None:
        from app.api.keys import new_key

        self.key.setEchoMode(QLineEdit.EchoMode.Normal)  # shown once, to copy into the other program
        self.key.setText(new_key())
        self.store_key()

    def store_key(self) -> None:
        key = self.key.text().strip()
        if not key:
            self.key_note.setText("Paste a key or press Generate first.")
            return
        from app.api import keys

        self.save_key.setEnabled(False)
        self.jobs.append(thread_job("Saving the API key", keys.set_key, key, on_done=self._key_saved,
                                    on_failed=self._key_failed))

    def _key_saved(self, backend: str) -> None:
        self.has_key = True
        self.save_key.setEnabled(True)
        self.key_note.setText(f"Key saved in the OS keyring ({backend}); copy it into the other program now. "
                              "It is never written to config.toml.")
        self.key_note.setStyleSheet(f"color: {OK_COLOUR};")
        self._refresh()

    def _key_failed(self, message: str) -> None:
        self.save_key.setEnabled(True)
        self.key_note.setText(f"The key was NOT stored: {message}")
        self.key_note.setStyleSheet(f"color: {STOP_COLOUR};")

    # ---- values for the dialog's validation ----
    def values(self) -> dict[str, Any]:
        return {"enabled": self.enabled.isChecked(), "port": self.port.value(), "network": self.network.isChecked()}

    def check(self, settings: ApiSettings) -> None:
        """Refuse listening beyond this computer without a stored key."""
        if settings.enabled and settings.network and not self.has_key:
            raise ConfigError("The local API can be reachable from your network only with an API key.",
                              hint="Press Generate (or paste a key and Save key) on the Local API page, "
                              "or untick \"Also reachable from my network\".")
