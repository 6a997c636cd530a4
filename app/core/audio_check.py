"""Microphone and speaker checks for the first-run welcome: a level meter and a test tone. Qt-free.

With no sound card (or no PortAudio) every function raises :class:`AudioDeviceError` with the reason;
the caller says so and carries on: text chat does not need audio.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import numpy as np

from app.core.audio_device import _device_arg, _sounddevice, list_devices
from app.core.errors import AudioDeviceError

log = logging.getLogger(__name__)

TONE_HZ = 440.0


def tone(seconds: float = 0.8, rate: int = 48_000, hz: float = TONE_HZ) -> np.ndarray:
    """A soft sine with 20 ms fades (no clicks), float32 mono."""
    n = int(seconds * rate)
    t = np.arange(n, dtype=np.float32) / rate
    tone = 0.25 * np.sin(2 * np.pi * hz * t).astype(np.float32)
    fade = min(n // 2, int(0.02 * rate))
    if fade:
        ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
        tone[:fade] *= ramp
        tone[-fade:] *= ramp[::-1]
    return tone


def level(block: np.ndarray) -> float:
    """Loudness of a block on a 0–1 scale (RMS in dBFS mapped from -60..0 dB)."""
    if block.size == 0:
        return 0.0
    rms = float(np.sqrt(np.mean(np.square(block.astype(np.float64)))))
    db = 20 * np.log10(max(rms, 1e-9))
    return float(np.clip((db + 60.0) / 60.0, 0.0, 1.0))


def devices_summary() -> tuple[list[str], list[str]]:
    """(microphones, speakers) by name. Raises AudioDeviceError when none can be listed."""
    devices = list_devices()
    return [d.name for d in devices if d.inputs], [d.name for d in devices if d.outputs]


def play_tone(device: str | None = None) -> None:
    """Play the test tone on ``device`` (default output) and return at once."""
    sd = _sounddevice()
    try:
        sd.play(tone(), 48_000, device=_device_arg(device))
    except Exception as err:  # PortAudioError, ValueError for an unknown device
        raise AudioDeviceError(f"Cannot play on the speakers: {err}",
                               hint="Pick another output device; text chat works without sound.") from None


class MicLevel:
    """Opens the microphone and keeps the latest level (0–1) for a meter; ``close()`` stops it."""

    def __init__(self, device: str | None = None, rate: int = 16_000) -> None:
        sd = _sounddevice()
        self.value = 0.0
        self.peak = 0.0
        self._lock = threading.Lock()
        try:
            self.stream: Any = sd.InputStream(samplerate=rate, channels=1, dtype="float32",
                                              device=_device_arg(device), blocksize=rate // 20,
                                              callback=self._callback)
            self.stream.start()
        except Exception as err:
            raise AudioDeviceError(f"Cannot open the microphone: {err}",
                                   hint="Pick another input device; text chat works without a microphone.") from None

    def _callback(self, indata: np.ndarray, frames: int, t: Any, status: Any) -> None:
        value = level(indata[:, 0])
        with self._lock:
            self.value = value
            self.peak = max(self.peak, value)

    def close(self) -> None:
        try:
            self.stream.stop()
            self.stream.close()
        except Exception:
            log.debug("closing the microphone failed", exc_info=True)
