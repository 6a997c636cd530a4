"""Settings › Models › Catalogue: browse the model catalogue with what each model would be like on this
machine, install one with progress (pause, resume, cancel), then "Use it".

All work runs on worker threads through the Qt-free :mod:`app.models.catalogue_install` and
:mod:`app.models.catalogue_advice` (hardware detection, the speed probe, downloads); results come back through
queued signals. Pause keeps the ``.part`` files (Resume continues from there), Cancel deletes them. "Use it"
records the settings that switch to the model (``result_fields``); the settings dialog applies them on OK and
the session reloads the engines in the background while the conversation stays.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import Cancelled, VisageError
from app.core.hardware import HardwareInfo
from app.models import catalogue as catalogue_mod
from app.models import catalogue_advice as advice_mod
from app.models import catalogue_install as install_mod
from app.models.catalogue import Catalogue, CatalogueEntry
from app.models.manager import ROLE_NAMES, ROLES, ModelManager
from app.ui.models_dialog import show_download_progress

log = logging.getLogger(__name__)



class _Signals(QObject):
    sig_machine = Signal(object, object)
    """(HardwareInfo, SpeedProbe) once detected or measured."""
    sig_progress = Signal(object, object)
    """(done bytes, total bytes)."""
    sig_done = Signal(object, object, object)
    """(entry, InstalledModel or None, (kind, message) or None) when an install ends."""


class CatalogueDialog(QDialog):
    def __init__(self, *, manager: ModelManager | None = None, catalogue: Catalogue | None = None,
                 info: HardwareInfo | None = None, probe: advice_mod.SpeedProbe | None = None,
                 probe_path: Any = None, current_asr: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Model catalogue")
        self.setMinimumSize(900, 480)
        self.manager = manager or ModelManager()
        self.catalogue = catalogue or catalogue_mod.load()
        self.info, self.probe, self.probe_path, self.current_asr = info, probe, probe_path, current_asr
        self.result_fields: dict[str, Any] = {}
        self.rows: list[CatalogueEntry] = []
        self.advice: dict[str, advice_mod.Advice] = {}
        self.thread: threading.Thread | None = None
        self.pause: threading.Event | None = None
        self.busy_entry: CatalogueEntry | None = None
        self.cancel_requested = False
        self.paused: set[str] = set()
        self.signals = _Signals()
        self.signals.sig_machine.connect(self._on_machine, Qt.ConnectionType.QueuedConnection)
        self.signals.sig_progress.connect(self._on_progress, Qt.ConnectionType.QueuedConnection)
        self.signals.sig_done.connect(self._on_done, Qt.ConnectionType.QueuedConnection)

        self.machine = QLabel("Looking at this machine…")
        self.machine.setWordWrap(True)
        self.measure = QPushButton("Measure speed")
        self.measure.setToolTip("Runs the shipped chat model once (a few seconds) to estimate every model here")
        self.measure.clicked.connect(self.measure_speed)
        self.role = QComboBox()
        self.role.addItem("All kinds", None)
        for r in ROLES:
            self.role.addItem(ROLE_NAMES[r], r)
        self.lang = QComboBox()
        self.lang.addItem("All languages", None)
        for code, language_info in sorted(self.catalogue.languages.items()):
            self.lang.addItem(f"{language_info.name} ({code})", code)
        self.fits = QCheckBox("Fits this machine")
        for widget in (self.role, self.lang):
            widget.currentIndexChanged.connect(lambda _i: self.refresh())
        self.fits.toggled.connect(lambda _b: self.refresh())

        self.table = QTableWidget(0, 7)
        self.table.setHorizontalHeaderLabels(["Name", "Kind", "Size", "Languages", "Here", "Why", "Installed"])
        self.table.horizontalHeader().setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.itemSelectionChanged.connect(self._update)

        self.install_button = QPushButton("Install")
        self.pause_button = QPushButton("Pause")
        self.resume_button = QPushButton("Resume")
        self.cancel_button = QPushButton("Cancel")
        self.use_button = QPushButton("Use it")
        self.install_button.clicked.connect(self.install_selected)
        self.resume_button.clicked.connect(self.install_selected)
        self.pause_button.clicked.connect(self.pause_install)
        self.cancel_button.clicked.connect(self.cancel_install)
        self.use_button.clicked.connect(self.use_selected)
        self.with_language = QCheckBox()
        self.with_language.hide()
        self.progress = QProgressBar()
        self.progress.hide()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.details = QLabel()
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        top = QHBoxLayout()
        top.addWidget(self.machine, 1)
        top.addWidget(self.measure)
        filters = QHBoxLayout()
        for widget in (QLabel("Show"), self.role, self.lang, self.fits):
            filters.addWidget(widget)
        filters.addStretch(1)
        buttons = QHBoxLayout()
        for b in (self.install_button, self.pause_button, self.resume_button, self.cancel_button, self.use_button):
            buttons.addWidget(b)
        buttons.addWidget(self.with_language, 1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.details)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(close)
        if self.info is None:
            self._in_thread(self._detect, "hardware")
        else:
            self._on_machine(self.info, self.probe or advice_mod.assumed_probe(self.info))

    # ---- machine and advice ----
    def _detect(self) -> None:
        from app.core import hardware

        info = hardware.detect()
        probe = advice_mod.load_probe(self.probe_path) if self.probe_path else None
        self.signals.sig_machine.emit(info, probe or advice_mod.assumed_probe(info))

    def measure_speed(self) -> None:
        if self.info is None:
            return
        info = self.info

        def run() -> None:
            from engines import models as engine_models

            try:
                probe = advice_mod.measure_probe(engine_models.resolve_llm(advice_mod.PROBE_MODEL),
                                                 threads=max(1, info.cores - 1))
            except Exception as err:  # the app goes on with the estimate; say why
                log.warning("speed probe failed: %s", err)
                self.signals.sig_machine.emit(info, self.probe)
                return
            if self.probe_path:
                advice_mod.save_probe(self.probe_path, probe)
            self.signals.sig_machine.emit(info, probe)

        self.measure.setEnabled(False)
        self.machine.setText("Measuring with the shipped chat model…")
        self._in_thread(run, "speed-probe")

    def _on_machine(self, info: HardwareInfo, probe: advice_mod.SpeedProbe | None) -> None:
        self.info = info
        self.probe = probe or advice_mod.assumed_probe(info)
        self.measure.setEnabled(True)
        gpu = f"GPU ({info.llm_backend})" if info.llm_gpu_offload else "no GPU for the LLM"
        measured = (f"measured {self.probe.decode_tok_s:.0f} tokens/s with the shipped model" if self.probe.measured
                    else "speed estimated from the cores (Measure speed for a real figure)")
        self.machine.setText(f"This machine: {info.cores} cores, {info.ram_gb:g} GB RAM, {gpu}; {measured}.")
        self.advice = {a.entry.name: a for a in advice_mod.advise_all(self.catalogue, info, self.probe)}
        self.refresh()

    # ---- table ----
    def visible_entries(self) -> list[CatalogueEntry]:
        role, lang = self.role.currentData(), self.lang.currentData()
        out = []
        for entry in self.catalogue.entries:
            if (role and entry.role != role) or (lang and not entry.speaks(lang)):
                continue
            advice = self.advice.get(entry.name)
            if self.fits.isChecked() and advice is not None and advice.verdict == "won't fit":
                continue
            out.append(entry)
        return out

    def refresh(self) -> None:
        selected = self.selected()
        self.rows = self.visible_entries()
        self.table.setRowCount(len(self.rows))
        for i, entry in enumerate(self.rows):
            advice = self.advice.get(entry.name)
            done = install_mod.installed(entry, self.manager) is not None
            state = "✓" if done else ("paused" if entry.name in self.paused else "")
            size = ("" if entry.size_exact else "~") + f"{entry.size / 1e9:.2f} GB"
            cells = [entry.name, ROLE_NAMES[entry.role], size, ", ".join(entry.languages),
                     advice.verdict if advice else "…", advice.reason if advice else "", state]
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(entry.good_for)
                self.table.setItem(i, j, item)
        if selected is not None:
            self.select(selected.name)
        self._update()

    def selected(self) -> CatalogueEntry | None:
        rows = {i.row() for i in self.table.selectedItems()}
        return self.rows[rows.pop()] if len(rows) == 1 and self.rows else None

    def select(self, name: str) -> None:
        for i, entry in enumerate(self.rows):
            if entry.name == name:
                self.table.selectRow(i)
                return

    def _update(self) -> None:
        entry = self.selected()
        busy = self.thread is not None and self.busy_entry is not None
        done = entry is not None and install_mod.installed(entry, self.manager) is not None
        paused = entry is not None and entry.name in self.paused
        self.install_button.setEnabled(entry is not None and not done and not busy and not paused)
        self.resume_button.setVisible(paused)
        self.resume_button.setEnabled(paused and not busy)
        self.pause_button.setEnabled(busy)
        self.cancel_button.setEnabled(busy or paused)
        self.use_button.setEnabled(done)
        offer = self.catalogue.language_offer(entry) if entry is not None else None
        self.with_language.setVisible(offer is not None)
        if offer is not None:
            code, asr, persona = offer
            self.with_language.setText(f"Also listen in {self.catalogue.languages[code].name} "
                                       f"(recognizer '{asr}' if yours is English-only) and use the persona "
                                       f"line “{persona}”")
        if entry is not None:
            sources = "; ".join(f"{f.name}: sha256 {f.sha256[:12]}… from {f.sha256_source}" for f in entry.files[:2])
            self.details.setText(f"{entry.title}: {entry.good_for} Licence: {entry.licence}. {sources}")

    # ---- installing ----
    def install_selected(self) -> None:
        entry = self.selected()
        if entry is None or self.thread is not None:
            return
        self.pause = threading.Event()
        pause = self.pause
        self.busy_entry = entry
        self.cancel_requested = False
        self.paused.discard(entry.name)
        self.status.setText(f"Downloading {entry.name} ({entry.size / 1e6:,.0f} MB)…")
        self.progress.setRange(0, 0)
        self.progress.show()

        def job() -> None:
            try:
                model = install_mod.install(entry, self.manager, pause=pause,
                                            progress=lambda d, t: self.signals.sig_progress.emit(d, t))
            except Cancelled as err:
                self.signals.sig_done.emit(entry, None, ("paused", err.message))
            except VisageError as err:
                self.signals.sig_done.emit(entry, None, ("error", str(err)))
            except Exception as err:  # never let a worker die silently
                log.exception("catalogue install failed")
                self.signals.sig_done.emit(entry, None, ("error", f"{type(err).__name__}: {err}"))
            else:
                self.signals.sig_done.emit(entry, model, None)

        self._in_thread(job, "catalogue-install")
        self._update()

    def pause_install(self) -> None:
        if self.pause is not None:
            self.pause.set()

    def cancel_install(self) -> None:
        entry = self.busy_entry or self.selected()
        if entry is None:
            return
        if self.thread is not None and self.busy_entry is not None:
            self.cancel_requested = True
            self.pause_install()
            return
        install_mod.discard(entry, self.manager)
        self.paused.discard(entry.name)
        self.status.setText(f"Cancelled {entry.name}; its partial download was deleted.")
        self.refresh()

    def _on_progress(self, done: int, total: int | None) -> None:
        show_download_progress(self.progress, done, total)

    def _on_done(self, entry: CatalogueEntry, model: Any, problem: tuple[str, str] | None) -> None:
        self.thread = None
        self.busy_entry = None
        self.pause = None
        self.progress.hide()
        if problem is None:
            self.status.setText(f"Installed {entry.name} (every sha256 checked): select it and press Use it.")
        elif problem[0] == "paused" and self.cancel_requested:
            install_mod.discard(entry, self.manager)
            self.status.setText(f"Cancelled {entry.name}; its partial download was deleted.")
        elif problem[0] == "paused":
            self.paused.add(entry.name)
            self.status.setText(f"Paused {entry.name}: Resume continues where it stopped.")
        else:
            self.status.setText(problem[1])
        self.refresh()

    def use_selected(self) -> None:
        entry = self.selected()
        model = install_mod.installed(entry, self.manager) if entry is not None else None
        if entry is None or model is None:
            return
        fields = self.catalogue.settings_for(entry, model.spec, with_language=self.with_language.isChecked(),
                                             current_asr=self.current_asr)
        self.result_fields.update(fields)
        self.status.setText(f"{entry.name} will be the {ROLE_NAMES[entry.role]} once the settings are saved (OK); "
                            "the engines reload in the background and the conversation goes on.")

    # ---- threads ----
    def _in_thread(self, target: Callable[[], None], name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        if name == "catalogue-install":
            self.thread = thread
        thread.start()

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """For tests and closing: wait for the install thread (without processing Qt events)."""
        thread = self.thread
        if thread is not None:
            thread.join(timeout)
        return thread is None or not thread.is_alive()

    def reject(self) -> None:
        self.pause_install()
        super().reject()
