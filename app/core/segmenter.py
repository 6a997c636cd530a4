"""Cuts a stream of audio frames into utterances using a VAD's per-frame speech probability.

Pure logic (no threads, no engine): feed ``(frame, confidence)`` pairs, get ``Utterance`` boundaries.
Hysteresis: speech starts at ``threshold`` and only counts as silence below ``threshold - 0.15``.

With ``emit_pauses``, the first ``pause_ms`` of silence inside an utterance yield a :class:`Pause` (the
speech so far: a possible end of turn, which the pipeline checks with its end-of-turn model and may start
answering speculatively), and speech that comes back after it yields :class:`Resumed`. How much silence
then ends the utterance is the caller's decision (:meth:`Segmenter.set_hangover`): short when the
user's sentence is complete, long when it is not; without a decision it is ``min_silence_ms``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from app.core.config import VADSettings


@dataclass(frozen=True, slots=True)
class SpeechStart:
    offset_s: float


@dataclass(frozen=True, slots=True)
class Pause:
    """Silence began inside an utterance: ``audio`` is the speech so far (with its padding)."""

    audio: np.ndarray
    start_s: float
    end_s: float  # where speech stopped


@dataclass(frozen=True, slots=True)
class Resumed:
    """Speech came back after a :class:`Pause`: the utterance goes on."""

    offset_s: float


@dataclass(frozen=True, slots=True)
class Utterance:
    audio: np.ndarray
    start_s: float
    end_s: float  # where speech ended (before the hang-over silence)
    hangover_s: float  # silence waited for before deciding the utterance was over


class Segmenter:
    def __init__(
        self, settings: VADSettings, sample_rate: int, frame_samples: int, *, emit_pauses: bool = False
    ) -> None:
        self.settings = settings
        self.emit_pauses = emit_pauses
        self.sample_rate = sample_rate
        self.frame_samples = frame_samples
        self.frame_s = frame_samples / sample_rate
        self._pad_frames = max(0, round(settings.speech_pad_ms / 1000 / self.frame_s))
        self._default_silence_frames = max(1, round(settings.min_silence_ms / 1000 / self.frame_s))
        self._silence_frames_needed = self._default_silence_frames
        self._pause_frames = max(1, round(settings.pause_ms / 1000 / self.frame_s))
        self._min_speech_frames = max(1, round(settings.min_speech_ms / 1000 / self.frame_s))
        self._barge_in_frames = max(1, round(settings.barge_in_ms / 1000 / self.frame_s))
        #: set while Visage is talking: speech starts count after ``barge_in_ms`` instead of ``min_speech_ms``,
        #: so an interruption stops playback quickly (the utterance still needs ``min_speech_ms`` to be a turn).
        self.busy = False
        self._off_threshold = max(0.01, settings.threshold - 0.15)
        self.reset()

    def reset(self) -> None:
        self._pre: deque[np.ndarray] = deque(maxlen=self._pad_frames or 1)
        self._speech: list[np.ndarray] = []
        self._in_speech = False
        self._started_emitted = False
        self._speech_frames = 0
        self._silence_run = 0
        self._frame_index = 0
        self._start_index = 0
        self._paused = False
        self._silence_frames_needed = self._default_silence_frames

    @property
    def in_speech(self) -> bool:
        return self._in_speech

    @property
    def speech_s(self) -> float:
        """How much speech (frames above the threshold) the current utterance holds so far."""
        return self._speech_frames * self.frame_s if self._in_speech else 0.0

    @property
    def silence_s(self) -> float:
        """How long the current silence inside an utterance has lasted."""
        return self._silence_run * self.frame_s if self._in_speech else 0.0

    def set_hangover(self, ms: float) -> None:
        """How much silence ends the current utterance (the end-of-turn decision); reset by each utterance."""
        self._silence_frames_needed = max(1, round(ms / 1000 / self.frame_s))

    def push(self, frame: np.ndarray, confidence: float) -> SpeechStart | Pause | Resumed | Utterance | None:
        index = self._frame_index
        self._frame_index += 1
        if not self._in_speech:
            if confidence >= self.settings.threshold:
                self._in_speech = True
                self._start_index = index
                self._speech = [*(self._pre if self._pad_frames else ()), frame]
                self._speech_frames = 1
                self._silence_run = 0
                self._started_emitted = False
                self._pre.clear()
                return self._maybe_started()
            if self._pad_frames:
                self._pre.append(frame)
            return None

        self._speech.append(frame)
        if confidence < self._off_threshold:
            self._silence_run += 1
        else:
            resumed = self._paused
            self._silence_run = 0
            self._speech_frames += 1
            if resumed:
                self._paused = False
                self._silence_frames_needed = self._default_silence_frames
                return Resumed(offset_s=index * self.frame_s)
        if self._silence_run >= self._silence_frames_needed:
            return self._finish()
        if (
            self.emit_pauses
            and not self._paused
            and self._silence_run == self._pause_frames
            and self._speech_frames >= self._min_speech_frames
        ):
            self._paused = True
            return self._pause()
        return self._maybe_started()

    def _kept_audio(self) -> np.ndarray:
        keep = len(self._speech) - self._silence_run + min(self._silence_run, self._pad_frames)
        return np.concatenate(self._speech[:keep]) if keep > 0 else np.zeros(0, np.float32)

    def _pause(self) -> Pause:
        end_index = self._frame_index - self._silence_run
        return Pause(audio=self._kept_audio(), start_s=self._start_index * self.frame_s,
                     end_s=end_index * self.frame_s)

    def _maybe_started(self) -> SpeechStart | None:
        needed = min(self._barge_in_frames, self._min_speech_frames) if self.busy else self._min_speech_frames
        if not self._started_emitted and self._speech_frames >= needed:
            self._started_emitted = True
            return SpeechStart(offset_s=self._start_index * self.frame_s)
        return None

    def _finish(self) -> Utterance | None:
        speech_frames = self._speech_frames
        audio = self._kept_audio()
        end_index = self._frame_index - self._silence_run
        start_s = self._start_index * self.frame_s
        hangover = self._silence_run * self.frame_s
        self._in_speech = False
        self._speech = []
        self._speech_frames = 0
        self._silence_run = 0
        self._paused = False
        self._silence_frames_needed = self._default_silence_frames
        if speech_frames < self._min_speech_frames:
            return None  # a click or a cough, not speech
        return Utterance(audio=audio, start_s=start_s, end_s=end_index * self.frame_s, hangover_s=hangover)

    def finish_stream(self) -> Utterance | None:
        """The input ended while the user was still speaking: close the utterance now."""
        if not self._in_speech:
            return None
        self._silence_run = min(self._silence_run, len(self._speech))
        return self._finish()
