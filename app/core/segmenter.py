"""Cuts a stream of audio frames into utterances using a VAD's per-frame speech probability.

Pure logic (no threads, no engine): feed ``(frame, confidence)`` pairs, get ``Utterance`` boundaries.
Hysteresis: speech starts at ``threshold`` and only counts as silence below ``threshold - 0.15``.
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
class Utterance:
    audio: np.ndarray
    start_s: float
    end_s: float  # where speech ended (before the hang-over silence)
    hangover_s: float  # silence waited for before deciding the utterance was over


class Segmenter:
    def __init__(self, settings: VADSettings, sample_rate: int, frame_samples: int) -> None:
        self.settings = settings
        self.sample_rate = sample_rate
        self.frame_samples = frame_samples
        self.frame_s = frame_samples / sample_rate
        self._pad_frames = max(0, round(settings.speech_pad_ms / 1000 / self.frame_s))
        self._silence_frames_needed = max(1, round(settings.min_silence_ms / 1000 / self.frame_s))
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

    @property
    def in_speech(self) -> bool:
        return self._in_speech

    def push(self, frame: np.ndarray, confidence: float) -> SpeechStart | Utterance | None:
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
            self._silence_run = 0
            self._speech_frames += 1
        if self._silence_run >= self._silence_frames_needed:
            return self._finish()
        return self._maybe_started()

    def _maybe_started(self) -> SpeechStart | None:
        needed = min(self._barge_in_frames, self._min_speech_frames) if self.busy else self._min_speech_frames
        if not self._started_emitted and self._speech_frames >= needed:
            self._started_emitted = True
            return SpeechStart(offset_s=self._start_index * self.frame_s)
        return None

    def _finish(self) -> Utterance | None:
        speech_frames = self._speech_frames
        keep = len(self._speech) - self._silence_run + min(self._silence_run, self._pad_frames)
        audio = np.concatenate(self._speech[:keep]) if keep > 0 else np.zeros(0, np.float32)
        end_index = self._frame_index - self._silence_run
        start_s = self._start_index * self.frame_s
        hangover = self._silence_run * self.frame_s
        self._in_speech = False
        self._speech = []
        self._speech_frames = 0
        self._silence_run = 0
        if speech_frames < self._min_speech_frames:
            return None  # a click or a cough, not speech
        return Utterance(audio=audio, start_s=start_s, end_s=end_index * self.frame_s, hangover_s=hangover)

    def finish_stream(self) -> Utterance | None:
        """The input ended while the user was still speaking: close the utterance now."""
        if not self._in_speech:
            return None
        self._silence_run = min(self._silence_run, len(self._speech))
        return self._finish()
