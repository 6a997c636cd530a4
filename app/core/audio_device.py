"""Live audio through sounddevice (PortAudio): microphone source and speaker sink.

With no sound card, ``query_devices()`` is empty and opening a stream raises; we turn that into an
``AudioDeviceError`` that says text chat still works. The sink's clock (frames actually handed to the
device, minus its output latency) is the master clock for the avatar.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.core.errors import AudioDeviceError
from engines.base import AudioChunk

log = logging.getLogger(__name__)

NO_DEVICE_HINT = (
    "Visage keeps working with text chat. Plug in a microphone/speakers, or pick another device in the "
    "settings ([audio] input_device / output_device)."
)


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    index: int
    name: str
    inputs: int
    outputs: int
    default_rate: float


def _sounddevice() -> Any:
    try:
        import sounddevice
    except OSError as err:  # PortAudio missing
        raise AudioDeviceError(
            f"The PortAudio library is missing ({err}).",
            hint="Install it with `sudo apt-get install libportaudio2`. " + NO_DEVICE_HINT,
        ) from None
    return sounddevice


def list_devices() -> list[DeviceInfo]:
    sd = _sounddevice()
    try:
        devices = sd.query_devices()
    except Exception as err:
        raise AudioDeviceError(f"Cannot list audio devices: {err}", hint=NO_DEVICE_HINT) from None
    return [
        DeviceInfo(i, d["name"], d["max_input_channels"], d["max_output_channels"], d["default_samplerate"])
        for i, d in enumerate(devices)
    ]


def _device_arg(device: str | None) -> int | str | None:
    if device is None or device == "":
        return None
    return int(device) if device.isdigit() else device


class MicrophoneSource:
    """Frames from the microphone at ``sample_rate`` (16 kHz for the VAD/ASR)."""

    def __init__(self, device: str | None = None, sample_rate: int = 16_000, block: int = 512) -> None:
        sd = _sounddevice()
        self.sample_rate = sample_rate
        self._queue: queue.Queue[np.ndarray | None] = queue.Queue(maxsize=500)
        try:
            self._stream = sd.InputStream(
                device=_device_arg(device),
                channels=1,
                samplerate=sample_rate,
                blocksize=block,
                dtype="float32",
                callback=self._callback,
            )
            self._stream.start()
        except Exception as err:
            raise AudioDeviceError(f"Cannot open the microphone: {err}", hint=NO_DEVICE_HINT) from None

    def _callback(self, indata: np.ndarray, frames: int, t: Any, status: Any) -> None:
        if status:
            log.debug("input status: %s", status)
        try:
            self._queue.put_nowait(indata[:, 0].copy())
        except queue.Full:
            log.warning("microphone frames dropped: the core is not keeping up")

    def frames(self, frame_samples: int) -> Iterator[np.ndarray]:
        pending = np.zeros(0, np.float32)
        while True:
            block = self._queue.get()
            if block is None:
                return
            pending = np.concatenate([pending, block])
            while len(pending) >= frame_samples:
                yield pending[:frame_samples]
                pending = pending[frame_samples:]

    def close(self) -> None:
        self._stream.stop()
        self._stream.close()
        self._queue.put(None)


class SpeakerSink:
    """Plays chunks on the output device; the stream opens at the first chunk's sample rate."""

    def __init__(self, device: str | None = None) -> None:
        self._sd = _sounddevice()
        self._device = _device_arg(device)
        self._stream: Any = None
        self._rate = 0
        self._buffer = np.zeros(0, np.float32)
        self._played = 0  # frames handed to the device, silence included (the output clock)
        self._lock = threading.Lock()

    def _open(self, rate: int) -> None:
        try:
            self._stream = self._sd.OutputStream(
                device=self._device, channels=1, samplerate=rate, dtype="float32", callback=self._callback
            )
            self._stream.start()
        except Exception as err:
            raise AudioDeviceError(f"Cannot open the speakers: {err}", hint=NO_DEVICE_HINT) from None
        self._rate = rate

    def _callback(self, outdata: np.ndarray, frames: int, t: Any, status: Any) -> None:
        with self._lock:
            n = min(frames, len(self._buffer))
            outdata[:n, 0] = self._buffer[:n]
            outdata[n:, 0] = 0.0
            self._buffer = self._buffer[n:]
            self._played += frames  # silence is played too: the clock never stands still

    def play(self, chunk: AudioChunk) -> None:
        if self._stream is None:
            self._open(chunk.sample_rate)
        pcm = chunk.pcm.astype(np.float32)
        if chunk.sample_rate != self._rate:
            x = np.arange(0, len(pcm), chunk.sample_rate / self._rate)
            pcm = np.interp(x, np.arange(len(pcm)), pcm).astype(np.float32)
        with self._lock:
            self._buffer = np.concatenate([self._buffer, pcm])

    def audible_time(self) -> float:
        if not self._rate:
            return 0.0
        latency = float(self._stream.latency) if self._stream is not None else 0.0
        with self._lock:
            return max(0.0, self._played / self._rate - latency)

    def stop(self) -> None:
        with self._lock:
            self._buffer = np.zeros(0, np.float32)

    def drain(self, timeout: float | None = None) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                if not len(self._buffer):
                    return
            if deadline is not None and time.monotonic() > deadline:
                return
            time.sleep(0.02)

    def close(self) -> None:
        if self._stream is not None:
            self._stream.stop()
            self._stream.close()
