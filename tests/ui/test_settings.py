"""The settings dialog refuses invalid values with the reason, and saves valid ones to the TOML file."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

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


EDGE_VOICES = [  # the shape of the real service's answer (fields trimmed)
    {"Name": "Microsoft Server Speech Text to Speech Voice (en-GB, SoniaNeural)", "ShortName": "en-GB-SoniaNeural",
     "Gender": "Female", "Locale": "en-GB", "SuggestedCodec": "audio-24khz-48kbitrate-mono-mp3", "Status": "GA"},
    {"Name": "Microsoft Server Speech Text to Speech Voice (de-DE, KatjaNeural)", "ShortName": "de-DE-KatjaNeural",
     "Gender": "Female", "Locale": "de-DE", "SuggestedCodec": "audio-24khz-48kbitrate-mono-mp3", "Status": "GA"},
    {"Name": "Microsoft Server Speech Text to Speech Voice (en-US, GuyNeural)", "ShortName": "en-US-GuyNeural",
     "Gender": "Male", "Locale": "en-US", "SuggestedCodec": "audio-24khz-48kbitrate-mono-mp3", "Status": "GA"},
]


@pytest.fixture
def voice_service(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """A loopback stand-in for the edge-tts voice-list endpoint; edge-tts's own client fetches from it."""
    import edge_tts.voices

    requests: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            body = json.dumps(EDGE_VOICES).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    monkeypatch.setattr(edge_tts.voices, "VOICE_LIST", f"http://127.0.0.1:{port}/voices/list?trustedclienttoken=t")
    yield requests
    server.shutdown()


def _voice_dialog(qtbot, tmp_path: Path, engine: str) -> SettingsDialog:  # type: ignore[no-untyped-def]
    settings = config.Settings().model_copy(
        update={"tts": config.TTSSettings(engine=engine, edge_voice="en-US-AriaNeural")})
    dialog = SettingsDialog(settings, data_dir=tmp_path)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


@pytest.mark.usefixtures("no_network")
def test_edge_voices_offline_say_why_and_a_typed_voice_still_saves(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    dialog = _voice_dialog(qtbot, tmp_path, "edge-tts")
    dialog.tabs.setCurrentWidget(dialog.voice_tab)  # an edge-tts user gets the list without asking
    qtbot.waitUntil(lambda: dialog.edge_load.isEnabled() and "Cannot load" in dialog.edge_status.text(), timeout=10_000)
    assert "type a voice name" in dialog.edge_status.text() and "Piper" in dialog.edge_status.text()
    dialog.edge_voice.setCurrentText("en-GB-RyanNeural")
    dialog.accept()
    assert dialog.result_settings is not None and dialog.result_settings.tts.edge_voice == "en-GB-RyanNeural"


def test_edge_voices_load_into_a_searchable_list_and_unknown_names_are_refused(  # type: ignore[no-untyped-def]
        qtbot, tmp_path: Path, voice_service: list[str]) -> None:
    dialog = _voice_dialog(qtbot, tmp_path, "piper")
    dialog.tabs.setCurrentWidget(dialog.voice_tab)
    assert voice_service == []  # a Piper user's settings do not go online by themselves
    qtbot.mouseClick(dialog.edge_load, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "online voices" in dialog.edge_status.text() and dialog.edge_load.isEnabled(),
                    timeout=10_000)
    assert len(voice_service) == 1
    assert dialog.edge_status.text() == "3 online voices in 3 languages."
    names = [dialog.edge_voice.itemText(i) for i in range(dialog.edge_voice.count())]
    assert names == ["de-DE-KatjaNeural", "en-GB-SoniaNeural", "en-US-GuyNeural"]  # by language
    assert dialog.edge_voice.itemData(0, Qt.ItemDataRole.ToolTipRole) == "de-DE-KatjaNeural (Female, de-DE)"
    completer = dialog.edge_voice.completer()
    completer.setCompletionPrefix("sonia")
    assert completer.currentCompletion() == "en-GB-SoniaNeural"
    # the typed default is not in the list any more: refused with the reason, then a listed one saves
    dialog.accept()
    assert dialog.result_settings is None and "no online voice called 'en-US-AriaNeural'" in dialog.error.text()
    dialog.edge_voice.setCurrentIndex(0)
    dialog.accept()
    assert dialog.result_settings is not None and dialog.result_settings.tts.edge_voice == "de-DE-KatjaNeural"
    # the list is kept for next time, offline too
    again = _voice_dialog(qtbot, tmp_path, "piper")
    assert again.edge_voice.count() == 3 and "saved last time" in again.edge_status.text()
