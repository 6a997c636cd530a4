"""Avatar renderer contract and the idle motion every renderer shares.

Renderers by tier (see ARCHITECTURE.md, "Avatar"):

0. :class:`engines.avatar.character.CartoonAvatar`: a 2D character drawn with OpenCV, always available.
1. :class:`engines.avatar.photo.PhotoAvatar`: a user's photo; face landmarks found once when the photo
   is chosen (:mod:`engines.avatar.face`), cached with the avatar; the mouth region is warped per frame.
2. A neural renderer (Wav2Lip / MuseTalk exported to ONNX). **Interface only, not implemented.** It is
   offered only when the user supplies the weights and a GPU is present (Wav2Lip needs ~52 ms per frame
   on 2 CPU cores: not real time). Planned shape::

       class OnnxLipSyncRenderer:  # satisfies AvatarRenderer
           def __init__(self, weights: Path, face_image: Path, *, providers: Sequence[str]) -> None:
               # weights: user-supplied .onnx (never downloaded silently); providers must include a GPU
               # execution provider, else DependencyError with a hint to use tier 0/1.
           def feed_audio(self, pcm: np.ndarray, sample_rate: int, offset_s: float) -> None:
               # neural renderers are driven by mel-spectrogram windows, not by MouthParams: the caller
               # feeds each TTS chunk's audio as it is synthesized, at its offset on the audio clock
           def render(self, mouth: MouthParams, t: float) -> np.ndarray:
               # t selects the audio window (t - 0.2 s .. t + 0.2 s); `mouth` is ignored except as a
               # fallback when audio for t is not there yet (barge-in, gaps)
           def mouth_region(self) -> tuple[int, int, int, int]: ...

   It must keep the same timing rule as tier 0: a frame shown at audible time ``t`` shows the mouth
   for ``t + lead`` with lead in [0, 40 ms].

Renderers are synchronous, called from one thread, and never import Qt. ``render`` must be a
deterministic function of ``(mouth, t)``: the idle motion depends on ``t`` only (a seeded schedule),
which is what makes frames reproducible and testable.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from engines.avatar.errors import AvatarConfigError
from engines.avatar.visemes import MouthParams


@runtime_checkable
class AvatarRenderer(Protocol):
    """Draws the avatar for one video frame."""

    #: (width, height) of the frames in pixels
    size: tuple[int, int]

    def render(self, mouth: MouthParams, t: float) -> np.ndarray:
        """An H×W×3 uint8 BGR frame with the mouth in pose ``mouth`` and the idle life of time ``t`` (s)."""

    def mouth_region(self) -> tuple[int, int, int, int]:
        """``(x, y, w, h)`` box that contains every pixel the mouth/jaw can change (in frame pixels)."""


@dataclass(frozen=True, slots=True)
class IdlePose:
    """Idle life at one instant: head offset (px, at 512 px frame size), head tilt, breath, eyelids."""

    dx: float
    dy: float
    angle_deg: float
    #: breathing phase in [-1, 1] (1 = chest up)
    breath: float
    #: 0 = eyes open, 1 = eyes shut
    eyelid: float


class IdleMotion:
    """Blinks, breathing and a small head sway as deterministic functions of time.

    Blinks follow a schedule drawn from a seeded RNG (intervals of ``blink_every`` seconds with
    jitter, an occasional double blink), generated lazily in order, so ``pose(t)`` gives the same
    answer for the same ``t`` whatever the order of the calls. Sway is a sum of slow sines with
    incommensurate periods and seeded phases, so it never visibly loops.
    """

    BLINK_CLOSE_S = 0.06
    BLINK_HOLD_S = 0.03
    BLINK_OPEN_S = 0.10

    def __init__(
        self,
        seed: int = 7,
        *,
        blink_every: tuple[float, float] = (2.4, 5.5),
        double_blink_p: float = 0.12,
        sway_px: float = 3.0,
        sway_deg: float = 1.4,
        breath_px: float = 1.6,
        breath_period_s: float = 4.2,
    ) -> None:
        lo, hi = blink_every
        if not (0.3 < lo <= hi):
            raise AvatarConfigError(
                f"Blink interval must be (min, max) seconds with 0.3 < min <= max, got {blink_every}.",
                hint="Set [idle] blink_min_s / blink_max_s in avatar.toml, e.g. 2.4 and 5.5.",
            )
        self._rng = np.random.default_rng(seed)
        self._blink_every = (float(lo), float(hi))
        self._double_p = float(double_blink_p)
        self._blinks: list[float] = []
        self._horizon = 0.0
        phase_rng = np.random.default_rng(seed + 1_000_003)
        self._phases = phase_rng.uniform(0.0, 2.0 * math.pi, size=6).tolist()
        self.sway_px = float(sway_px)
        self.sway_deg = float(sway_deg)
        self.breath_px = float(breath_px)
        self.breath_period_s = float(breath_period_s)
        # first blink shortly after start, not at t=0
        self._next = 0.8 + float(self._rng.uniform(0.0, 1.2))

    @property
    def blink_duration_s(self) -> float:
        return self.BLINK_CLOSE_S + self.BLINK_HOLD_S + self.BLINK_OPEN_S

    def _extend(self, until: float) -> None:
        lo, hi = self._blink_every
        while self._next <= until:
            self._blinks.append(self._next)
            if float(self._rng.uniform()) < self._double_p:
                self._blinks.append(self._next + self.blink_duration_s + 0.08)
                self._next = self._blinks[-1]
            self._next += float(self._rng.uniform(lo, hi))
        self._horizon = max(self._horizon, until)

    def blink_starts(self, until: float) -> list[float]:
        """Start times (s) of the blinks in ``[0, until]``."""
        self._extend(until)
        return self._blinks[: bisect.bisect_right(self._blinks, until)]

    def eyelid(self, t: float) -> float:
        """Eyelid closure at ``t``: 0 open, 1 shut (smooth close, short hold, slower open)."""
        if t < 0:
            return 0.0
        self._extend(t + 1.0)
        i = bisect.bisect_right(self._blinks, t) - 1
        if i < 0:
            return 0.0
        u = t - self._blinks[i]
        if u < self.BLINK_CLOSE_S:
            x = u / self.BLINK_CLOSE_S
        elif u < self.BLINK_CLOSE_S + self.BLINK_HOLD_S:
            return 1.0
        elif u < self.blink_duration_s:
            x = 1.0 - (u - self.BLINK_CLOSE_S - self.BLINK_HOLD_S) / self.BLINK_OPEN_S
        else:
            return 0.0
        return x * x * (3.0 - 2.0 * x)

    def breath(self, t: float) -> float:
        return math.sin(2.0 * math.pi * t / self.breath_period_s + self._phases[0])

    def pose(self, t: float) -> IdlePose:
        p = self._phases
        sx = 0.6 * math.sin(2 * math.pi * t / 7.3 + p[1]) + 0.4 * math.sin(2 * math.pi * t / 3.1 + p[2])
        sy = 0.5 * math.sin(2 * math.pi * t / 5.9 + p[3]) + 0.5 * math.sin(2 * math.pi * t / 2.3 + p[4])
        sa = 0.7 * math.sin(2 * math.pi * t / 6.7 + p[5]) + 0.3 * math.sin(2 * math.pi * t / 2.9 + p[1])
        b = self.breath(t)
        return IdlePose(
            dx=self.sway_px * sx,
            dy=0.5 * self.sway_px * sy - self.breath_px * b,
            angle_deg=self.sway_deg * sa,
            breath=b,
            eyelid=self.eyelid(t),
        )
