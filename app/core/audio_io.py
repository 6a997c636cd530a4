"""Audio in and out behind two small interfaces, with file-backed implementations.

The CLI and the tests use files (no sound card needed); the desktop app uses ``app.core.audio_device``
(sounddevice). Audio is mono float32 in [-1, 1].
"""

from __future__ import annotations

import contextlib
import threading
import time
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import numpy as np

from app.core.errors import AudioInputError, StorageError
from engines.base import AudioChunk

ASR_RATE = 16_000


class AudioSource(Protocol):
    sample_rate: int

    def frames(self, frame_samples: int) -> Iterator[np.ndarray]:
        """Blocking iterator of consecutive frames (drain it in a worker thread)."""

    def close(self) -> None: ...


class AudioSink(Protocol):
    def play(self, chunk: AudioChunk) -> None:
        """Queue a chunk for playback; returns at once."""

    def audible_time(self) -> float:
        """The output clock (the master clock), in seconds. Like a sound card's, it keeps running while
        silence plays."""

    def start_time(self) -> float:
        """Where on the output clock a chunk queued now would start: after everything queued, and after what
        the device already holds (a sound card plays its buffer, silence included, before a new chunk: its
        output latency, 50-150 ms on PulseAudio, later than the audible time)."""

    def stop(self) -> None:
        """Drop everything queued or playing (barge-in)."""

    def drain(self, timeout: float | None = None) -> None:
        """Block until everything queued has been played."""

    def close(self) -> None: ...


def load_audio(path: str | Path, sample_rate: int = ASR_RATE) -> np.ndarray:
    """Decode any audio file PyAV/FFmpeg understands to mono float32 at ``sample_rate``."""
    import av  # PyAV ships FFmpeg; comes with faster-whisper

    path = Path(path)
    if not path.is_file():
        raise AudioInputError(f"Audio file not found: {path}", hint="Check the path (a WAV, FLAC, MP3 or OGG file).")
    if path.stat().st_size == 0:
        raise AudioInputError(f"{path} is empty.", hint="Record the question again, or pass another file.")
    pieces: list[np.ndarray] = []
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise AudioInputError(
                    f"{path} has no audio stream.", hint="Pass a WAV, FLAC, MP3 or OGG recording."
                )
            resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
            for frame in container.decode(audio=0):
                for out in resampler.resample(frame):
                    pieces.append(out.to_ndarray().reshape(-1))
            for out in resampler.resample(None):
                pieces.append(out.to_ndarray().reshape(-1))
    except AudioInputError:
        raise
    except (av.error.FFmpegError, ValueError, OSError) as err:
        raise AudioInputError(
            f"{path} is not an audio file Visage can read ({err.__class__.__name__}).",
            hint="Pass a WAV, FLAC, MP3 or OGG recording.",
        ) from None
    audio = np.concatenate(pieces).astype(np.float32) if pieces else np.zeros(0, np.float32)
    if audio.size == 0:
        raise AudioInputError(f"{path} holds no audio samples.", hint="Record the question again.")
    return audio


def write_wav(path: str | Path, pcm: np.ndarray, sample_rate: int) -> Path:
    """Write mono float32 audio as 16-bit PCM WAV, atomically (no half-written file on failure)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".part")
    data = (np.clip(pcm, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with wave.open(str(tmp), "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(sample_rate)
            wav.writeframes(data)
        tmp.replace(path)
    except OSError as err:
        with contextlib.suppress(OSError):  # the folder itself may be the problem
            tmp.unlink(missing_ok=True)
        raise StorageError(
            f"Cannot write {path}: {err.strerror or err}", hint="Choose another output path or free disk space."
        ) from None
    return path


class FileAudioSource:
    """Plays a file as if it were a microphone. ``realtime`` paces frames at the speed of speech."""

    def __init__(
        self,
        path: str | Path,
        *,
        sample_rate: int = ASR_RATE,
        realtime: bool = False,
        trailing_silence_s: float = 1.0,
    ) -> None:
        self.path = Path(path)
        self.sample_rate = sample_rate
        self.realtime = realtime
        audio = load_audio(self.path, sample_rate)
        self.audio = np.concatenate([audio, np.zeros(int(trailing_silence_s * sample_rate), np.float32)])
        self._closed = threading.Event()
        self.started_at: float | None = None  # monotonic time the first frame was read
        self.position = 0  # samples handed out so far

    @classmethod
    def from_array(cls, audio: np.ndarray, sample_rate: int = ASR_RATE, *, realtime: bool = False) -> FileAudioSource:
        source = cls.__new__(cls)
        source.path = Path("<memory>")
        source.sample_rate = sample_rate
        source.realtime = realtime
        source.audio = audio.astype(np.float32)
        source._closed = threading.Event()
        source.started_at = None
        source.position = 0
        return source

    def frames(self, frame_samples: int) -> Iterator[np.ndarray]:
        start = self.started_at = time.monotonic()
        for i in range(0, len(self.audio) - frame_samples + 1, frame_samples):
            if self._closed.is_set():
                return
            if self.realtime:
                due = start + (i + frame_samples) / self.sample_rate
                delay = due - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            self.position = i + frame_samples
            yield self.audio[i : i + frame_samples]

    def close(self) -> None:
        self._closed.set()


class FileAudioSink:
    """Collects played audio in memory and writes it to a WAV file.

    Without ``realtime`` its clock is simply the audio written (playback is instant). With
    ``realtime=True`` it behaves like a sound card from the first chunk on: the clock follows wall time,
    silence fills the gaps between chunks (and is kept in the recording), and ``stop()`` keeps only what
    was already heard. The benchmarks and the barge-in tests use that mode.
    """

    def __init__(self, *, realtime: bool = False) -> None:
        self.realtime = realtime
        self.sample_rate: int | None = None
        self._chunks: list[np.ndarray] = []
        self._queued_s = 0.0  # end of the recording, on the clock
        self._t0: float | None = None
        self._lock = threading.Lock()
        self.first_chunk_at: float | None = None

    def play(self, chunk: AudioChunk) -> None:
        with self._lock:
            if self.sample_rate is None:
                self.sample_rate = chunk.sample_rate
            elif chunk.sample_rate != self.sample_rate:
                raise ValueError("FileAudioSink needs one sample rate per stream")
            now = time.monotonic()
            if self.first_chunk_at is None:
                self.first_chunk_at = now
            if self._t0 is None:
                self._t0 = now
            if self.realtime and now - self._t0 > self._queued_s:  # the sink ran dry: silence was playing
                gap = int((now - self._t0 - self._queued_s) * self.sample_rate)
                self._chunks.append(np.zeros(gap, np.float32))
                self._queued_s += gap / self.sample_rate
            self._chunks.append(chunk.pcm.astype(np.float32))
            self._queued_s += chunk.duration

    def audible_time(self) -> float:
        with self._lock:
            if not self.realtime:
                return self._queued_s
            return 0.0 if self._t0 is None else time.monotonic() - self._t0

    def start_time(self) -> float:
        with self._lock:
            queued = self._queued_s
        return max(queued, self.audible_time())  # no device buffer: an idle sink starts a chunk at once

    def stop(self) -> None:
        with self._lock:
            if self.realtime and self._t0 is not None:
                heard = time.monotonic() - self._t0
                if heard < self._queued_s:
                    self._truncate(heard)

    def _truncate(self, seconds: float) -> None:
        keep = int(seconds * (self.sample_rate or 1))
        audio = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.float32)
        self._chunks = [audio[:keep]]
        self._queued_s = keep / float(self.sample_rate or 1)

    def drain(self, timeout: float | None = None) -> None:
        if not self.realtime:
            return
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.audible_time() < self._queued_s - 1e-3:  # the clock runs on: this ends
            if deadline is not None and time.monotonic() > deadline:
                return
            time.sleep(0.01)

    @property
    def audio(self) -> np.ndarray:
        with self._lock:
            return np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.float32)

    def save(self, path: str | Path) -> Path:
        return write_wav(path, self.audio, self.sample_rate or 22_050)

    def close(self) -> None:
        pass
