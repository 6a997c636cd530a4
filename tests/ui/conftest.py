"""Fixtures for the desktop window tests (pytest-qt, offscreen, real models loaded once per session).

Audio never touches a sound card: ``FileAudio`` hands the window file-backed microphones (clips played in
real time) and a real-time file sink whose clock advances like a speaker's.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest

from app.core import audio_check
from app.core.audio_io import FileAudioSink, FileAudioSource
from app.core.config import Settings
from app.core.errors import AudioDeviceError
from app.core.pipeline import Engines
from app.session.engine_host import Progress, load_engines


class FileAudio:
    """An audio backend made of files: each ``open_source`` plays the next queued clip."""

    def __init__(self, *clips: np.ndarray, realtime: bool = True) -> None:
        self.clips = list(clips)
        self.realtime = realtime
        self.sinks: list[FileAudioSink] = []
        self.sources: list[FileAudioSource] = []
        self.make_source: Callable[[np.ndarray], object] | None = None

    def check(self) -> None:
        pass

    def open_source(self) -> FileAudioSource:
        clip = self.clips.pop(0) if self.clips else np.zeros(16_000, np.float32)
        if self.make_source is not None:
            return self.make_source(clip)  # type: ignore[return-value]
        source = FileAudioSource.from_array(clip, realtime=self.realtime)
        self.sources.append(source)
        return source

    def open_sink(self) -> FileAudioSink:
        sink = FileAudioSink(realtime=True)
        self.sinks.append(sink)
        return sink


class NoAudio:
    """A machine without a sound card."""

    def check(self) -> None:
        raise AudioDeviceError("No microphone/speakers found.", hint="Plug in a headset.")

    def open_source(self) -> FileAudioSource:
        raise AudioDeviceError("no microphone")

    def open_sink(self) -> FileAudioSink:
        raise AudioDeviceError("no speakers")


@pytest.fixture(scope="session")
def real_engines() -> Engines:
    """The embedded models, loaded once for every window test (the small LLM: these test the window, not the
    answers; tests/e2e runs the default model)."""
    from app.core.config import LLMSettings
    from tests.model_choice import SMALL_LLM

    return load_engines(Settings(llm=LLMSettings(model=SMALL_LLM)), lambda *_: None, lambda _m: None)


@pytest.fixture
def cached_loader(real_engines: Engines) -> Callable[[Settings, Progress, Callable[[str], None]], Engines]:
    def loader(settings: Settings, progress: Progress, on_notice: Callable[[str], None]) -> Engines:
        for i, label in enumerate(("language model", "speech recognizer", "voice detector", "voice")):
            progress(i, 4, f"Loading the {label}…")
        progress(4, 4, "Models ready")
        return real_engines

    return loader


@pytest.fixture
def ui_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private config folder and data folder for one window."""
    monkeypatch.setenv("VISAGE_CONFIG_DIR", str(tmp_path / "config"))
    return tmp_path / "data"


@pytest.fixture
def open_window(qtbot, ui_env: Path, cached_loader) -> Iterator[Callable[..., object]]:  # type: ignore[no-untyped-def]
    """``open_window(audio, wait_ready=True)`` -> a started MainWindow on the real models."""
    from app.ui.bridge import CoreBridge
    from app.ui.main_window import MainWindow

    windows: list[MainWindow] = []

    def make(audio: object, *, wait_ready: bool = True, loader=None, settings: Settings | None = None) -> MainWindow:  # type: ignore[no-untyped-def]
        bridge = CoreBridge(settings or Settings(), ui_env, audio=audio, loader=loader or cached_loader)  # type: ignore[arg-type]
        window = MainWindow(bridge, theme="light")
        qtbot.addWidget(window)
        window.show()
        if wait_ready:
            with qtbot.waitSignal(bridge.sig_ready, timeout=60_000):
                bridge.start()
        else:
            bridge.start()
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.close()


def voice_then_silence() -> np.ndarray:
    """1.5 s of a -23 dBFS tone (a voice-like level) and then 4 s of silence, at 16 kHz."""
    t = np.arange(24_000) / 16_000
    return np.concatenate([0.1 * np.sin(2 * np.pi * 220 * t), np.zeros(64_000)]).astype(np.float32)


def check_sound(qtbot: Any, check: Any, audio: FileAudio) -> None:
    """The meter follows the microphone file up and back down; the tone reaches the speaker file."""
    qtbot.waitUntil(lambda: check.meter_widget.value() >= 50, timeout=5000)
    assert check.meter_widget.value() <= 80
    qtbot.waitUntil(lambda: check.meter_widget.value() == 0, timeout=5000)  # the silence after the voice
    assert check.meter is not None and check.meter.running  # still listening, not just the end of the file
    check.tone_button.click()
    assert not check.tone_button.isEnabled()
    qtbot.waitUntil(lambda: "did you hear" in check.tone_status.text(), timeout=5000)
    assert check.tone_button.isEnabled()
    played = audio.sinks[-1].audio
    rate = audio.sinks[-1].sample_rate
    assert abs(played.size / rate - 0.8) < 0.05
    assert abs(np.argmax(np.abs(np.fft.rfft(played))) * rate / played.size - audio_check.TONE_HZ) < 3
