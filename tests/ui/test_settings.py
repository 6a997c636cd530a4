"""The settings dialog refuses invalid values with the reason, and saves valid ones to the TOML file."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core import config
from app.ui.settings_dialog import SettingsDialog


def test_invalid_numbers_are_refused_with_the_validation_message(qtbot) -> None:  # type: ignore[no-untyped-def]
    dialog = SettingsDialog(config.Settings())
    qtbot.addWidget(dialog)
    dialog.n_ctx.setValue(100)
    dialog.accept()
    assert dialog.result_settings is None and dialog.error.isVisibleTo(dialog)
    assert "'llm.n_ctx'" in dialog.error.text() and "greater than or equal to 256" in dialog.error.text()
    dialog.n_ctx.setValue(4096)
    dialog.gpu_layers.setValue(-5)
    dialog.accept()
    assert "'llm.n_gpu_layers'" in dialog.error.text()


def test_a_missing_model_file_is_refused_with_the_fix(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    dialog = SettingsDialog(config.Settings())
    qtbot.addWidget(dialog)
    missing = tmp_path / "nowhere" / "model.gguf"
    dialog.llm_model.setText(str(missing))
    dialog.accept()
    assert dialog.result_settings is None
    assert str(missing) in dialog.error.text() or "model.gguf" in dialog.error.text()


@pytest.mark.real_models
def test_valid_settings_are_saved_to_the_config_file(qtbot, open_window, ui_env: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from tests.ui.conftest import NoAudio

    window = open_window(NoAudio())
    dialog = SettingsDialog(window.bridge.settings, parent=window)
    qtbot.addWidget(dialog)
    dialog.theme.setCurrentText("dark")
    dialog.system_prompt.setPlainText("You are Visage. Answer in one sentence.")
    dialog.n_ctx.setValue(4096)
    dialog.accept()
    assert dialog.result_settings is not None, dialog.error.text()
    window.apply_settings(dialog)
    path = tmp_path / "config" / "config.toml"
    qtbot.waitUntil(path.exists, timeout=30_000)
    saved = config.load(path)
    assert saved.ui.theme == "dark"
    assert saved.persona.system_prompt == "You are Visage. Answer in one sentence."
    assert saved.llm.n_ctx == 4096


def test_the_audio_page_has_a_live_level_meter_and_a_test_tone(qtbot) -> None:  # type: ignore[no-untyped-def]
    from tests.ui.conftest import FileAudio, check_sound, voice_then_silence

    audio = FileAudio(voice_then_silence(), voice_then_silence())
    dialog = SettingsDialog(config.Settings(), audio=audio)
    qtbot.addWidget(dialog)
    dialog.show()
    assert audio.sources == []  # the microphone stays closed until its page is shown
    dialog.tabs.setCurrentWidget(dialog.audio_tab)
    check_sound(qtbot, dialog.sound_check, audio)
    dialog.tabs.setCurrentIndex(0)  # leaving the page closes the microphone
    qtbot.waitUntil(lambda: audio.sources[0]._closed.is_set(), timeout=3000)
    dialog.tabs.setCurrentWidget(dialog.audio_tab)  # and coming back opens it again
    qtbot.waitUntil(lambda: len(audio.sources) == 2 and dialog.sound_check.meter_widget.value() >= 50, timeout=5000)
    dialog.reject()
    qtbot.waitUntil(lambda: audio.sources[1]._closed.is_set(), timeout=3000)
