"""First-run welcome and the model manager dialog, offscreen (pytest-qt)."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest

from app.core import audio_check, hardware
from app.core.config import Settings
from app.core.errors import AudioDeviceError
from app.models.manager import ModelManager
from app.ui import commands as cmd
from app.ui.models_dialog import ModelsDialog
from app.ui.welcome import WelcomeWizard, show_welcome
from tests.conftest import missing_tool
from tests.models.conftest import ModelServer, fake_gguf, model_server, sha  # noqa: F401 (fixture)
from tests.ui.conftest import FileAudio, NoAudio, check_sound, voice_then_silence

ROOT = Path(__file__).resolve().parents[2]
PORTRAIT = ROOT / "assets" / "avatars" / "astronaut" / "astronaut.png"


@pytest.fixture(scope="module")
def machine() -> hardware.HardwareInfo:
    return hardware.detect()


@pytest.fixture
def no_sound_card(monkeypatch: pytest.MonkeyPatch) -> None:
    def none() -> Any:
        raise AudioDeviceError("Cannot list audio devices: no PortAudio devices.")

    monkeypatch.setattr(audio_check, "devices_summary", none)


def test_without_a_sound_card_it_says_so_and_goes_on(qtbot: Any, tmp_path: Path, no_sound_card: None,
                                                     machine: hardware.HardwareInfo) -> None:
    wizard = WelcomeWizard(Settings(), tmp_path, hardware_info=machine)
    qtbot.addWidget(wizard)
    wizard.show()
    assert "No sound card" in wizard.sound.status.text() and "text chat works" in wizard.sound.status.text()
    assert not wizard.sound.check.tone_button.isEnabled()
    wizard.next()
    assert wizard.currentPage() is wizard.avatar
    wizard.next()
    assert wizard.currentPage() is wizard.models
    text = wizard.models.in_use.text()
    assert "qwen2.5-coder-1.5b" in text and "tiny.en" in text and "MB" in text
    machine_text = wizard.models.machine.text()
    assert f"{machine.cores} cores" in machine_text and machine.llm_reason in machine_text
    assert "affordable" in wizard.models.advice.text()
    wizard.accept()
    assert wizard.result_settings is not None and wizard.result_settings.ui.first_run_done


def test_mic_meter_follows_the_microphone_and_the_tone_plays(qtbot: Any, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            machine: hardware.HardwareInfo) -> None:
    monkeypatch.setattr(audio_check, "devices_summary", lambda: (["USB mic"], ["Speakers"]))
    audio = FileAudio(voice_then_silence())
    wizard = WelcomeWizard(Settings(), tmp_path, hardware_info=machine, audio=audio)
    qtbot.addWidget(wizard)
    wizard.show()
    assert "USB mic" in wizard.sound.status.text()
    check_sound(qtbot, wizard.sound.check, audio)
    wizard.reject()  # "Skip" also finishes the first run, and closes the microphone
    qtbot.waitUntil(lambda: audio.sources[0]._closed.is_set(), timeout=3000)
    assert wizard.result_settings is not None and wizard.result_settings.ui.first_run_done


def test_the_tone_on_missing_speakers_says_what_to_do(qtbot: Any, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      machine: hardware.HardwareInfo) -> None:
    monkeypatch.setattr(audio_check, "devices_summary", lambda: (["USB mic"], ["Speakers"]))
    wizard = WelcomeWizard(Settings(), tmp_path, hardware_info=machine, audio=NoAudio())
    qtbot.addWidget(wizard)
    wizard.show()
    check = wizard.sound.check
    qtbot.waitUntil(lambda: "No microphone level" in check.mic_status.text(), timeout=5000)
    check.tone_button.click()
    qtbot.waitUntil(lambda: check.tone_button.isEnabled(), timeout=5000)
    assert "no speakers" in check.tone_status.text()


def test_audio_check_helpers() -> None:
    tone = audio_check.tone(0.5, 48_000)
    assert tone.shape == (24_000,) and abs(tone).max() <= 0.25 and tone[0] == 0.0
    spectrum = np.abs(np.fft.rfft(tone))
    assert abs(np.argmax(spectrum) * 48_000 / tone.size - audio_check.TONE_HZ) < 3
    assert audio_check.level(np.zeros(100, np.float32)) == 0.0
    assert audio_check.level(np.ones(100, np.float32)) == 1.0


def test_photo_avatar_is_prepared_and_a_bad_photo_keeps_the_default(
        qtbot: Any, tmp_path: Path, no_sound_card: None, machine: hardware.HardwareInfo) -> None:
    from engines import models

    wizard = WelcomeWizard(Settings(), tmp_path, hardware_info=machine)
    qtbot.addWidget(wizard)
    not_image = tmp_path / "notes.png"
    not_image.write_text("not an image")
    assert not wizard.avatar.use_photo(not_image)
    assert wizard.avatar.renderer == "character" and wizard.avatar.default_radio.isChecked()
    assert wizard.avatar.status.text()
    try:
        models.resolve_face_model()
    except Exception:
        missing_tool("face models not prepared (visage setup-models)")
    assert wizard.avatar.use_photo(PORTRAIT)
    assert wizard.avatar.renderer == "photo"
    folder = Path(wizard.avatar.photo_folder or "")
    assert (folder / "face.json").is_file() and not wizard.avatar.preview.pixmap().isNull()
    settings = wizard.build_settings()
    if hasattr(settings, "avatar"):
        assert settings.avatar.renderer == "photo" and settings.avatar.photo_folder == str(folder)


def test_show_welcome_applies_the_result_through_the_bridge(qtbot: Any, tmp_path: Path, no_sound_card: None,
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            machine: hardware.HardwareInfo) -> None:
    monkeypatch.setattr(hardware, "detect", lambda *a, **k: machine)

    class Bridge:
        def __init__(self) -> None:
            self.settings = Settings()
            self.sent: list[Any] = []
            self.session = SimpleNamespace(audio=NoAudio())

        def send(self, command: Any) -> None:
            self.sent.append(command)

    bridge = Bridge()
    wizard = show_welcome(None, bridge, tmp_path)  # type: ignore[arg-type]
    qtbot.addWidget(wizard)
    assert wizard.isVisible()
    wizard.next()
    wizard.next()
    wizard.accept()
    assert len(bridge.sent) == 1 and isinstance(bridge.sent[0], cmd.ApplySettings)
    assert bridge.sent[0].settings.ui.first_run_done


def test_models_dialog_add_use_download_remove(qtbot: Any, tmp_path: Path, model_server: ModelServer) -> None:  # noqa: F811
    manager = ModelManager(tmp_path / "models")
    dialog = ModelsDialog({"llm": "smollm2-135m"}, manager=manager)
    qtbot.addWidget(dialog)
    shipped = [dialog.table.item(i, 1).text() for i in range(dialog.table.rowCount())]
    assert "smollm2-135m" in shipped

    gguf = tmp_path / "helper.gguf"
    gguf.write_bytes(fake_gguf())
    dialog.add_path(gguf)
    qtbot.waitUntil(lambda: dialog.thread is None, timeout=10_000)
    assert dialog.selected() is not None and dialog.selected().name == "helper"  # type: ignore[union-attr]
    dialog.use_selected()
    assert dialog.result_specs() == {"llm": str(manager.user_dir("llm") / "helper.gguf")}

    data = fake_gguf(seed=5)
    url = model_server.put("/m/bigger.gguf", data)
    dialog.download(url, "llm", sha(data))
    qtbot.waitUntil(lambda: dialog.thread is None, timeout=20_000)
    assert "Installed bigger" in dialog.status.text()
    assert (manager.user_dir("llm") / "bigger.gguf").read_bytes() == data

    dialog.download(model_server.base + "/m/missing.gguf", "llm")
    qtbot.waitUntil(lambda: dialog.thread is None, timeout=20_000)
    assert "404" in dialog.status.text()

    dialog.select("helper")
    dialog.remove_selected()
    assert not (manager.user_dir("llm") / "helper.gguf").exists() and dialog.result_specs() == {}
    dialog.select("smollm2-135m")
    assert not dialog.remove_button.isEnabled()  # shipped models stay
