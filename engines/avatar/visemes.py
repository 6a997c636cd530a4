"""Viseme track: phoneme timings (or, as a last resort, audio energy) -> mouth parameters over time.

Phonemes are mapped to Rhubarb-style mouth shapes A–H plus X (rest), each shape has target
:class:`MouthParams`, and the track eases between neighbouring shapes so the mouth moves smoothly,
while every bilabial closure (p, b, m) is held fully closed at its middle.

Phoneme -> shape table (IPA as produced by Piper / espeak-ng; stress and length marks removed first):

=====  =================================  ==========================================================
shape  look                               phonemes
=====  =================================  ==========================================================
A      lips pressed shut                  p b m (+ ɓ β ɸ ʙ)
B      slightly open, clenched teeth      t d k g ɡ n ŋ s z ʃ ʒ tʃ dʒ θ ð j ç x ɾ, EE: i iː ɪ ᵻ (+ ɨ ɯ ɘ ɤ)
C      open (eh, ae, schwa)               ɛ e eɪ æ ə ɐ ε
D      wide open (aa, ah)                 ɑ ɑː a aɪ aʊ ʌ
E      slightly rounded (ao, er)          ɔ ɔː ɔɪ ɒ ɜ ɜː ɚ ɝ ɹ r ɻ ɽ (+ œ ɞ ɶ)
F      puckered (uw, ow, w)               u uː ʊ o oʊ w ʍ (+ y ø ʏ ʉ ɵ ɥ ɰ)
G      upper teeth on lower lip           f v (+ ʋ ⱱ ɱ)
H      tongue up behind the teeth         l ɫ (+ ʎ ɭ ɬ ɮ ʟ ɺ)
X      rest / silence                     "" " " "_" "^" "$" "#" and punctuation . , ! ? ; : — …
=====  =================================  ==========================================================

``h`` and ``ʔ`` take the shape of the phoneme that follows them (the mouth is already shaped for the
vowel while the breath or glottal stop is heard). Stress marks ``ˈ ˌ`` are merged into the phoneme
that follows them, length marks ``ː ˑ`` and modifiers ``ʰ ʲ ʷ ˞ ˤ`` (and combining diacritics) into the
one before (Piper gives them their own durations). Any other consonant not listed draws as B.
A multi-character symbol not in the table uses its first character (``"oʊ"`` -> ``"o"`` -> F);
anything still unknown is treated as a generic consonant (B) and logged once at DEBUG.

Timing model: each segment ``[s, e)`` holds its target for ``[s + h, e - h]`` with
``h = min(COARTICULATION_S / 2, (e - s) / 2)``; between two holds the parameters ease (smoothstep)
from one target to the next. Hence transitions last ``COARTICULATION_S`` (50 ms) between ordinary
phonemes, less around very short ones, and every segment reaches its target at its middle. Bilabial
closures shorter than ``MIN_CLOSURE_S`` are widened symmetrically (taking time from their neighbours)
so a 30 fps video never skips a closed mouth on p/b/m.

Sampling is ``O(log n)`` (``bisect`` over keyframe times); :meth:`VisemeTrack.sample_many` is the
vectorised form for whole clips.
"""

from __future__ import annotations

import bisect
import logging
import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from engines.avatar.errors import LipSyncInputError
from engines.base import AudioChunk, PhonemeTiming

logger = logging.getLogger(__name__)

Shape = Literal["A", "B", "C", "D", "E", "F", "G", "H", "X"]
TrackSource = Literal["phonemes", "energy", "mixed", "empty"]

#: total duration of a transition between two ordinary phonemes (seconds)
COARTICULATION_S = 0.050
#: shortest time a p/b/m closure is held (seconds); shorter ones borrow time from their neighbours
MIN_CLOSURE_S = 0.050
#: how far a chunk may start before the end of the previous one (timing rounding) before it is refused
MAX_OVERLAP_S = 0.050
#: hop of the energy envelope (seconds)
ENERGY_HOP_S = 0.010


@dataclass(frozen=True, slots=True)
class MouthParams:
    """Continuous mouth pose, every field in ``[0, 1]``.

    ``open``: jaw/lip opening; ``width``: mouth corners apart (0.5 = neutral); ``round``: lips rounded
    and pushed forward; ``teeth``: how much of the teeth shows; ``press``: lips pressed together.
    """

    open: float = 0.0
    width: float = 0.5
    round: float = 0.0
    teeth: float = 0.0
    press: float = 0.0

    def as_tuple(self) -> tuple[float, float, float, float, float]:
        return (self.open, self.width, self.round, self.teeth, self.press)


#: target pose of every shape: (open, width, round, teeth, press)
SHAPE_PARAMS: dict[str, MouthParams] = {
    "X": MouthParams(0.00, 0.50, 0.00, 0.00, 0.25),
    "A": MouthParams(0.00, 0.48, 0.00, 0.00, 1.00),
    "B": MouthParams(0.14, 0.62, 0.00, 0.90, 0.00),
    "C": MouthParams(0.50, 0.60, 0.00, 0.45, 0.00),
    "D": MouthParams(0.92, 0.55, 0.00, 0.35, 0.00),
    "E": MouthParams(0.45, 0.38, 0.50, 0.15, 0.00),
    "F": MouthParams(0.22, 0.18, 1.00, 0.00, 0.00),
    "G": MouthParams(0.10, 0.55, 0.00, 1.00, 0.35),
    "H": MouthParams(0.48, 0.55, 0.00, 0.60, 0.00),
}
REST = SHAPE_PARAMS["X"]
CLOSED = SHAPE_PARAMS["A"]

_SHAPE_CODES: tuple[str, ...] = ("X", "A", "B", "C", "D", "E", "F", "G", "H")
_SHAPE_INDEX = {s: i for i, s in enumerate(_SHAPE_CODES)}
_SHAPE_VALUES = np.array([SHAPE_PARAMS[s].as_tuple() for s in _SHAPE_CODES], dtype=np.float64)

_TABLE: dict[str, str] = {}
for _shape, _symbols in {
    "A": "p b m ɓ β ɸ ʙ",
    "B": "t d k g ɡ n ŋ s z ʃ ʒ tʃ dʒ θ ð j ç x ɾ i iː ɪ ᵻ ɨ ɯ ɘ ɤ",
    "C": "ɛ e eɪ æ ə ɐ ε",
    "D": "ɑ ɑː a aɪ aʊ ʌ",
    "E": "ɔ ɔː ɔɪ ɒ ɜ ɜː ɚ ɝ ɹ r ɻ ɽ œ ɞ ɶ",
    "F": "u uː ʊ o oʊ w ʍ y ø ʏ ʉ ɵ ɥ ɰ",
    "G": "f v ʋ ⱱ ɱ",
    "H": "l ɫ ʎ ɭ ɬ ɮ ʟ ɺ",
}.items():
    for _sym in _symbols.split():
        _TABLE[_sym] = _shape

SILENCE_SYMBOLS = frozenset({"", " ", "_", "^", "$", "#", ".", ",", "!", "?", ";", ":", "—", "-", "…", "|"})
PREFIX_MARKS = frozenset({"ˈ", "ˌ"})
SUFFIX_MARKS = frozenset({"ː", "ˑ", "ʰ", "ʲ", "ʷ", "˞", "ˤ"})
INHERIT_NEXT = frozenset({"h", "ʔ", "ɦ"})
_STRIP = "ˈˌːˑʰʲʷ˞ˤ"

_unknown_logged: set[str] = set()

# segment kinds used while building
_MARK_PREFIX = "<"
_MARK_SUFFIX = ">"
_INHERIT = "^"


def phoneme_shape(symbol: str) -> Shape:
    """Mouth shape (A–H, X) of one IPA phoneme symbol. Marks alone count as silence here."""
    kind = _classify(symbol)
    if kind in (_MARK_PREFIX, _MARK_SUFFIX):
        return "X"
    if kind == _INHERIT:
        return "B"
    return kind  # type: ignore[return-value]


def _classify(symbol: str) -> str:
    if symbol in SILENCE_SYMBOLS or symbol.isspace():
        return "X"
    if symbol in PREFIX_MARKS:
        return _MARK_PREFIX
    if symbol in SUFFIX_MARKS:
        return _MARK_SUFFIX
    decomposed = unicodedata.normalize("NFD", symbol)  # "ẽ" -> "e" + combining tilde
    core = "".join(c for c in decomposed if c not in _STRIP and not unicodedata.combining(c))
    if not core:
        # only diacritics / marks: belongs to the phoneme before it
        return _MARK_SUFFIX
    if core in INHERIT_NEXT:
        return _INHERIT
    shape = _TABLE.get(core) or _TABLE.get(core.lower())
    if shape is None:
        shape = _TABLE.get(core[0])
    if shape is None:
        if all(not c.isalpha() for c in core):
            return "X"  # punctuation we did not list
        if core not in _unknown_logged:
            _unknown_logged.add(core)
            logger.debug("unknown phoneme %r: drawn as a generic consonant (B)", core)
        shape = "B"
    return shape


def _finite(x: float) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)


class VisemeTrack:
    """Mouth shapes over time for one utterance (possibly many TTS chunks appended in order).

    Build with :meth:`from_phonemes` / :meth:`from_energy`, append later chunks with :meth:`extend` /
    :meth:`extend_energy` at their start offsets (seconds since the track's time origin), then call
    :meth:`sample` once per video frame. Outside the spoken segments the mouth rests (shape X).
    """

    def __init__(self) -> None:
        self._starts: list[float] = []
        self._ends: list[float] = []
        self._codes: list[int] = []
        self._closure: list[bool] = []
        self._values: list[np.ndarray | None] = []  # explicit values (energy) or None -> shape table
        self._sources: set[str] = set()
        self._key_t: list[float] = [0.0]
        self._key_v: list[tuple[float, ...]] = [REST.as_tuple()]
        self._key_t_np = np.zeros(1)
        self._key_v_np = np.array([REST.as_tuple()])

    # ----------------------------------------------------------------------------------- building
    @classmethod
    def from_phonemes(cls, timings: Sequence[PhonemeTiming], offset_s: float = 0.0) -> VisemeTrack:
        track = cls()
        track.extend(timings, offset_s)
        return track

    @classmethod
    def from_energy(cls, pcm: np.ndarray, sample_rate: int, offset_s: float = 0.0) -> VisemeTrack:
        """Last resort when no phoneme timings exist: mouth opening follows the RMS envelope."""
        track = cls()
        track.extend_energy(pcm, sample_rate, offset_s)
        return track

    @property
    def source(self) -> TrackSource:
        """Where the mouth motion comes from: "phonemes", "energy", "mixed" (both) or "empty"."""
        if not self._sources:
            return "empty"
        if len(self._sources) == 2:
            return "mixed"
        return next(iter(self._sources))  # type: ignore[return-value]

    @property
    def end(self) -> float:
        """End time (s) of the last segment appended; 0.0 for an empty track."""
        return self._ends[-1] if self._ends else 0.0

    def extend(self, timings: Sequence[PhonemeTiming], offset_s: float = 0.0) -> None:
        """Append one chunk's phoneme timings; ``offset_s`` is the chunk's start on the track."""
        self._check_offset(offset_s)
        segs = self._phoneme_segments(timings, offset_s)
        for s, e, shape in segs:
            self._append(s, e, _SHAPE_INDEX[shape], shape == "A", None)
        self._sources.add("phonemes")
        self._rebuild()

    def extend_energy(self, pcm: np.ndarray, sample_rate: int, offset_s: float = 0.0) -> None:
        """Append one chunk driven by its audio energy (no phoneme timings available)."""
        self._check_offset(offset_s)
        env = energy_envelope(pcm, sample_rate, ENERGY_HOP_S)
        chunk_end = offset_s + len(pcm) / sample_rate
        for i, level in enumerate(env):
            s = offset_s + i * ENERGY_HOP_S
            values = _energy_pose(float(level))
            self._append(s, min(s + ENERGY_HOP_S, chunk_end), _SHAPE_INDEX["X"], False, values)
        self._sources.add("energy")
        self._rebuild()

    def add_chunk(self, chunk: AudioChunk, offset_s: float) -> None:
        """Append a TTS chunk at ``offset_s``: its phoneme timings, or its audio energy when it has none."""
        if chunk.phonemes:
            self.extend(chunk.phonemes, offset_s)
        else:
            self.extend_energy(chunk.pcm, chunk.sample_rate, offset_s)

    def _check_offset(self, offset_s: float) -> None:
        if not _finite(offset_s) or offset_s < 0:
            raise LipSyncInputError(
                f"A chunk offset must be a time in seconds >= 0, got {offset_s!r}.",
                hint="Pass the chunk's start time on the track (the sum of the previous chunks' durations).",
            )
        if offset_s < self.end - MAX_OVERLAP_S:
            raise LipSyncInputError(
                f"Chunks must be appended in time order: offset {offset_s:.3f} s is before the end "
                f"of the track ({self.end:.3f} s).",
                hint="Pass offset_s >= track.end (e.g. the sum of the previous chunks' durations).",
            )
        if offset_s < self.end:
            # a few ms of rounding (timings a hair longer than the audio): the new chunk wins
            while self._ends and self._starts[-1] >= offset_s:
                for seq in (self._starts, self._ends, self._codes, self._closure, self._values):
                    seq.pop()
            if self._ends:
                self._ends[-1] = min(self._ends[-1], offset_s)

    def _append(self, s: float, e: float, code: int, closure: bool, values: np.ndarray | None) -> None:
        if self._ends and s < self._ends[-1]:
            s = self._ends[-1]  # rounding overlap between chunks
        if e - s <= 1e-6:
            return
        self._starts.append(s)
        self._ends.append(e)
        self._codes.append(code)
        self._closure.append(closure)
        self._values.append(values)

    @staticmethod
    def _phoneme_segments(timings: Sequence[PhonemeTiming], offset_s: float) -> list[tuple[float, float, str]]:
        raw: list[list] = []  # [start, end, kind]
        prev_start = -math.inf
        for i, pt in enumerate(timings):
            if not isinstance(pt, PhonemeTiming):
                raise LipSyncInputError(
                    f"Phoneme timing #{i} is a {type(pt).__name__}, not a PhonemeTiming.",
                    hint="Build timings as engines.base.PhonemeTiming(phoneme, start, duration).",
                )
            if not (_finite(pt.start) and _finite(pt.duration)) or pt.duration < 0 or pt.start < 0:
                raise LipSyncInputError(
                    f"Phoneme timing #{i} ({pt.phoneme!r}) has start={pt.start!r}, duration={pt.duration!r}.",
                    hint="Starts and durations must be finite seconds >= 0 (check the TTS alignment).",
                )
            if pt.start < prev_start - 1e-6:
                raise LipSyncInputError(
                    f"Phoneme timings are not in time order (#{i} {pt.phoneme!r} starts at "
                    f"{pt.start:.3f} s, before the previous one).",
                    hint="Sort the timings by start time, or pass each chunk's timings as the TTS gave them.",
                )
            prev_start = pt.start
            if pt.duration <= 0:
                continue
            s = offset_s + pt.start
            e = s + pt.duration
            if raw and s < raw[-1][1]:
                raw[-1][1] = max(raw[-1][0], s)  # overlap: the earlier phoneme ends when this starts
            raw.append([s, e, _classify(pt.phoneme)])

        # merge marks into neighbours
        merged: list[list] = []
        pending_prefix: float | None = None
        for s, e, kind in raw:
            if kind == _MARK_PREFIX:
                pending_prefix = s if pending_prefix is None else pending_prefix
                continue
            if kind == _MARK_SUFFIX:
                if merged and s - merged[-1][1] < 1e-3:
                    merged[-1][1] = e
                elif pending_prefix is None:
                    pending_prefix = s
                continue
            if pending_prefix is not None:
                s, pending_prefix = pending_prefix, None
            merged.append([s, e, kind])
        if pending_prefix is not None and merged:
            merged[-1][1] = max(merged[-1][1], raw[-1][1])

        # h / ʔ take the next phoneme's shape
        for i in range(len(merged) - 1, -1, -1):
            if merged[i][2] == _INHERIT:
                nxt = merged[i + 1][2] if i + 1 < len(merged) else "B"
                merged[i][2] = nxt if nxt not in ("X", _INHERIT) else "B"

        _widen_closures(merged, offset_s)
        return [(s, e, kind) for s, e, kind in merged]

    def _rebuild(self) -> None:
        """Recompute keyframes (hold starts/ends) from the segments, gaps filled with rest."""
        starts, ends, vals, closure = [], [], [], []
        prev_end = None
        for s, e, code, cl, v in zip(self._starts, self._ends, self._codes, self._closure, self._values, strict=True):
            if prev_end is not None and s - prev_end > 1e-6:
                starts.append(prev_end)
                ends.append(s)
                vals.append(_SHAPE_VALUES[0])
                closure.append(False)
            starts.append(s)
            ends.append(e)
            vals.append(v if v is not None else _SHAPE_VALUES[code])
            closure.append(cl)
            prev_end = e
        if not starts:
            self._key_t = [0.0]
            self._key_v = [REST.as_tuple()]
            self._key_t_np = np.zeros(1)
            self._key_v_np = np.array([REST.as_tuple()])
            return
        s_arr = np.asarray(starts)
        e_arr = np.asarray(ends)
        v_arr = np.asarray(vals, dtype=np.float64)
        half = np.minimum(COARTICULATION_S / 2.0, (e_arr - s_arr) / 2.0)
        # rest before the first and after the last segment
        key_t = np.empty(2 * len(s_arr) + 2)
        key_v = np.empty((2 * len(s_arr) + 2, 5))
        key_t[0] = s_arr[0] - half[0]
        key_t[-1] = e_arr[-1] + half[-1]
        key_v[0] = key_v[-1] = _SHAPE_VALUES[0]
        key_t[1:-1:2] = s_arr + half
        key_t[2:-1:2] = e_arr - half
        key_v[1:-1:2] = v_arr
        key_v[2:-1:2] = v_arr
        self._key_t_np = key_t
        self._key_v_np = key_v
        self._key_t = key_t.tolist()
        self._key_v = [tuple(row) for row in key_v.tolist()]

    # ----------------------------------------------------------------------------------- sampling
    def sample(self, t: float) -> MouthParams:
        """Mouth pose at time ``t`` (seconds on the track). O(log n); call it once per frame."""
        kt = self._key_t
        i = bisect.bisect_right(kt, t) - 1
        if i < 0:
            return MouthParams(*self._key_v[0])
        if i >= len(kt) - 1:
            return MouthParams(*self._key_v[-1])
        t0 = kt[i]
        dt = kt[i + 1] - t0
        a = self._key_v[i]
        if dt <= 0.0:
            return MouthParams(*self._key_v[i + 1])
        b = self._key_v[i + 1]
        if a is b or a == b:
            return MouthParams(*a)
        u = (t - t0) / dt
        u = u * u * (3.0 - 2.0 * u)
        return MouthParams(
            a[0] + (b[0] - a[0]) * u,
            a[1] + (b[1] - a[1]) * u,
            a[2] + (b[2] - a[2]) * u,
            a[3] + (b[3] - a[3]) * u,
            a[4] + (b[4] - a[4]) * u,
        )

    def sample_many(self, times: np.ndarray) -> np.ndarray:
        """Vectorised :meth:`sample`: an ``(n, 5)`` array (open, width, round, teeth, press)."""
        t = np.asarray(times, dtype=np.float64)
        kt = self._key_t_np
        kv = self._key_v_np
        if len(kt) == 1:
            return np.repeat(kv, len(t), axis=0)
        i = np.clip(np.searchsorted(kt, t, side="right") - 1, 0, len(kt) - 2)
        t0 = kt[i]
        dt = kt[i + 1] - t0
        with np.errstate(divide="ignore", invalid="ignore"):
            u = np.where(dt > 0, (t - t0) / np.where(dt > 0, dt, 1.0), 1.0)
        u = np.clip(u, 0.0, 1.0)
        u = u * u * (3.0 - 2.0 * u)
        out = kv[i] + (kv[i + 1] - kv[i]) * u[:, None]
        out[t < kt[0]] = kv[0]
        out[t >= kt[-1]] = kv[-1]
        return out

    def shape_at(self, t: float) -> str:
        """Label of the segment at ``t``: A–H, X, or "~" for an energy-driven segment (debugging, tests)."""
        if not self._starts:
            return "X"
        i = bisect.bisect_right(self._starts, t) - 1
        if i < 0 or t >= self._ends[i]:
            return "X"
        if self._values[i] is not None:
            return "~"
        return _SHAPE_CODES[self._codes[i]]

    def segments(self) -> list[tuple[float, float, str]]:
        """(start, end, shape) of every appended segment ("~" for energy-driven ones)."""
        return [
            (s, e, "~" if v is not None else _SHAPE_CODES[c])
            for s, e, c, v in zip(self._starts, self._ends, self._codes, self._values, strict=True)
        ]


def _widen_closures(merged: list[list], lower: float) -> None:
    """Give every p/b/m at least MIN_CLOSURE_S, borrowing up to half of each non-closure neighbour."""
    for i, seg in enumerate(merged):
        if seg[2] != "A":
            continue
        deficit = MIN_CLOSURE_S - (seg[1] - seg[0])
        if deficit <= 0:
            continue
        want = deficit / 2.0
        take_l = take_r = 0.0
        if i > 0 and merged[i - 1][2] != "A" and abs(merged[i - 1][1] - seg[0]) < 1e-6:
            take_l = min(want, (merged[i - 1][1] - merged[i - 1][0]) / 2.0)
        elif i == 0 or merged[i - 1][1] < seg[0] - 1e-6:
            gap = seg[0] - (merged[i - 1][1] if i > 0 else lower)
            take_l = min(want, max(gap, 0.0))
        if i + 1 < len(merged) and merged[i + 1][2] != "A" and abs(merged[i + 1][0] - seg[1]) < 1e-6:
            take_r = min(want, (merged[i + 1][1] - merged[i + 1][0]) / 2.0)
        elif i + 1 == len(merged) or merged[i + 1][0] > seg[1] + 1e-6:
            take_r = want
        take = min(take_l, take_r)  # symmetric, so the closure's middle stays where it was
        if take <= 0:
            continue
        seg[0] -= take
        seg[1] += take
        if i > 0 and merged[i - 1][1] > seg[0]:
            merged[i - 1][1] = seg[0]
        if i + 1 < len(merged) and merged[i + 1][0] < seg[1]:
            merged[i + 1][0] = seg[1]


def energy_envelope(pcm: np.ndarray, sample_rate: int, hop_s: float = ENERGY_HOP_S) -> np.ndarray:
    """Mouth-opening level in ``[0, 1]`` per ``hop_s`` from the RMS of ``pcm`` (centred windows, no lag)."""
    if not isinstance(sample_rate, (int, np.integer)) or sample_rate <= 0:
        raise LipSyncInputError(
            f"Sample rate must be a positive integer in Hz, got {sample_rate!r}.",
            hint="Pass the audio's sample rate (e.g. 22050 for Piper voices).",
        )
    x = np.asarray(pcm)
    if x.ndim == 2 and 1 in x.shape:
        x = x.reshape(-1)
    if x.ndim != 1:
        raise LipSyncInputError(
            f"Audio must be mono (1-D), got shape {x.shape}.",
            hint="Mix down to mono first, e.g. pcm.mean(axis=1).",
        )
    if x.dtype == np.int16:
        x = x.astype(np.float32) / 32768.0
    elif not np.issubdtype(x.dtype, np.floating):
        raise LipSyncInputError(
            f"Audio samples must be float32 in [-1, 1] or int16, got {x.dtype}.",
            hint="Convert with pcm.astype(np.float32) / 32768 for 16-bit audio.",
        )
    x = x.astype(np.float32, copy=False)
    if not np.all(np.isfinite(x)):
        raise LipSyncInputError(
            "Audio contains NaN or infinite samples.",
            hint="Check the TTS output; replace bad samples with np.nan_to_num(pcm).",
        )
    hop = max(1, round(hop_s * sample_rate))
    n = math.ceil(len(x) / hop) if len(x) else 0
    if n == 0:
        return np.zeros(0, dtype=np.float32)
    win = 2 * hop  # centred window of two hops
    padded = np.pad(x, (hop // 2, win + hop))  # window i covers [i*hop - hop/2, i*hop + 3*hop/2)
    sq = np.concatenate([[0.0], np.cumsum(padded.astype(np.float64) ** 2)])
    idx = np.arange(n) * hop
    rms = np.sqrt(np.maximum(sq[idx + win] - sq[idx], 0.0) / win)
    gate = 0.006  # about -44 dBFS: below this the mouth rests
    ref = max(float(np.percentile(rms, 95)), gate * 4)
    level = np.clip((rms - gate) / (ref - gate), 0.0, 1.0)
    # centred 3-tap smoothing: calmer mouth without delaying it
    if n >= 3:
        level = np.convolve(np.pad(level, 1, mode="edge"), [0.25, 0.5, 0.25], mode="valid")
    return level.astype(np.float32)


def _energy_pose(level: float) -> np.ndarray:
    if level <= 0.02:
        return _SHAPE_VALUES[0]
    o = 0.85 * level**0.75
    return np.array([o, 0.56, 0.0, 0.25 + 0.25 * level, 0.0])
