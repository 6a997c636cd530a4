"""An online TTS with a local fallback. Every fallback is announced through ``on_notice``, given once by whoever
builds the engines (:func:`app.core.assembly.build_tts`: the CLI prints it, the desktop session shows it); nobody
rewires it later."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator

from app.core.errors import VisageError
from engines.base import TTS, AudioChunk, EngineInfo

log = logging.getLogger(__name__)


class FallbackTTS:
    """Speaks with ``primary``; if it fails before producing audio, speaks with ``fallback`` instead.

    After a failure the primary is skipped for ``retry_after_s`` so each sentence does not pay the
    time-out again. ``sample_rate`` is the fallback's: sinks must accept each chunk's own rate.
    """

    def __init__(
        self,
        primary: TTS,
        fallback: TTS,
        *,
        on_notice: Callable[[str], None],
        retry_after_s: float = 120.0,
    ) -> None:
        self.primary = primary
        self.fallback = fallback
        self._on_notice = on_notice  # called from the TTS worker thread
        self.retry_after_s = retry_after_s
        self.sample_rate = fallback.sample_rate
        self._primary_down_until = 0.0

    def synthesize(self, text: str, *, cancel: threading.Event | None = None) -> Iterator[AudioChunk]:
        if time.monotonic() >= self._primary_down_until:
            produced = False
            try:
                for chunk in self.primary.synthesize(text, cancel=cancel):
                    produced = True
                    yield chunk
                return
            except (VisageError, OSError, TimeoutError) as err:
                if produced:
                    raise
                self._primary_down_until = time.monotonic() + self.retry_after_s
                name = self.primary.info().name
                log.warning("%s failed (%s); speaking with %s", name, err, self.fallback.info().name)
                self._on_notice(
                    f"{name} is unavailable ({getattr(err, 'message', err)}); "
                    f"speaking with the offline voice ({self.fallback.info().model}) instead."
                )
        yield from self.fallback.synthesize(text, cancel=cancel)

    def info(self) -> EngineInfo:
        primary = self.primary.info()
        return EngineInfo(
            role="tts",
            name=f"{primary.name} → {self.fallback.info().name}",
            model=primary.model,
            model_path=primary.model_path,
            version=primary.version,
            device=primary.device,
            device_reason=f"falls back to {self.fallback.info().name} when offline",
        )
