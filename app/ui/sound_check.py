"""The sound check: a live microphone level meter and a test tone, for the welcome and the settings.

It opens the same kind of source and sink a conversation uses (``AudioBackend``), on the devices chosen
in the form, so what the user sees and hears here is what a turn will get. Opening, reading and closing
devices all happen off the UI thread (``app.ui.jobs``); the meter polls the level every 50 ms.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from app.core import audio_check
from app.session.audio import AudioBackend
from app.ui.jobs import thread_job

log = logging.getLogger(__name__)


def _open_meter(audio: AudioBackend) -> audio_check.LevelMeter:
    return audio_check.LevelMeter(audio.open_source())


class SoundCheck(QWidget):
    """Microphone level (starts with :meth:`start`, stops with :meth:`stop`) and a "Play test tone" button."""

    def __init__(self, open_audio: Callable[[], AudioBackend], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.open_audio = open_audio
        self.meter_widget = QProgressBar()
        self.meter_widget.setObjectName("mic_level")
        self.meter_widget.setRange(0, 100)
        self.meter_widget.setTextVisible(False)
        self.meter_widget.setMaximumHeight(12)
        self.mic_status = QLabel("Say something: the bar should move.")
        self.mic_status.setWordWrap(True)
        self.tone_button = QPushButton("Play test tone")
        self.tone_button.clicked.connect(self.play_tone)
        self.tone_status = QLabel()
        self.tone_status.setWordWrap(True)
        self.tone_status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Microphone level"))
        layout.addWidget(self.meter_widget)
        layout.addWidget(self.mic_status)
        row = QHBoxLayout()
        row.addWidget(self.tone_button)
        row.addWidget(self.tone_status, 1)
        layout.addLayout(row)
        self.meter: audio_check.LevelMeter | None = None
        self._opening = 0  # bumps on every start/stop: a meter that opens after stop() is closed at once
        self.timer = QTimer(self)
        self.timer.setInterval(50)
        self.timer.timeout.connect(self._update_meter)
        self.last_job: Any = None  # the latest background job (tests wait on it)

    # ---- microphone ----
    def start(self) -> None:
        """Open the microphone (in the background) and show its level."""
        self.stop()
        self._opening += 1
        ticket = self._opening
        self.mic_status.setText("Opening the microphone…")
        self.last_job = thread_job("open the microphone", _open_meter, self.open_audio(),
                                   on_done=lambda meter: self._opened(ticket, meter),
                                   on_failed=lambda message: self._failed(ticket, message))

    def _opened(self, ticket: int, meter: audio_check.LevelMeter) -> None:
        if ticket != self._opening:  # stopped (or restarted) while it opened
            thread_job("close the microphone", meter.close)
            return
        self.meter = meter
        self.mic_status.setText("Say something: the bar should move.")
        self.timer.start()

    def _failed(self, ticket: int, message: str) -> None:
        if ticket == self._opening:
            self.meter_widget.setValue(0)
            self.mic_status.setText(f"No microphone level: {message}")

    def _update_meter(self) -> None:
        meter = self.meter
        if meter is None:
            return
        self.meter_widget.setValue(int(100 * meter.value))
        if meter.error is not None:
            self.timer.stop()
            self.mic_status.setText(f"The microphone stopped: {meter.error}")

    def stop(self) -> None:
        """Close the microphone (in the background)."""
        self._opening += 1
        self.timer.stop()
        self.meter_widget.setValue(0)
        meter, self.meter = self.meter, None
        if meter is not None:
            self.last_job = thread_job("close the microphone", meter.close)

    # ---- speakers ----
    def play_tone(self) -> None:
        """Play the 440 Hz tone on the chosen speakers (in the background)."""
        self.tone_button.setEnabled(False)
        self.tone_status.setText("Playing a 440 Hz tone…")
        audio = self.open_audio()

        def play() -> None:
            audio_check.play_tone(audio.open_sink())

        self.last_job = thread_job("play the test tone", play, on_done=self._played, on_failed=self._tone_failed)

    def _played(self, _result: object) -> None:
        self.tone_button.setEnabled(True)
        self.tone_status.setText("Played a 440 Hz tone — did you hear it? If not, pick other speakers.")

    def _tone_failed(self, message: str) -> None:
        self.tone_button.setEnabled(True)
        self.tone_status.setText(message)
