"""Phoneme timings from espeak-ng's own C library: the lip-sync fallback for voices without alignments.

espeak-ng reports a phoneme event (IPA symbol, position in ms) for everything it would say. Its timing
is espeak's, not the voice's, so :func:`fit_to_audio` stretches the phoneme span onto the part of the
chunk that actually has speech in it. Coarser than Piper's own alignments, far better than loudness.
The library comes with Debian's ``espeak-ng`` package (``libespeak-ng1``), which setup installs.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import threading
from collections.abc import Sequence

import numpy as np

from engines.base import PhonemeTiming
from engines.errors import DependencyError

log = logging.getLogger(__name__)

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INIT_PHONEME_EVENTS = 0x0001
_INIT_PHONEME_IPA = 0x0002
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_EVENT_LIST_TERMINATED = 0
_EVENT_PHONEME = 7


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):  # espeak_EVENT in speak_lib.h
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),  # ms from the start of the text
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


_Callback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))


class EspeakTimer:
    """Phoneme events from libespeak-ng. The library has global state: one lock guards every call."""

    _lock = threading.Lock()
    _lib: ctypes.CDLL | None = None
    _rate = 0

    def __init__(self, voice: str = "en-us") -> None:
        self.voice = voice
        with self._lock:
            if EspeakTimer._lib is None:
                EspeakTimer._lib, EspeakTimer._rate = self._load()
        self._events: list[tuple[str, int]] = []
        self._samples = 0
        self._callback = _Callback(self._on_audio)  # keep a reference: C holds only the pointer

    @staticmethod
    def _load() -> tuple[ctypes.CDLL, int]:
        name = ctypes.util.find_library("espeak-ng")
        if name is None:
            raise DependencyError(
                "The espeak-ng library is not installed, so voices without alignments lip-sync by loudness only.",
                hint="Install it with `sudo apt-get install espeak-ng`, or run `visage setup-models` to patch "
                "the Piper voice for precise timings.",
            )
        lib = ctypes.CDLL(name)
        rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, None, _INIT_PHONEME_EVENTS | _INIT_PHONEME_IPA)
        if rate <= 0:
            raise DependencyError("espeak-ng could not start (its data files are missing).",
                                  hint="Reinstall it with `sudo apt-get install --reinstall espeak-ng-data`.")
        return lib, rate

    def _on_audio(self, wav: object, n: int, events: ctypes.Array[_Event]) -> int:
        self._samples += n
        i = 0
        while events[i].type != _EVENT_LIST_TERMINATED:
            event = events[i]
            if event.type == _EVENT_PHONEME:
                self._events.append((event.id.string.decode("utf-8", "replace"), event.audio_position))
            i += 1
        return 0

    def timings(self, text: str) -> list[PhonemeTiming]:
        """Phonemes espeak-ng would say for ``text``, on espeak's own clock (seconds)."""
        data = text.encode("utf-8")
        with self._lock:
            lib = EspeakTimer._lib
            assert lib is not None
            self._events, self._samples = [], 0
            lib.espeak_SetSynthCallback(self._callback)
            lib.espeak_SetVoiceByName(self.voice.encode())
            lib.espeak_Synth(data, len(data) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
            lib.espeak_Synchronize()
            events, total = list(self._events), self._samples / EspeakTimer._rate
        out: list[PhonemeTiming] = []
        for k, (symbol, ms) in enumerate(events):
            if not symbol:
                continue
            end = events[k + 1][1] / 1000 if k + 1 < len(events) else total
            start = ms / 1000
            if end > start:
                out.append(PhonemeTiming(symbol, start, end - start))
        return out


def speech_span(pcm: np.ndarray, sample_rate: int, *, floor: float = 0.02) -> tuple[float, float]:
    """Where speech starts and ends in ``pcm`` (seconds), by a 10 ms RMS envelope over ``floor`` × peak."""
    hop = max(1, sample_rate // 100)
    n = len(pcm) // hop
    if n == 0:
        return 0.0, len(pcm) / sample_rate
    rms = np.sqrt(np.mean(np.square(pcm[: n * hop].reshape(n, hop), dtype=np.float64), axis=1))
    loud = np.flatnonzero(rms > floor * max(float(rms.max()), 1e-9))
    if not len(loud):
        return 0.0, len(pcm) / sample_rate
    return float(loud[0] * hop / sample_rate), float((loud[-1] + 1) * hop / sample_rate)


def fit_to_audio(timings: Sequence[PhonemeTiming], pcm: np.ndarray, sample_rate: int) -> tuple[PhonemeTiming, ...]:
    """Stretch espeak's phoneme span linearly onto the speech found in ``pcm``."""
    if not timings:
        return ()
    first, last = timings[0].start, timings[-1].start + timings[-1].duration
    start, end = speech_span(pcm, sample_rate)
    scale = (end - start) / max(last - first, 1e-6)
    return tuple(PhonemeTiming(t.phoneme, start + (t.start - first) * scale, t.duration * scale) for t in timings)
