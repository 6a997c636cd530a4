"""The model manager window: installed models with size and source; add from disk, download, remove, use.

All work goes through the Qt-free :class:`app.models.manager.ModelManager`. Copies and downloads run
on a worker thread; progress comes back through a queued signal, and Cancel stops a download between
chunks (its ``.part`` file stays, so downloading the same URL again resumes). ``chosen`` holds, per role,
the spec of the model the user picked with "Use" (the settings dialog puts it into its fields).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import VisageError
from app.models.manager import ROLE_NAMES, ROLES, InstalledModel, ModelManager, Role

log = logging.getLogger(__name__)


def show_download_progress(bar: QProgressBar, done: int, total: int | None) -> None:
    """Bytes so far on a progress bar ("12.3 / 456.7 MB"); busy indicator while the size is unknown."""
    if total:
        bar.setRange(0, 1000)
        bar.setValue(int(1000 * done / total))
        bar.setFormat(f"{done / 1e6:,.1f} / {total / 1e6:,.1f} MB")


class _Worker(QObject):
    sig_progress = Signal(object, object)
    """(done bytes, total bytes or None)."""
    sig_done = Signal(object, object)
    """(InstalledModel or None, error message or None)."""


class DownloadForm(QDialog):
    """URL, kind and checksum of a model to download."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Download a model")
        self.url = QLineEdit()
        self.url.setPlaceholderText("https://…/model.gguf")
        self.role = QComboBox()
        for role in ROLES:
            self.role.addItem(ROLE_NAMES[role], role)
        self.sha256 = QLineEdit()
        self.sha256.setPlaceholderText("64 hex digits from the model's page (strongly recommended)")
        form = QFormLayout(self)
        form.addRow("URL", self.url)
        form.addRow("Kind", self.role)
        form.addRow("sha256", self.sha256)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)


class ModelsDialog(QDialog):
    def __init__(self, in_use: dict[str, str] | None = None, *, manager: ModelManager | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Models")
        self.setMinimumSize(720, 380)
        self.manager = manager or ModelManager()
        self.in_use = dict(in_use or {})
        self.chosen: dict[str, str] = {}
        self.models: list[InstalledModel] = []
        self.cancel_event: threading.Event | None = None
        self.thread: threading.Thread | None = None
        self.worker = _Worker()
        self.worker.sig_progress.connect(self._on_progress, Qt.ConnectionType.QueuedConnection)
        self.worker.sig_done.connect(self._on_done, Qt.ConnectionType.QueuedConnection)

        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(["Kind", "Name", "Size", "Source", "In use"])
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.itemSelectionChanged.connect(self._update_buttons)

        self.add_file = QPushButton("Add file…")
        self.add_folder = QPushButton("Add folder…")
        self.download_button = QPushButton("Download…")
        self.remove_button = QPushButton("Remove")
        self.use_button = QPushButton("Use")
        self.cancel_button = QPushButton("Cancel download")
        self.add_file.clicked.connect(self.pick_file)
        self.add_folder.clicked.connect(self.pick_folder)
        self.download_button.clicked.connect(self.ask_download)
        self.remove_button.clicked.connect(self.remove_selected)
        self.use_button.clicked.connect(self.use_selected)
        self.cancel_button.clicked.connect(self.cancel_download)
        self.cancel_button.hide()
        row = QHBoxLayout()
        for b in (self.add_file, self.add_folder, self.download_button, self.remove_button, self.use_button):
            row.addWidget(b)
        row.addStretch(1)
        self.progress = QProgressBar()
        self.progress.hide()
        self.status = QLabel(f"Your models are kept in {self.manager.root / 'user'}.")
        self.status.setWordWrap(True)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        close.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(row)
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.cancel_button)
        layout.addLayout(progress_row)
        layout.addWidget(self.status)
        layout.addWidget(close)
        self.refresh()

    # ---- table ----
    def refresh(self) -> None:
        self.models = self.manager.list()
        self.table.setRowCount(len(self.models))
        for i, m in enumerate(self.models):
            used = (self.chosen.get(m.role) or self.in_use.get(m.role)) == m.spec
            cells = [ROLE_NAMES[m.role], m.name, f"{m.size_bytes / 1e6:,.0f} MB", m.source, "✓" if used else ""]
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(str(m.path))
                self.table.setItem(i, j, item)
        self._update_buttons()

    def selected(self) -> InstalledModel | None:
        rows = {i.row() for i in self.table.selectedItems()}
        return self.models[rows.pop()] if len(rows) == 1 else None

    def select(self, name: str) -> None:
        for i, m in enumerate(self.models):
            if m.name == name:
                self.table.selectRow(i)
                return

    def _update_buttons(self) -> None:
        m = self.selected()
        busy = self.thread is not None
        self.remove_button.setEnabled(m is not None and m.source == "user" and not busy)
        self.use_button.setEnabled(m is not None)
        for b in (self.add_file, self.add_folder, self.download_button):
            b.setEnabled(not busy)

    # ---- actions ----
    def pick_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Add a model", "", "Models (*.gguf *.onnx);;All files (*)")
        if path:
            self.add_path(Path(path))

    def pick_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Add a faster-whisper model folder")
        if path:
            self.add_path(Path(path))

    def add_path(self, path: Path, role: Role | None = None) -> None:
        self._run(lambda _p, _c: self.manager.add(path, role), f"Copying {path.name}…")

    def ask_download(self) -> None:
        form = DownloadForm(self)
        if form.exec() == QDialog.DialogCode.Accepted and form.url.text().strip():
            self.download(form.url.text().strip(), form.role.currentData(), form.sha256.text().strip() or None)

    def download(self, url: str, role: Role, sha256: str | None = None) -> None:
        def job(progress: Callable[[int, int | None], None], cancel: threading.Event) -> InstalledModel:
            return self.manager.download(url, role, sha256=sha256, progress=progress, cancel=cancel)

        self._run(job, f"Downloading {url}…")

    def cancel_download(self) -> None:
        if self.cancel_event is not None:
            self.cancel_event.set()

    def remove_selected(self) -> None:
        m = self.selected()
        if m is None:
            return
        try:
            self.manager.remove(m.name, m.role)
        except VisageError as err:
            self.status.setText(str(err))
            return
        if self.chosen.get(m.role) == m.spec:
            del self.chosen[m.role]
        self.status.setText(f"Removed {m.name}.")
        self.refresh()

    def use_selected(self) -> None:
        m = self.selected()
        if m is None:
            return
        self.chosen[m.role] = m.spec
        self.status.setText(f"{m.name} will be the {ROLE_NAMES[m.role]} once the settings are saved.")
        self.refresh()

    # ---- background work ----
    def _run(self, job: Callable[[Callable[[int, int | None], None], threading.Event], InstalledModel],
             label: str) -> None:
        self.cancel_event = threading.Event()
        cancel = self.cancel_event
        self.status.setText(label)
        self.progress.setRange(0, 0)
        self.progress.show()
        self.cancel_button.show()

        def run() -> None:
            try:
                model = job(lambda d, t: self.worker.sig_progress.emit(d, t), cancel)
            except VisageError as err:
                self.worker.sig_done.emit(None, str(err))
            except Exception as err:  # never let a worker thread die silently
                log.exception("model job failed")
                self.worker.sig_done.emit(None, f"{type(err).__name__}: {err}")
            else:
                self.worker.sig_done.emit(model, None)

        self.thread = threading.Thread(target=run, name="model-manager", daemon=True)
        self._update_buttons()
        self.thread.start()

    def _on_progress(self, done: int, total: int | None) -> None:
        show_download_progress(self.progress, done, total)

    def _on_done(self, model: InstalledModel | None, error: str | None) -> None:
        self.thread = None
        self.cancel_event = None
        self.progress.hide()
        self.cancel_button.hide()
        self.status.setText(error if error else f"Installed {model.name if model else ''}: select it and press Use.")
        self.refresh()
        if model is not None:
            self.select(model.name)

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """For tests and closing: wait for the worker thread (without processing Qt events)."""
        thread = self.thread
        if thread is not None:
            thread.join(timeout)
        return thread is None or not thread.is_alive()

    def reject(self) -> None:
        self.cancel_download()
        super().reject()

    def result_specs(self) -> dict[str, Any]:
        return dict(self.chosen)
