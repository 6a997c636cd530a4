"""Echo handling for laptop speakers: Visage must not answer (or barge in on) its own voice.

Two pieces, both Qt-free:

- :class:`TimelineSink` wraps the real sink. It places every chunk on the sink's audible clock (the master
  clock the avatar follows, see ARCHITECTURE.md) and keeps a copy of what it played, resampled to the
  microphone rate: the *echo reference*. ``on_play(chunk, offset_s)`` tells listeners (the avatar) where a
  chunk sits on that clock.
- :class:`EchoGate` cleans each microphone frame against that reference before the VAD sees it. While our
  own voice is audible it searches the reference for the best-matching delay (normalised cross-correlation
  over ``max_lag_s``), subtracts the scaled reference (a one-tap echo canceller) and then applies a
  half-duplex gate: the residual only passes if it is louder than ``barge_ratio`` times the echo level
  (and ``min_barge_rms``); otherwise the frame becomes silence. When nothing is playing, frames pass
  untouched (full duplex).

:class:`EchoGatedSource` wraps an :class:`~app.core.audio_io.AudioSource` so ``Pipeline.listen`` sees
gated frames with no change to the pipeline.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from app.core.audio_io import ASR_RATE, AudioSink, AudioSource
from engines.base import AudioChunk

log = logging.getLogger(__name__)


def _resample_linear(pcm: np.ndarray, rate_from: int, rate_to: int) -> np.ndarray:
    """Cheap linear resampling; good enough for an echo reference (speech band, then correlation)."""
    pcm = np.asarray(pcm, dtype=np.float32).reshape(-1)
    if rate_from == rate_to or pcm.size == 0:
        return pcm.copy()
    n_out = round(len(pcm) * rate_to / rate_from)
    x = np.arange(n_out, dtype=np.float64) * (rate_from / rate_to)
    return np.interp(x, np.arange(len(pcm)), pcm).astype(np.float32)


class TimelineSink:
    """An :class:`AudioSink` wrapper that records what was played on the sink's audible clock."""

    def __init__(
        self,
        inner: AudioSink,
        *,
        ref_rate: int = ASR_RATE,
        keep_s: float = 30.0,
        on_play: Callable[[AudioChunk, float], None] | None = None,
    ) -> None:
        self.inner = inner
        self.ref_rate = ref_rate
        self._keep = int(keep_s * ref_rate)
        self._ref = np.zeros(0, np.float32)
        self._ref_start = 0  # timeline sample index of self._ref[0]
        self._end = 0.0  # where the next chunk goes on the audible clock (seconds)
        self._lock = threading.Lock()
        self._listeners: list[Callable[[AudioChunk, float], None]] = [on_play] if on_play else []

    def add_listener(self, listener: Callable[[AudioChunk, float], None]) -> None:
        self._listeners.append(listener)

    # ---- AudioSink ----
    def play(self, chunk: AudioChunk) -> None:
        ref = _resample_linear(chunk.pcm, chunk.sample_rate, self.ref_rate)
        with self._lock:
            offset = max(self._end, self.inner.audible_time())
            self._end = offset + chunk.duration
            self._write(round(offset * self.ref_rate), ref)
        self.inner.play(chunk)
        for listener in self._listeners:
            try:
                listener(chunk, offset)
            except Exception:
                log.exception("on_play listener failed")

    def audible_time(self) -> float:
        return self.inner.audible_time()

    def stop(self) -> None:
        self.inner.stop()
        with self._lock:
            heard = self.inner.audible_time()
            cut = round(heard * self.ref_rate) - self._ref_start
            if 0 <= cut < len(self._ref):
                self._ref[cut:] = 0.0  # never played: no echo will come from it
            self._end = heard

    def drain(self, timeout: float | None = None) -> None:
        self.inner.drain(timeout)

    def close(self) -> None:
        self.inner.close()

    # ---- the timeline ----
    @property
    def end_time(self) -> float:
        """Where the audio queued so far ends on the audible clock."""
        with self._lock:
            return self._end

    def pending_s(self) -> float:
        """Seconds of queued audio the listener has not heard yet (0 when silent)."""
        return max(0.0, self.end_time - self.audible_time())

    def reference(self, until_s: float, n: int) -> np.ndarray:
        """The ``n`` reference samples that ended at ``until_s`` on the audible clock (zeros where silent)."""
        end = round(until_s * self.ref_rate)
        start = end - n
        out = np.zeros(n, np.float32)
        with self._lock:
            lo = max(start, self._ref_start)
            hi = min(end, self._ref_start + len(self._ref))
            if hi > lo:
                out[lo - start : hi - start] = self._ref[lo - self._ref_start : hi - self._ref_start]
        return out

    def _write(self, at: int, pcm: np.ndarray) -> None:
        if not len(self._ref):
            self._ref_start = at
        stop = at + len(pcm) - self._ref_start
        if stop > len(self._ref):
            self._ref = np.concatenate([self._ref, np.zeros(stop - len(self._ref), np.float32)])
        begin = at - self._ref_start
        if begin < 0:  # written before the kept window: keep only the part inside it
            pcm = pcm[-begin:]
            begin = 0
        self._ref[begin : begin + len(pcm)] = pcm
        if len(self._ref) > self._keep:
            drop = len(self._ref) - self._keep
            self._ref = self._ref[drop:].copy()
            self._ref_start += drop


@dataclass(frozen=True, slots=True)
class EchoGateSettings:
    #: longest speaker -> microphone delay searched (output + input latency + air), seconds
    max_lag_s: float = 0.25
    #: also search this far *ahead* of the clock (a microphone clock that runs a little behind the speaker's)
    lead_s: float = 0.05
    #: the residual must be at least this share of the echo level to count as the user (half-duplex gate)
    barge_ratio: float = 0.6
    #: and at least this loud (RMS, full scale 1.0) while Visage is speaking
    min_barge_rms: float = 0.01
    #: reference quieter than this (RMS) counts as "nothing playing": frames pass untouched
    silent_ref_rms: float = 1e-3


@dataclass(frozen=True, slots=True)
class GateResult:
    frame: np.ndarray
    playing: bool
    echo_rms: float
    residual_rms: float
    passed: bool
    lag_s: float


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if len(x) else 0.0


class EchoGate:
    """Removes our own playback from microphone frames (see the module docstring)."""

    def __init__(
        self,
        clock: Callable[[], float],
        reference: Callable[[float, int], np.ndarray],
        *,
        sample_rate: int = ASR_RATE,
        settings: EchoGateSettings | None = None,
    ) -> None:
        self.clock = clock
        self.reference = reference
        self.sample_rate = sample_rate
        self.settings = settings or EchoGateSettings()
        self._lead = int(self.settings.lead_s * sample_rate)
        self._span = int(self.settings.max_lag_s * sample_rate) + self._lead
        self.gated_frames = 0  # frames turned to silence because they were only our echo

    @classmethod
    def for_sink(cls, sink: TimelineSink, settings: EchoGateSettings | None = None) -> EchoGate:
        return cls(sink.audible_time, sink.reference, sample_rate=sink.ref_rate, settings=settings)

    def process(self, frame: np.ndarray, at: float | None = None) -> GateResult:
        """Gate one frame that the microphone delivered at audible time ``at`` (default: now)."""
        frame = np.asarray(frame, dtype=np.float32)
        n = len(frame)
        when = self.clock() if at is None else at
        ref = self.reference(when + self._lead / self.sample_rate, n + self._span)
        if _rms(ref) < self.settings.silent_ref_rms:
            return GateResult(frame, False, 0.0, _rms(frame), True, 0.0)
        # c[k] = <ref[k:k+n], frame>; e[k] = |ref[k:k+n]|^2; k = 0 is the oldest (largest delay)
        c = np.correlate(ref, frame, mode="valid").astype(np.float64)
        sq = np.concatenate([[0.0], np.cumsum(np.square(ref, dtype=np.float64))])
        e = sq[n:] - sq[:-n]
        score = np.where(e > 1e-9, c * c / np.maximum(e, 1e-9), 0.0)
        k = int(np.argmax(score))
        gain = float(c[k] / e[k]) if e[k] > 1e-9 else 0.0
        echo = gain * ref[k : k + n]
        residual = (frame - echo).astype(np.float32)
        echo_rms, residual_rms = _rms(echo), _rms(residual)
        threshold = max(self.settings.min_barge_rms, self.settings.barge_ratio * echo_rms)
        passed = residual_rms >= threshold
        if not passed:
            self.gated_frames += 1
        lag_s = (len(ref) - n - k - self._lead) / self.sample_rate
        out = residual if passed else np.zeros(n, np.float32)
        return GateResult(out, True, echo_rms, residual_rms, passed, lag_s)


class EchoGatedSource:
    """An :class:`AudioSource` whose frames went through an :class:`EchoGate`."""

    def __init__(self, source: AudioSource, gate: EchoGate) -> None:
        self.source = source
        self.gate = gate
        self.sample_rate = source.sample_rate
        self.on_level: Callable[[float], None] | None = None  # microphone level meter (RMS), any thread

    def frames(self, frame_samples: int) -> Iterator[np.ndarray]:
        for frame in self.source.frames(frame_samples):
            if self.on_level is not None:
                self.on_level(_rms(frame))
            yield self.gate.process(frame).frame

    def close(self) -> None:
        self.source.close()
