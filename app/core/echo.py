"""Echo handling for laptop speakers: Visage must not answer (or barge in on) its own voice.

Two pieces, both Qt-free:

- :class:`TimelineSink` wraps the real sink. It places every chunk on the sink's audible clock (the master
  clock the avatar follows, see ARCHITECTURE.md) and keeps a copy of what it played, resampled to the
  microphone rate: the *echo reference*. ``on_play(chunk, offset_s)`` tells listeners (the avatar) where a
  chunk sits on that clock.
- :class:`EchoGate` cleans each microphone frame against that reference before the VAD sees it. While our
  own voice is within reach it runs an adaptive echo canceller (:mod:`app.core.aec`: a partitioned-block
  frequency-domain filter spanning ``lead_s + max_lag_s + tail_s``, so it models the delay and the room's
  reverberation) beside a one-tap match (the best single delayed copy), keeps the quieter output, and then
  applies a half-duplex gate as a safety net: the output only passes if it is louder than ``barge_ratio``
  times the canceller's estimate of the echo it left plus the noise floor (and ``min_barge_rms``);
  otherwise the frame becomes silence. As the filter learns the room, that estimate falls, so a softer
  voice gets through while we talk. When nothing is playing, frames pass untouched (full duplex). The
  filter is kept across replies (the room stays the same); ``reset()`` forgets it.

  Frames are placed on the reference by the clock's reading when it is exact, or by the microphone's own
  sample count when the clock is coarse (a sound card's clock moves in steps): whichever keeps the echo's
  delay steady (see ``EchoGate._probe``).

:class:`EchoGatedSource` wraps an :class:`~app.core.audio_io.AudioSource`: it yields the canceller's output,
and ``last_passed`` says whether the gate let the frame count as the user (``Pipeline.scored_frames`` gives the
VAD silence for a gated frame, so only the user starts a turn, while the audio kept before the start is real).
"""

from __future__ import annotations

import logging
import math
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from app.core.aec import AecSettings, EchoCanceller
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
        #: the echo path an :class:`EchoGate` learned on this sink's playback (the room stays the same)
        self.echo_canceller: EchoCanceller | None = None
        self._listeners: list[Callable[[AudioChunk, float], None]] = [on_play] if on_play else []

    def add_listener(self, listener: Callable[[AudioChunk, float], None]) -> None:
        self._listeners.append(listener)

    # ---- AudioSink ----
    def play(self, chunk: AudioChunk) -> None:
        ref = _resample_linear(chunk.pcm, chunk.sample_rate, self.ref_rate)
        begins = self.inner.start_time()
        with self._lock:
            offset = max(self._end, begins)
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

    def start_time(self) -> float:
        begins = self.inner.start_time()
        with self._lock:
            return max(self._end, begins)

    def audible_at(self, when: float) -> float | None:
        """The audible clock at monotonic time ``when``, if the device can say (a sound card with timestamps)."""
        exact = getattr(self.inner, "audible_at", None)
        return exact(when) if exact is not None else None

    def stop(self) -> None:
        """Stop playback. What the device already held still plays (its latency: on PulseAudio 50-150 ms
        after the audible time), so the reference keeps it: cutting at the audible time left the echo of
        those last frames with nothing to cancel it against."""
        self.inner.stop()
        played_until = self.inner.start_time()
        with self._lock:
            cut = round(played_until * self.ref_rate) - self._ref_start
            if 0 <= cut < len(self._ref):
                self._ref[cut:] = 0.0  # never played: no echo will come from it
            self._end = played_until

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
    #: longest speaker -> microphone delay covered (output + input latency + air), seconds
    max_lag_s: float = 0.25
    #: also cover this far *ahead* of the clock (a microphone clock that runs a little behind the speaker's)
    lead_s: float = 0.05
    #: reverberation the adaptive filter models beyond the longest delay, seconds
    tail_s: float = 0.25
    #: the output must be at least this many times the canceller's estimate of the echo it left plus the
    #: noise floor (RMS) to count as the user (half-duplex gate after the canceller)
    barge_ratio: float = 2.0
    #: and at least this loud (RMS, full scale 1.0) while Visage is speaking
    min_barge_rms: float = 0.003
    #: reference quieter than this (RMS) counts as "nothing playing": frames pass untouched
    silent_ref_rms: float = 1e-3
    #: the adaptive echo canceller (False: the one-tap canceller alone, as before it; kept for comparison)
    adaptive: bool = True
    #: with ``adaptive=False``: the output must be at least this share of the one-tap echo level
    one_tap_barge_ratio: float = 0.6
    #: a clock reading this far off the microphone's own timeline re-anchors it (a jump), seconds
    resync_s: float = 0.1
    #: the timeline moves to the clock's average reading once that is this far off (drift), seconds
    drift_s: float = 0.002
    #: between full searches, the one-tap match looks this far either side of the usual delay, seconds
    one_tap_near_s: float = 0.004
    #: playback the adaptive filter gets to learn the room before an unlearned filter stops gating (seconds)
    learn_s: float = 1.0
    #: until then, and without a learned room, a frame the one-tap match explains this share of is our echo
    explained_echo: float = 0.3
    #: ... unless it is this many times louder than our echo usually is: the coupling (microphone level over our
    #: voice's level) in the median recent playback frame
    louder_than_echo: float = 10.0
    #: the adaptive filter's own settings (step, double-talk detector)
    aec: AecSettings = field(default_factory=AecSettings)


@dataclass(frozen=True, slots=True)
class GateResult:
    frame: np.ndarray
    playing: bool
    echo_rms: float  # the echo estimate's level
    residual_rms: float  # after the canceller, before the gate
    passed: bool
    lag_s: float  # the echo path's strongest delay
    remaining_echo_rms: float = 0.0  # the canceller's estimate of the echo left in the residual
    double_talk: bool = False  # the canceller saw someone talking over our voice (adaptation frozen)
    converged: bool = False  # the adaptive filter has learned the room
    residual: np.ndarray | None = None  # the canceller's output before the gate (None: nothing playing)


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if len(x) else 0.0


def _explained(frame: np.ndarray, residual: np.ndarray | None) -> float:
    """The share of ``frame``'s energy that the one-tap match took out (0: none of it looks like our voice)."""
    total = float(np.dot(frame, frame))
    if residual is None or total <= 1e-12:
        return 0.0
    return max(0.0, 1.0 - float(np.dot(residual, residual)) / total)


def one_tap_cancel(frame: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """The one-tap canceller: the delay whose reference best matches ``frame`` (normalised cross-correlation),
    scaled and subtracted. ``ref`` holds ``len(frame) + span`` samples ending at the newest possible echo.
    Returns (residual, echo, k) where ``ref[k : k + len(frame)]`` is the matched copy."""
    n = len(frame)
    c = np.correlate(ref, frame, mode="valid").astype(np.float64)  # c[k] = <ref[k:k+n], frame>
    sq = np.concatenate([[0.0], np.cumsum(np.square(ref, dtype=np.float64))])
    e = sq[n:] - sq[:-n]
    score = np.where(e > 1e-9, c * c / np.maximum(e, 1e-9), 0.0)
    k = int(np.argmax(score))
    gain = float(c[k] / e[k]) if e[k] > 1e-9 else 0.0
    echo = (gain * ref[k : k + n]).astype(np.float32)
    return (frame - echo).astype(np.float32), echo, k


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
        self._taps = self._span + int(self.settings.tail_s * sample_rate)
        self.canceller: EchoCanceller | None = None  # built at the first frame (its block is the frame size)
        self._home: TimelineSink | None = None  # where the learned room is kept between gates (for_sink)
        #: the clock at a given monotonic time (a sound card's timestamps): frames are placed by when they were
        #: captured rather than when they reach the gate (the callback's queue adds a varying delay)
        self.clock_at: Callable[[float], float | None] | None = None
        self._next: float | None = None  # where the next frame should end on the audible clock
        self._drift = 0.0  # average of (clock reading - timeline), seconds
        self._frame_s = 0.0
        self._lag_s = 0.0
        self._lag_age = 0
        self.gated_frames = 0  # frames turned to silence because they were only our echo
        self.resyncs = 0  # times the microphone timeline was re-anchored to the clock (jumps)
        self.corrections = 0  # times it was moved to the clock's average reading (drift)
        self.switches = 0  # frames placed by the other of clock reading and timeline (it explained them better)
        self.use_timeline = False  # frames are placed by the microphone's timeline, not the clock's readings
        self._lags: deque[tuple[int, int]] = deque(maxlen=32)  # echo delays seen from (reading, timeline)
        self._frames = 0
        self._learned_s = 0.0  # seconds of our playback the gate has seen (the filter's learning time)
        #: microphone level over our voice's level, in recent frames where our voice was loud (the echo's coupling)
        self._coupling: deque[float] = deque(maxlen=256)

    @classmethod
    def for_sink(cls, sink: TimelineSink, settings: EchoGateSettings | None = None) -> EchoGate:
        """A gate on ``sink``'s clock and reference. The room it learns is kept on the sink, so the next gate
        for the same sink (hands-free turned off and on again) starts from it; one gate at a time per sink."""
        gate = cls(sink.audible_time, sink.reference, sample_rate=sink.ref_rate, settings=settings)
        gate._home = sink
        gate.clock_at = sink.audible_at
        return gate

    def reset(self) -> None:
        """Forget the learned room (another device or room); the timeline re-anchors at the next frame."""
        if self.canceller is not None:
            self.canceller.reset()
        self._next = None

    def process(self, frame: np.ndarray, at: float | None = None) -> GateResult:
        """Gate one frame that the microphone delivered at audible time ``at`` (default: now)."""
        frame = np.asarray(frame, dtype=np.float32)
        n = len(frame)
        when = self.clock() if at is None else at
        if not self.settings.adaptive:
            return self._one_tap(frame, when)
        if self.canceller is None or self.canceller.block != n:
            kept = self._home.echo_canceller if self._home is not None else None
            if kept is not None and kept.block == n and kept.partitions == -(-self._taps // n):
                self.canceller = kept
            else:
                self.canceller = EchoCanceller(self._taps, n, self.settings.aec)
                if self._home is not None:
                    self._home.echo_canceller = self.canceller
            self._frame_s = n / self.sample_rate
        aec = self.canceller
        smooth = self._timeline(when)
        first, other = (smooth, when) if self.use_timeline else (when, smooth)
        ref = self.reference(first + self._lead / self.sample_rate, aec.window)
        if _rms(ref) < self.settings.silent_ref_rms:  # nothing audible within the filter's reach
            return GateResult(frame, False, 0.0, _rms(frame), True, 0.0)
        matched = self._probe(frame, when, smooth)
        spectra = aec.spectra(ref)
        echo = aec.estimate(spectra)
        if aec.converged and round(abs(when - smooth) * self.sample_rate) >= 1:
            # once the filter knows the room, the other placement wins if it explains the frame much better
            ref2 = self.reference(other + self._lead / self.sample_rate, aec.window)
            spectra2 = aec.spectra(ref2)
            echo2 = aec.estimate(spectra2)
            if np.sum(np.square(frame - echo2)) < 0.5 * np.sum(np.square(frame - echo)):
                ref, spectra, echo = ref2, spectra2, echo2
                first = other
                self.switches += 1
        # the one-tap match runs beside the filter: where the echo is a plain delayed copy whose delay wobbles
        # from frame to frame by a few samples (a simulated room), it follows exactly what the filter cannot
        out = aec.process(ref, frame, spectra=spectra, echo=echo, alternative=matched)
        residual = out.residual
        residual_rms, remaining_rms = math.sqrt(out.residual_power), math.sqrt(out.remaining_echo_power)
        if out.converged:
            floor = math.sqrt(out.remaining_echo_power + out.noise_power)
            passed = residual_rms >= max(self.settings.min_barge_rms, self.settings.barge_ratio * floor)
        else:
            passed, untouched = self._unconverged_pass(frame, residual_rms, first, residual_rms >= max(
                self.settings.min_barge_rms,
                self.settings.barge_ratio * math.sqrt(out.remaining_echo_power + out.noise_power)))
            if untouched:
                # far louder than our echo ever is, and the filter has learned no echo: what it would take out is
                # its guess, fitted on the user's own voice. The microphone as it is (the canceller's output cost
                # the user's first words 6-7 dB of distortion on a sound server with no echo path)
                residual, residual_rms = frame, _rms(frame)
        if not passed:
            self.gated_frames += 1
        if log.isEnabledFor(logging.DEBUG) and self._frames % 8 == 0:
            log.debug("echo gate: frame %.3f rms, residual %.4f, explained %.2f, converged %s, erle %.1f dB, "
                      "lag %.3f s, passed %s, by %s", _rms(frame), residual_rms, _explained(frame, matched),
                      out.converged, aec.erle_db, self._lag_s, passed, "timeline" if self.use_timeline else "clock")
            log.debug("echo gate placement: clock %.3f, at %s", self.clock(), f"{at:.3f}" if at is not None else "-")
        self._lag_age -= 1
        if self._lag_age <= 0:  # the echo path's strongest tap, re-read every second or so
            peak = int(np.argmax(np.abs(aec.impulse_response())))
            self._lag_s = (peak - self._lead) / self.sample_rate
            self._lag_age = 32
        return GateResult(
            residual if passed else np.zeros(n, np.float32),
            True,
            math.sqrt(out.echo_power),
            residual_rms,
            passed,
            self._lag_s,
            remaining_rms,
            out.double_talk,
            out.converged,
            residual,
        )

    def _unconverged_pass(self, frame: np.ndarray, residual_rms: float, at: float,
                          cautious: bool) -> tuple[bool, bool]:
        """Whether a frame passes while the adaptive filter has not learned the room, and whether it is far
        louder than our echo (then it is best left untouched).

        The filter's estimate then counts all of the output as possible echo (``cautious``: nothing passes).
        That is right for the first ``learn_s`` of playback, while the filter learns a real room; but with no
        echo at all (headphones, a sound server's null sinks) the filter never converges, and gating on it
        dropped every word said over Visage. So after ``learn_s`` the one-tap match decides: a frame that a
        delayed copy of our voice mostly explains is echo; anything else is let through (a false interruption
        costs a sentence; a dropped question costs trust). It searches the whole delay span in every frame: a
        sound server's echo delay wanders (a PulseAudio loopback went from 75 to 157 ms).

        A one-tap copy found anywhere in a quarter second of our voice explains 30% of a frame of the user's
        voice now and then by chance, so a frame also passes when it is far louder than our echo has ever been:
        the microphone's level over our voice's (loudest frame within reach) in the median recent frame is the
        echo's usual coupling, and a frame ten times above it is not our echo. With no echo path the microphone
        is silent while we talk (the user rarely talks over most of a reply: that stops it), the coupling is the
        noise floor's, and every word the user says passes."""
        n = len(frame)
        self._learned_s += n / self.sample_rate
        wide = self.reference(at + self._lead / self.sample_rate, n + self._span)
        ours = max(_rms(wide[i : i + n]) for i in range(0, len(wide) - n + 1, n // 2))
        level = _rms(frame)
        if ours >= 10 * self.settings.silent_ref_rms:
            self._coupling.append(level / ours)
        if self._learned_s < self.settings.learn_s:
            return cautious, False
        if residual_rms < self.settings.min_barge_rms:
            return False, False
        coupling = float(np.median(self._coupling)) if len(self._coupling) >= 32 else math.inf
        if level > self.settings.louder_than_echo * coupling * ours:
            return True, True
        return _explained(frame, one_tap_cancel(frame, wide)[0]) < self.settings.explained_echo, False

    def _timeline(self, when: float) -> float:
        """Where this frame ends on the audible clock, on the microphone's own timeline.

        Consecutive frames are consecutive samples. The clock's reading is noisy (a sound card's clock moves
        in steps of its callback block; the frame waited in a queue), so it only moves the timeline when its
        average strays more than ``drift_s`` (two clocks drifting apart), or at once after a jump of more
        than ``resync_s``."""
        n_s = self._frame_s
        if self._next is None or abs(when - self._next) > self.settings.resync_s:
            if self._next is not None:
                self.resyncs += 1
            self._next, self._drift = when, 0.0
            self._lags.clear()
        self._drift += 0.05 * ((when - self._next) - self._drift)
        if abs(self._drift) > self.settings.drift_s:
            moved = round(self._drift * self.sample_rate)
            self._next += moved / self.sample_rate
            self._drift = 0.0
            self.corrections += 1
            if self.use_timeline and self.canceller is not None:
                self.canceller.shift(moved)  # the window ends later by as much: the echo sits further back in it
        end = self._next
        self._next = end + n_s
        return end

    def _probe(self, frame: np.ndarray, when: float, smooth: float) -> np.ndarray | None:
        """The one-tap match for this frame, and with it which timing places the frames.

        A frame goes where the clock says it was delivered if the clock is exact (a source may even skip or
        repeat audio, as a simulated microphone does); on the microphone's own timeline if the clock is coarse
        (a sound card's moves in steps of its callback block, frames wait in a queue). The one-tap match gives
        the echo's delay in each frame that our echo dominates; its spread over recent frames, measured from
        either timing, shows which one the audio follows. The match searches the whole span every 16th
        frame (and until the delay is known), otherwise only near the usual delay. Returns the match's output
        (None: nothing playing within reach)."""
        n = len(frame)
        self._frames += 1
        near = round(self.settings.one_tap_near_s * self.sample_rate)
        if len(self._lags) >= 8 and self._frames % 16:
            usual = int(np.median([raw for raw, _ in self._lags]))
            ref = self.reference(when + (near - usual) / self.sample_rate, n + 2 * near)
            return one_tap_cancel(frame, ref)[0] if _rms(ref) >= self.settings.silent_ref_rms else None
        ref = self.reference(when + self._lead / self.sample_rate, n + self._span)
        if _rms(ref) < self.settings.silent_ref_rms:
            return None
        residual, echo, k = one_tap_cancel(frame, ref)
        if float(np.dot(echo, echo)) < 0.2 * float(np.dot(frame, frame)):
            return residual  # our echo explains too little of this frame to date it
        lag = len(ref) - n - k - self._lead  # samples before the clock's reading
        self._lags.append((lag, lag + round((smooth - when) * self.sample_rate)))
        if len(self._lags) >= 8:
            lags = np.array(self._lags, dtype=np.float64)
            spread = np.median(np.abs(lags - np.median(lags, axis=0)), axis=0)  # (clock, timeline), samples
            if self.use_timeline and spread[0] + 1.0 < spread[1]:
                self.use_timeline = False
            elif not self.use_timeline and spread[1] + 1.0 < spread[0]:
                self.use_timeline = True
        return residual

    def _one_tap(self, frame: np.ndarray, when: float) -> GateResult:
        n = len(frame)
        ref = self.reference(when + self._lead / self.sample_rate, n + self._span)
        if _rms(ref) < self.settings.silent_ref_rms:
            return GateResult(frame, False, 0.0, _rms(frame), True, 0.0)
        residual, echo, k = one_tap_cancel(frame, ref)
        echo_rms, residual_rms = _rms(echo), _rms(residual)
        threshold = max(self.settings.min_barge_rms, self.settings.one_tap_barge_ratio * echo_rms)
        passed = residual_rms >= threshold
        if not passed:
            self.gated_frames += 1
        lag_s = (len(ref) - n - k - self._lead) / self.sample_rate
        out = residual if passed else np.zeros(n, np.float32)
        return GateResult(out, True, echo_rms, residual_rms, passed, lag_s, echo_rms, residual=residual)


class EchoGatedSource:
    """An :class:`AudioSource` whose frames went through an :class:`EchoGate`."""

    def __init__(self, source: AudioSource, gate: EchoGate) -> None:
        self.source = source
        self.gate = gate
        self.sample_rate = source.sample_rate
        self.on_level: Callable[[float], None] | None = None  # microphone level meter (RMS), any thread
        #: whether the frame just yielded counts as the user (False: only our echo; the VAD hears silence)
        self.last_passed = True

    def frames(self, frame_samples: int) -> Iterator[np.ndarray]:
        for frame in self.source.frames(frame_samples):
            if self.on_level is not None:
                self.on_level(_rms(frame))
            captured = getattr(self.source, "frame_end", None)  # a microphone that knows when it heard it
            at = self.gate.clock_at(captured) if captured is not None and self.gate.clock_at else None
            result = self.gate.process(frame, at)
            self.last_passed = result.passed
            # the canceller's output, also for a gated frame: the VAD is told it is silence (``last_passed``), but
            # the words kept before speech starts are the real ones (a gated onset lost the question's first word)
            yield result.residual if result.residual is not None else result.frame

    def close(self) -> None:
        self.source.close()
