"""First run: a short welcome that checks the sound, picks the avatar and explains the models.

Shown by :func:`app.ui.main.main` over the window when ``[ui] first_run_done`` is false (a new install:
no settings file yet). The models keep loading in the background meanwhile. Pages:

1. **Sound**: a live microphone level meter and a test tone (:mod:`app.ui.sound_check`). With no
   sound card it says so and carries on: text chat works without audio.
2. **Avatar**: the default character or the user's photo (the face is found once,
   :func:`engines.avatar.photo.ensure_photo_avatar`, and cached in ``<data>/avatars``).
3. **Models**: which models are in use, what this machine has (RAM, cores, GPU and, when the GPU is not
   used, why) and which model sizes it can afford (:mod:`app.core.hardware`), with the model manager
   one click away for bigger ones.

On Finish, ``result_settings`` holds the settings with ``first_run_done`` set (plus the avatar and any
model chosen in the manager); the caller applies and saves them. Skipping also sets the flag.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QButtonGroup,
    QFileDialog,
    QLabel,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from app.core import config as config_mod
from app.core.config import Settings
from app.core.errors import VisageError
from app.session.audio import AudioBackend, DeviceAudio
from app.ui.sound_check import SoundCheck

log = logging.getLogger(__name__)


def _label(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class SoundPage(QWizardPage):
    def __init__(self, settings: Settings, audio: AudioBackend | None = None) -> None:
        super().__init__()
        self.setTitle("Microphone and speakers")
        self.setSubTitle("Say something: the bar should move. Then play the test tone.")
        self.settings = settings
        self.audio = audio if audio is not None else DeviceAudio(settings)
        self.status = _label()
        self.check = SoundCheck(lambda: self.audio)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(self.check)
        layout.addStretch(1)
        self.has_input = self.has_output = False

    def initializePage(self) -> None:
        from app.core import audio_check

        try:
            mics, speakers = audio_check.devices_summary()
        except VisageError as err:
            mics, speakers = [], []
            self.status.setText(f"No sound card: {err.message} Voice is off; text chat works. You can go on.")
        if not isinstance(self.audio, DeviceAudio):  # a file-backed backend: its file is the device
            mics, speakers = mics or ["audio file"], speakers or ["audio file"]
            self.status.clear()
        self.has_input, self.has_output = bool(mics), bool(speakers)
        if not mics and not speakers:
            if not self.status.text():
                self.status.setText("No microphone or speakers found. Voice is off; text chat works. You can go on.")
        else:
            mic = self.settings.audio.input_device or (mics[0] if mics else "none")
            speaker = self.settings.audio.output_device or (speakers[0] if speakers else "none")
            self.status.setText(f"Microphone: {mic}. Speakers: {speaker}.")
        self.check.tone_button.setEnabled(self.has_output)
        self.check.meter_widget.setEnabled(self.has_input)
        if self.has_input:
            self.check.start()
        else:
            self.check.mic_status.clear()

    def stop(self) -> None:
        self.check.stop()

    def cleanupPage(self) -> None:
        self.stop()


class AvatarPage(QWizardPage):
    def __init__(self, settings: Settings, data_dir: Path) -> None:
        super().__init__()
        self.setTitle("Your assistant's face")
        self.setSubTitle("The drawn character, or a portrait photo whose lips will move.")
        self.data_dir = data_dir
        self.renderer = settings.avatar.renderer if hasattr(settings, "avatar") else "character"
        self.photo_folder: str | None = getattr(getattr(settings, "avatar", None), "photo_folder", None)
        self.default_radio = QRadioButton("Default character")
        self.photo_radio = QRadioButton("My photo…")
        group = QButtonGroup(self)
        group.addButton(self.default_radio)
        group.addButton(self.photo_radio)
        self.default_radio.setChecked(self.renderer != "photo")
        self.photo_radio.setChecked(self.renderer == "photo")
        self.photo_radio.clicked.connect(self.pick_photo)
        self.default_radio.clicked.connect(self.use_default)
        self.preview = QLabel()
        self.preview.setFixedSize(192, 192)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.status = _label()
        layout = QVBoxLayout(self)
        layout.addWidget(self.default_radio)
        layout.addWidget(self.photo_radio)
        layout.addWidget(self.preview)
        layout.addWidget(self.status)
        layout.addStretch(1)
        self._show_default()

    def _show_default(self) -> None:
        import numpy as np
        from PySide6.QtGui import QImage

        from engines.avatar.character import CartoonAvatar
        from engines.avatar.visemes import REST

        frame = np.ascontiguousarray(CartoonAvatar(192).render(REST, 0.0))
        image = QImage(frame.data, 192, 192, 3 * 192, QImage.Format.Format_BGR888).copy()
        self.preview.setPixmap(QPixmap.fromImage(image))

    def use_default(self) -> None:
        self.renderer = "character"
        self.status.setText("")
        self._show_default()

    def pick_photo(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a portrait", "", "Images (*.jpg *.jpeg *.png *.webp)")
        if path:
            self.use_photo(Path(path))
        elif self.renderer != "photo":
            self.default_radio.setChecked(True)

    def use_photo(self, photo: Path) -> bool:
        """Find the face once and cache the avatar; on failure say why and keep the default."""
        from engines.avatar.photo import avatar_folder_for, ensure_photo_avatar

        try:
            ensure_photo_avatar(photo, self.data_dir / "avatars")
            folder = avatar_folder_for(photo, self.data_dir / "avatars")
        except VisageError as err:
            self.status.setText(str(err))
            self.default_radio.setChecked(True)
            self.use_default()
            self.status.setText(str(err))
            return False
        self.renderer, self.photo_folder = "photo", str(folder)
        self.photo_radio.setChecked(True)
        preview = folder / "preview.png"
        if preview.is_file():
            self.preview.setPixmap(QPixmap(str(preview)).scaled(
                192, 192, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation))
        self.status.setText(f"Face found; the avatar is cached in {folder}.")
        return True


class ModelsPage(QWizardPage):
    def __init__(self, settings: Settings, hardware_info: Any = None) -> None:
        super().__init__()
        self.setTitle("Models")
        self.setSubTitle("What Visage runs on, and what this computer can afford.")
        self.settings = settings
        self.hardware_info = hardware_info
        self.chosen: dict[str, str] = {}
        self.in_use = _label()
        self.machine = _label()
        self.advice = _label()
        self.manage = QPushButton("Get bigger models…")
        self.manage.clicked.connect(self.open_manager)
        layout = QVBoxLayout(self)
        for w in (self.in_use, self.machine, self.advice):
            layout.addWidget(w)
        layout.addWidget(self.manage, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addStretch(1)

    def initializePage(self) -> None:
        from app.core import hardware

        info = self.hardware_info or hardware.detect(self.settings.llm.n_gpu_layers, self.settings.asr.device)
        self.hardware_info = info
        self.in_use.setText(self._in_use_text())
        self.machine.setText("This computer: " + "; ".join(hardware.summary_lines(info)) + ".")
        self.advice.setText("\n".join(f"• {s.detail}" for s in hardware.suggestions(info)))

    def _in_use_text(self) -> str:
        from app.models.manager import ModelManager

        want = {"llm": self.settings.llm.model, "asr": self.settings.asr.model, "tts": self.settings.tts.voice}
        want.update(self.chosen)
        try:
            found = {(m.role, m.spec): m for m in ModelManager().list()}
        except Exception:  # listing never stops the welcome
            log.warning("listing the models failed", exc_info=True)
            found = {}
        parts = []
        for role, label in (("llm", "Language model"), ("asr", "Speech recognition"), ("tts", "Voice")):
            m = found.get((role, want[role]))
            size = f" ({m.size_bytes / 1e6:,.0f} MB, {m.source})" if m else ""
            parts.append(f"{label}: {Path(want[role]).name}{size}")
        return "In use — " + "; ".join(parts) + "."

    def open_manager(self) -> None:
        from app.ui.models_dialog import ModelsDialog

        in_use = {"llm": self.settings.llm.model, "asr": self.settings.asr.model, "tts": self.settings.tts.voice}
        dialog = ModelsDialog({**in_use, **self.chosen}, parent=self)
        dialog.exec()
        self.chosen.update(dialog.result_specs())
        self.in_use.setText(self._in_use_text())


class WelcomeWizard(QWizard):
    def __init__(self, settings: Settings, data_dir: Path, *, hardware_info: Any = None,
                 parent: QWidget | None = None, audio: AudioBackend | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Welcome to Visage")
        self.setMinimumSize(620, 440)
        self.settings = settings
        self.result_settings: Settings | None = None
        self.sound = SoundPage(settings, audio)
        self.avatar = AvatarPage(settings, Path(data_dir))
        self.models = ModelsPage(settings, hardware_info)
        for page in (self.sound, self.avatar, self.models):
            self.addPage(page)
        self.setButtonText(QWizard.WizardButton.CancelButton, "Skip")
        self.finished.connect(self._finish)

    def build_settings(self) -> Settings:
        """The settings with the choices made here and ``first_run_done`` set."""
        data = self.settings.model_dump()
        data["ui"]["first_run_done"] = True
        if "avatar" in data:
            data["avatar"]["renderer"] = self.avatar.renderer
            data["avatar"]["photo_folder"] = self.avatar.photo_folder
        for role, spec in self.models.chosen.items():
            section, key = {"llm": ("llm", "model"), "asr": ("asr", "model"), "tts": ("tts", "voice")}[role]
            data[section][key] = spec
        return config_mod.from_dict(data, source="welcome")

    def _finish(self, _code: int) -> None:
        self.sound.stop()
        self.result_settings = self.build_settings()



def show_welcome(window: QWidget, bridge: Any, data_dir: Path) -> WelcomeWizard:
    """Open the welcome over ``window`` (not blocking: the models keep loading); apply the result."""
    from app.ui import commands as cmd

    wizard = WelcomeWizard(bridge.settings, data_dir, parent=window, audio=bridge.session.audio)

    def done(_code: int) -> None:
        if wizard.result_settings is not None:
            bridge.send(cmd.ApplySettings(wizard.result_settings))

    wizard.finished.connect(done)
    wizard.open()
    return wizard
