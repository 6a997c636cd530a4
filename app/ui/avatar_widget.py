"""The avatar, drawn at ~30 fps: the tier-0 CartoonAvatar with its mouth on the speaker clock.

Each frame samples the viseme track at the time the user actually hears (the speaker sink's
``audible_time()``, the master clock) plus a small lead (video 0–40 ms ahead of audio, never behind);
idle life (blinks, breathing, sway) follows wall time, so the character lives while silent.
Rendering costs ~1 ms per frame on a 2-core CPU; the last frame times are kept in ``frame_ms``.
:meth:`AvatarWidget.use_avatar` switches to the user's photo avatar (tier 1, loaded from its cached
face in a background thread; the character stays until it is ready, and a failure says why).
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QRectF, Qt, QTimer
from PySide6.QtGui import QImage, QPainter, QPainterPath
from PySide6.QtWidgets import QSizePolicy, QWidget

from engines.avatar.character import CartoonAvatar
from engines.avatar.errors import LipSyncInputError
from engines.avatar.visemes import REST, MouthParams, VisemeTrack
from engines.base import AudioChunk

log = logging.getLogger(__name__)

FPS = 30
#: video leads audio by this much (inside the 0–40 ms window viewers do not notice)
LEAD_S = 0.02


class AvatarWidget(QWidget):
    def __init__(self, clock: Callable[[], float], *, size: int = 384, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.clock = clock
        self.size_px = size
        self.renderer: Any = CartoonAvatar(size)
        self.kind = "character"
        self._frame: np.ndarray | None = None
        w, h = self.renderer.size
        self._buf = np.empty((h, w, 3), np.uint8)
        self._image = QImage()
        self._track: VisemeTrack | None = None
        self._origin = 0.0
        self._t0 = time.monotonic()
        self.frame_ms: deque[float] = deque(maxlen=300)
        self.mouth = REST
        self.frames = 0
        self.setMinimumSize(220, 220)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(1000 // FPS)
        self.timer.timeout.connect(self.tick)
        self.timer.start()
        self.tick()

    # ---- speech ----
    def add_chunk(self, chunk: AudioChunk, offset_s: float) -> None:
        """A chunk was queued at ``offset_s`` on the speaker clock: append its visemes."""
        try:
            if self._track is None or offset_s < self._origin + self._track.end - 0.05:
                self._track = VisemeTrack()  # a new reply (or one after an interruption)
                self._origin = offset_s
            self._track.add_chunk(chunk, offset_s - self._origin)
        except LipSyncInputError:
            log.warning("bad viseme timing; the mouth follows the audio energy for this chunk", exc_info=True)
            self._track = VisemeTrack.from_energy(chunk.pcm, chunk.sample_rate)
            self._origin = offset_s

    def current_mouth(self) -> MouthParams:
        if self._track is None:
            return REST
        return self._track.sample(self.clock() - self._origin + LEAD_S)

    # ---- which avatar ----
    def use_avatar(self, settings: Any, on_problem: Callable[[str], None] | None = None) -> Any:
        """Render ``settings`` (``[avatar]``): the character, or the photo avatar in its folder."""
        from app.ui.jobs import thread_job

        if settings.renderer != "photo" or not settings.photo_folder:
            self.renderer, self.kind = CartoonAvatar(self.size_px), "character"
            return None
        from engines.avatar.photo import load_photo_avatar

        def loaded(renderer: Any) -> None:
            self.renderer, self.kind = renderer, "photo"

        def failed(message: str) -> None:
            log.warning("photo avatar not loaded: %s", message)
            if on_problem is not None:
                on_problem(f"Your photo avatar could not be loaded; showing the default character.\n{message}")

        self._avatar_job = thread_job("Loading the photo avatar", load_photo_avatar, Path(settings.photo_folder),
                                      self.size_px, on_done=loaded, on_failed=failed)
        return self._avatar_job

    # ---- frames ----
    def tick(self) -> None:
        start = time.perf_counter()
        self.mouth = self.current_mouth()
        t = time.monotonic() - self._t0
        if isinstance(self.renderer, CartoonAvatar):
            frame = self.renderer.render(self.mouth, t, out=self._buf)
        else:
            frame = self.renderer.render(self.mouth, t)
        self._frame = np.ascontiguousarray(frame)  # the QImage below borrows this buffer
        h, w = self._frame.shape[:2]
        self._image = QImage(self._frame.data, w, h, 3 * w, QImage.Format.Format_BGR888)
        self.frames += 1
        self.update()
        self.frame_ms.append((time.perf_counter() - start) * 1000)

    def paintEvent(self, event: object) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        side = min(self.width(), self.height()) - 8
        x = (self.width() - side) / 2
        y = (self.height() - side) / 2
        rect = QRectF(x, y, side, side)
        path = QPainterPath()
        path.addRoundedRect(rect, 24, 24)
        painter.setClipPath(path)
        painter.drawImage(rect, self._image)
        painter.end()
