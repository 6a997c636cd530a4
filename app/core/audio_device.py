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


def _stream_to_monotonic(stream_time: float, stream_now: float) -> float | None:
    """A PortAudio callback timestamp (the stream's own clock) on ``time.monotonic()``: the callback runs at
    the stream's ``currentTime``, so the difference carries over. None when the host API gives no times."""
    if not stream_time or not stream_now:
        return None
    return time.monotonic() + (stream_time - stream_now)


def _device_arg(device: str | None) -> int | str | None:
    if device is None or device == "":
        return None
    return int(device) if device.isdigit() else device


class MicrophoneSource:
    """Frames from the microphone at ``sample_rate`` (16 kHz for the VAD/ASR)."""

    def __init__(self, device: str | None = None, sample_rate: int = 16_000, block: int = 512) -> None:
        sd = _sounddevice()
        self.sample_rate = sample_rate
        self._queue: queue.Queue[tuple[np.ndarray, float | None] | None] = queue.Queue(maxsize=500)
        #: when the last sample of the frame just yielded was captured (monotonic; None: the device has no clock)
        self.frame_end: float | None = None
        self.dropped_blocks = 0  # blocks lost because the core fell behind (shown in the details)
        try:
            self._stream = sd.InputStream(
                device=_device_arg(device),
                channels=1,
                samplerate=sample_rate,
                blocksize=block,
                dtype="float32",
                latency="low",  # the device's smallest input buffer: a barge-in is heard ~25 ms sooner
                callback=self._callback,
            )
            self._stream.start()
        except Exception as err:
            raise AudioDeviceError(f"Cannot open the microphone: {err}", hint=NO_DEVICE_HINT) from None

    def _callback(self, indata: np.ndarray, frames: int, t: Any, status: Any) -> None:
        if status:
            log.debug("input status: %s", status)
        captured = _stream_to_monotonic(t.inputBufferAdcTime, t.currentTime)
        try:
            self._queue.put_nowait((indata[:, 0].copy(), captured))
        except queue.Full:
            self.dropped_blocks += 1
            log.warning("microphone frames dropped: the core is not keeping up")

    def frames(self, frame_samples: int) -> Iterator[np.ndarray]:
        """Consecutive frames; after each, :attr:`frame_end` is when its last sample was captured."""
        pending = np.zeros(0, np.float32)
        pending_start: float | None = None  # capture time of pending[0] (monotonic)
        while True:
            item = self._queue.get()
            if item is None:
                return
            block, captured = item
            if pending_start is None or not len(pending):
                pending_start = captured
            pending = np.concatenate([pending, block])
            while len(pending) >= frame_samples:
                self.frame_end = None if pending_start is None else pending_start + frame_samples / self.sample_rate
                yield pending[:frame_samples]
                pending = pending[frame_samples:]
                if pending_start is not None:
                    pending_start += frame_samples / self.sample_rate

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
        #: (monotonic time the last callback's first frame becomes audible, frames handed before it)
        self._anchor: tuple[float, int] | None = None
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
        audible_at = _stream_to_monotonic(t.outputBufferDacTime, t.currentTime)
        with self._lock:
            n = min(frames, len(self._buffer))
            outdata[:n, 0] = self._buffer[:n]
            outdata[n:, 0] = 0.0
            self._buffer = self._buffer[n:]
            if audible_at is not None:
                self._anchor = (audible_at, self._played)
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
        return self.audible_at(time.monotonic())

    def audible_at(self, when: float) -> float:
        """The output clock at monotonic time ``when``: how much had become audible by then.

        From the device's own timestamps when it gives them (the buffer's DAC time in the callback: exact
        between callbacks), else frames handed over minus the stream's reported latency (moves in blocks)."""
        if not self._rate:
            return 0.0
        with self._lock:
            anchor, played = self._anchor, self._played
        if anchor is not None:
            dac, frames_before = anchor
            position = frames_before + (when - dac) * self._rate
            return max(0.0, min(position, played)) / self._rate
        latency = float(self._stream.latency) if self._stream is not None else 0.0
        return max(0.0, played / self._rate - latency)

    def start_time(self) -> float:
        """A chunk queued now starts after the frames already handed to the device (they play first, silence
        included) and after what waits in our buffer: on the same clock as :meth:`audible_at`."""
        with self._lock:
            return (self._played + len(self._buffer)) / self._rate if self._rate else 0.0

    def stop(self) -> None:
        """Drop what has not been handed to the device; what it holds already (its latency) still plays."""
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
