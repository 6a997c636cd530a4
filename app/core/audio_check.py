"""Microphone and speaker checks for the welcome and the settings: a level meter and a test tone. Qt-free.

Both work on the same audio sources and sinks as a conversation (``AudioBackend.open_source`` /
``open_sink``), so they check the devices a turn will use. With no sound card (or no PortAudio) opening
them raises :class:`AudioDeviceError` with the reason; the caller says so and carries on: text chat does
not need audio.
"""

from __future__ import annotations

import logging
import threading

import numpy as np

from app.core.audio_device import list_devices
from app.core.audio_io import AudioSink, AudioSource
from app.core.errors import AudioDeviceError
from engines.base import AudioChunk

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


TONE_RATE = 48_000


def play_tone(sink: AudioSink, *, seconds: float = 0.8) -> None:
    """Play the test tone on ``sink`` until it has been heard, then close the sink (blocks ~``seconds``).

    Any AudioSink: the speakers (``SpeakerSink``) or, in tests, a file-backed one.
    """
    try:
        sink.play(AudioChunk(pcm=tone(seconds, TONE_RATE), sample_rate=TONE_RATE, text="test tone"))
        sink.drain(timeout=seconds + 2.0)
    except AudioDeviceError:
        raise
    except Exception as err:  # PortAudioError, ValueError for an unknown device
        raise AudioDeviceError(f"Cannot play on the speakers: {err}",
                               hint="Pick another output device; text chat works without sound.") from None
    finally:
        try:
            sink.close()
        except Exception:
            log.debug("closing the speakers failed", exc_info=True)


class LevelMeter:
    """Reads an :class:`AudioSource` in its own thread and keeps the latest level (0–1) and the peak.

    For the microphone meters of the welcome and the settings; ``close()`` stops reading and closes the
    source. ``error`` holds what went wrong if the source failed while running.
    """

    def __init__(self, source: AudioSource, *, frame_samples: int = 800) -> None:
        self.source = source
        self.value = 0.0
        self.peak = 0.0
        self.error: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(frame_samples,), name="visage-level", daemon=True)
        self._thread.start()

    def _run(self, frame_samples: int) -> None:
        try:
            for frame in self.source.frames(frame_samples):
                if self._stop.is_set():
                    break
                self.value = level(frame)
                self.peak = max(self.peak, self.value)
        except Exception as err:
            self.error = str(err)
            log.info("level meter stopped: %s", err)
        self.value = 0.0

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def close(self) -> None:
        self._stop.set()
        try:
            self.source.close()
        except Exception:
            log.debug("closing the microphone failed", exc_info=True)
        self._thread.join(timeout=1.0)
