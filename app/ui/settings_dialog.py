"""The settings dialog: models, voice, persona, audio devices, theme, data folder.

On OK the values are validated by the one settings model (``app.core.config``) and, for model paths,
by the same checks the engines use (``engines.models.resolve_*``); an invalid choice keeps the dialog
open and shows the reason. The accepted settings are in ``result_settings``; the window sends them to
the core, which saves them with ``app.core.config.save``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.core import config as config_mod
from app.core.config import Settings
from app.core.errors import VisageError
from app.session.audio import AudioBackend, DeviceAudio, audio_with_devices
from app.ui.jobs import thread_job
from app.ui.memory_page import MemoryPage
from app.ui.sound_check import SoundCheck
from engines.tts import edge

log = logging.getLogger(__name__)

TTS_ENGINES = ("piper", "edge-tts")


def _with_browse(edit: QLineEdit, pick: Any) -> QWidget:
    box = QWidget()
    row = QHBoxLayout(box)
    row.setContentsMargins(0, 0, 0, 0)
    row.addWidget(edit, 1)
    button = QPushButton("Browse…")
    button.clicked.connect(pick)
    row.addWidget(button)
    return box


class SettingsDialog(QDialog):
    def __init__(self, settings: Settings, *, theme: str | None = None, parent: QWidget | None = None,
                 data_dir: Path | None = None, audio: AudioBackend | None = None, memory: Any = None) -> None:
        """``memory``: the long-term memory (``app.store.memory.MemoryStore``); its page saves at once."""
        super().__init__(parent)
        self.setWindowTitle("Visage settings")
        self.setMinimumWidth(560)
        self.original = settings
        self.result_settings: Settings | None = None
        tabs = QTabWidget()

        # models
        self.llm_model = QLineEdit(settings.llm.model)
        self.llm_model.setToolTip("A shipped model name (smollm2-135m) or any chat GGUF file on disk")
        self.n_ctx = QSpinBox()
        self.n_ctx.setRange(0, 1_000_000)
        self.n_ctx.setValue(settings.llm.n_ctx)
        self.gpu_layers = QSpinBox()
        self.gpu_layers.setRange(-100, 10_000)
        self.gpu_layers.setValue(settings.llm.n_gpu_layers)
        self.asr_model = QLineEdit(settings.asr.model)
        self.asr_language = QLineEdit(settings.asr.language or "")
        self.asr_language.setPlaceholderText("empty = detect (multilingual models)")
        models = QWidget()
        form = QFormLayout(models)
        form.addRow("Language model (GGUF)", _with_browse(self.llm_model, self._pick_gguf))
        form.addRow("Context size (tokens)", self.n_ctx)
        form.addRow("GPU layers (-1 = all)", self.gpu_layers)
        form.addRow("Speech recognizer", _with_browse(self.asr_model, self._pick_asr))
        form.addRow("Spoken language", self.asr_language)
        manage = QPushButton("Manage models…")  # add, download, remove (app.ui.models_dialog)
        manage.clicked.connect(self.open_models)
        browse = QPushButton("Catalogue…")  # install a bigger model in one click (app.ui.catalogue_page)
        browse.setObjectName("open_catalogue")
        browse.clicked.connect(self.open_catalogue)
        model_buttons = QWidget()
        model_row = QHBoxLayout(model_buttons)
        model_row.setContentsMargins(0, 0, 0, 0)
        model_row.addWidget(manage)
        model_row.addWidget(browse)
        model_row.addStretch(1)
        form.addRow("", model_buttons)
        #: settings chosen in the catalogue that have no field here (the chat format of a chat model)
        self.extra_fields: dict[str, Any] = {}
        tabs.addTab(models, "Models")

        # voice and persona
        self.tts_engine = QComboBox()
        self.tts_engine.addItems(TTS_ENGINES)
        self.tts_engine.setCurrentText(settings.tts.engine)
        self.voice = QLineEdit(settings.tts.voice)
        from app.core import paths

        self.data_folder = Path(data_dir or paths.data_dir(settings.data_dir))
        self.edge_voice = QComboBox()
        self.edge_voice.setObjectName("edge_voice")
        self.edge_voice.setEditable(True)
        self.edge_voice.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        completer = self.edge_voice.completer()
        completer.setFilterMode(Qt.MatchFlag.MatchContains)  # type "de-" or "Sonia"
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.edge_voices: list[Any] = []  # engines.tts.edge.EdgeVoice, once a list is known
        self.edge_status = QLabel()
        self.edge_status.setObjectName("edge_status")
        self.edge_status.setWordWrap(True)
        self.edge_load = QPushButton("Load online voices")
        self.edge_load.clicked.connect(self.load_edge_voices)
        self._edge_job: Any = None
        self._show_edge_voices(edge.load_voice_list(self.edge_voices_file), fresh=False)
        self.edge_voice.setCurrentText(settings.tts.edge_voice)
        self.persona_name = QLineEdit(settings.persona.name)
        self.system_prompt = QPlainTextEdit(settings.persona.system_prompt)
        self.system_prompt.setMaximumHeight(110)
        voice = QWidget()
        form = QFormLayout(voice)
        form.addRow("Voice engine", self.tts_engine)
        form.addRow("Piper voice (.onnx)", _with_browse(self.voice, self._pick_voice))
        edge_row = QWidget()
        row = QHBoxLayout(edge_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.edge_voice, 1)
        row.addWidget(self.edge_load)
        form.addRow("edge-tts voice (online)", edge_row)
        form.addRow("", self.edge_status)
        form.addRow("Assistant name", self.persona_name)
        form.addRow("Persona / system prompt", self.system_prompt)
        tabs.addTab(voice, "Voice && persona")
        self.voice_tab = voice

        # audio devices, theme, data folder
        self.input_device = QComboBox()
        self.output_device = QComboBox()
        self.devices_note = QLabel()
        self.devices_note.setWordWrap(True)
        self._fill_devices(settings)
        self.audio = audio if audio is not None else DeviceAudio(settings)
        self.sound_check = SoundCheck(self.chosen_audio)
        self.theme = QComboBox()
        self.theme.addItems(["system", "light", "dark"])
        self.theme.setCurrentText(theme or settings.ui.theme)
        self.data_dir = QLineEdit(settings.data_dir or "")
        self.data_dir.setPlaceholderText("empty = the platform's user data folder")
        general = QWidget()
        form = QFormLayout(general)
        form.addRow("Microphone", self.input_device)
        form.addRow("Speakers", self.output_device)
        form.addRow("", self.devices_note)
        form.addRow("Sound check", self.sound_check)
        form.addRow("Theme", self.theme)
        form.addRow("Data folder", _with_browse(self.data_dir, self._pick_data_dir))
        tabs.addTab(general, "Audio && app")
        self.audio_tab = general

        # avatar (default character or the user's photo) and opt-in sync
        from app.ui.photo_avatar import AvatarPage
        from app.ui.sync_ui import SyncPage

        self.avatar_page = AvatarPage(settings.avatar, self.data_folder / "avatars")
        tabs.addTab(self.avatar_page, "Avatar")
        self.memory_page = MemoryPage(memory)
        tabs.addTab(self.memory_page, "Memory")
        self.sync_page = SyncPage(settings.sync)
        tabs.addTab(self.sync_page, "Sync")
        from app.ui.api_page import ApiPage

        self.api_page = ApiPage(settings.api)
        tabs.addTab(self.api_page, "Local API")
        self.tabs = tabs
        # The microphone is open only while the audio page shows, on the devices chosen there.
        tabs.currentChanged.connect(self._page_shown)
        for combo in (self.input_device, self.output_device):
            combo.currentIndexChanged.connect(lambda _i: self._page_shown())
        self.tts_engine.currentTextChanged.connect(lambda _t: self._page_shown())
        self.finished.connect(lambda _code: self.sound_check.stop())

        self.error = QLabel()
        self.error.setObjectName("settings_error")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c0392b;")
        self.error.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.buttons = buttons
        layout = QVBoxLayout(self)
        layout.addWidget(tabs)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    # ---- devices ----
    def chosen_audio(self) -> AudioBackend:
        """The audio backend with the devices chosen in this dialog (for the sound check)."""
        return audio_with_devices(self.audio, self.input_device.currentData(), self.output_device.currentData())

    def _page_shown(self) -> None:
        if self.tabs.currentWidget() is self.audio_tab and self.isVisible():
            self.sound_check.start()
        else:
            self.sound_check.stop()
        # Someone who already speaks with edge-tts gets its current voice list without asking;
        # with Piper nothing goes online until "Load online voices" is pressed.
        if (self.tabs.currentWidget() is self.voice_tab and self.tts_engine.currentText() == "edge-tts"
                and self._edge_job is None and self.isVisible()):
            self.load_edge_voices()

    # ---- edge-tts voices ----
    @property
    def edge_voices_file(self) -> Path:
        return self.data_folder / "edge-voices.json"

    def load_edge_voices(self) -> None:
        """Fetch the online voice list in the background; offline, say so and keep what is known."""
        self.edge_load.setEnabled(False)
        self.edge_status.setText("Loading the online voices…")

        def fetch() -> list[Any]:
            voices = edge.list_voices()
            try:
                edge.save_voice_list(self.edge_voices_file, voices)
            except VisageError as err:
                log.info("could not keep the edge-tts voice list: %s", err)
            return voices

        self._edge_job = thread_job("load the online voices", fetch,
                                    on_done=lambda voices: self._show_edge_voices(voices, fresh=True),
                                    on_failed=self._edge_failed)

    def _show_edge_voices(self, voices: list[Any], *, fresh: bool) -> None:
        self.edge_load.setEnabled(True)
        if not voices:
            self.edge_status.setText("Press \"Load online voices\" to choose from the list (needs the internet).")
            return
        typed = self.edge_voice.currentText()
        self.edge_voices = list(voices)
        self.edge_voice.clear()
        for i, v in enumerate(voices):
            self.edge_voice.addItem(v.name)
            self.edge_voice.setItemData(i, v.label, Qt.ItemDataRole.ToolTipRole)
        self.edge_voice.setCurrentText(typed)
        languages = len({v.locale for v in voices})
        when = "" if fresh else " (the list saved last time)"
        self.edge_status.setText(f"{len(voices)} online voices in {languages} languages{when}.")

    def _edge_failed(self, message: str) -> None:
        self.edge_load.setEnabled(True)
        known = " The list saved last time is shown." if self.edge_voices else ""
        self.edge_status.setText(f"{message}{known}")

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._page_shown()

    def _fill_devices(self, settings: Settings) -> None:
        for combo in (self.input_device, self.output_device):
            combo.addItem("System default", None)
        try:
            from app.core.audio_device import list_devices

            devices = list_devices()
        except VisageError as err:
            devices = []
            self.devices_note.setText(f"Voice is off: {err.message}")
        for d in devices:
            if d.inputs:
                self.input_device.addItem(d.name, d.name)
            if d.outputs:
                self.output_device.addItem(d.name, d.name)
        if not devices and not self.devices_note.text():
            self.devices_note.setText("No microphone/speakers found — text chat works.")
        for combo, chosen in ((self.input_device, settings.audio.input_device),
                              (self.output_device, settings.audio.output_device)):
            if chosen is not None:
                index = combo.findData(chosen)
                if index < 0:
                    combo.addItem(f"{chosen} (not connected)", chosen)
                    index = combo.count() - 1
                combo.setCurrentIndex(index)

    # ---- pickers ----
    def _pick_gguf(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a GGUF model", "", "GGUF models (*.gguf)")
        if path:
            self.llm_model.setText(path)

    def _pick_asr(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Choose a faster-whisper model folder")
        if path:
            self.asr_model.setText(path)

    def _pick_voice(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a Piper voice", "", "Piper voices (*.onnx)")
        if path:
            self.voice.setText(path)

    def open_models(self) -> None:
        from app.ui.models_dialog import ModelsDialog

        dialog = ModelsDialog({"llm": self.llm_model.text(), "asr": self.asr_model.text(),
                               "tts": self.voice.text()}, parent=self)
        dialog.exec()
        fields = {"llm": self.llm_model, "asr": self.asr_model, "tts": self.voice}
        for role, spec in dialog.result_specs().items():
            fields[role].setText(spec)

    def open_catalogue(self) -> None:
        from app.models.catalogue_advice import probe_file
        from app.ui.catalogue_page import CatalogueDialog

        dialog = CatalogueDialog(probe_path=probe_file(self.data_folder), current_asr=self.asr_model.text(),
                                 parent=self)
        dialog.exec()
        self.apply_catalogue(dialog.result_fields)

    def apply_catalogue(self, fields: dict[str, Any]) -> None:
        """Put the settings chosen with "Use it" into this dialog's fields (saved on OK)."""
        edits = {"llm.model": self.llm_model, "asr.model": self.asr_model, "asr.language": self.asr_language,
                 "tts.voice": self.voice}
        for dotted, value in fields.items():
            if dotted in edits:
                edits[dotted].setText(value or "")
            elif dotted == "persona.system_prompt":
                self.system_prompt.setPlainText(value or "")
            else:
                self.extra_fields[dotted] = value

    def _pick_data_dir(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Choose the data folder")
        if path:
            self.data_dir.setText(path)

    # ---- validation ----
    def values(self) -> dict[str, Any]:
        data = self.original.model_dump()
        data["llm"].update(model=self.llm_model.text().strip(), n_ctx=self.n_ctx.value(),
                           n_gpu_layers=self.gpu_layers.value())
        data["asr"].update(model=self.asr_model.text().strip(), language=self.asr_language.text().strip() or None)
        data["tts"].update(engine=self.tts_engine.currentText(), voice=self.voice.text().strip(),
                           edge_voice=self.edge_voice.currentText().strip())
        data["persona"].update(name=self.persona_name.text().strip(), system_prompt=self.system_prompt.toPlainText())
        for dotted, value in self.extra_fields.items():
            section, key = dotted.split(".")
            data[section][key] = value
        data["audio"].update(input_device=self.input_device.currentData(),
                             output_device=self.output_device.currentData())
        data["ui"]["theme"] = self.theme.currentText()
        data["data_dir"] = self.data_dir.text().strip() or None
        data["avatar"].update(self.avatar_page.values())
        data["sync"].update(self.sync_page.values())
        data["api"].update(self.api_page.values())
        return data

    def validate(self) -> Settings:
        """The settings as entered, or a VisageError saying what is wrong (and how to fix it)."""
        settings = config_mod.from_dict(self.values(), source="settings")
        if settings.sync.enabled and not settings.sync.server_url:
            raise config_mod.ConfigError("Sync is on but has no server URL.",
                                         hint="Enter the server's URL on the Sync page, or turn sync off.")
        self.api_page.check(settings.api)
        if self.edge_voices and settings.tts.edge_voice not in {v.name for v in self.edge_voices}:
            raise config_mod.ConfigError(
                f"There is no online voice called {settings.tts.edge_voice!r}.",
                hint="Pick one from the edge-tts voice list (type part of a name or a language such as de-DE).")
        from engines import models

        changed = self.original
        if settings.llm.model != changed.llm.model:
            models.resolve_llm(settings.llm.model)
        if settings.asr.model != changed.asr.model:
            models.resolve_asr(settings.asr.model)
        if settings.tts.voice != changed.tts.voice:
            models.resolve_voice(settings.tts.voice)
        return settings

    def accept(self) -> None:
        try:
            self.result_settings = self.validate()
        except VisageError as err:
            self.show_error(str(err))
            return
        self.error.hide()
        super().accept()

    def show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.show()
