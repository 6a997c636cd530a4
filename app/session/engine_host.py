"""The session's engines: loaded once (through :func:`app.core.assembly.build_engines`, the one loader, the same
as the CLI's, so the same machine choices and fallbacks are reported), warmed up, and lent to other front ends.

:class:`EngineHost` loads the engines in a worker thread, reporting progress (``models``) and fallbacks
(``notice``); once the session's :class:`~app.core.pipeline.Pipeline` is built over them it warms them up and
is ready. :meth:`EngineHost.run_llm` and :meth:`EngineHost.run_tts` (the session's read-aloud) run a call on
the engine's own worker, and :meth:`EngineHost.engine_worker` hands the copy studio and the local API
(``app.api``) the loaded engine and that worker, so nobody loads a second copy and a call queues behind a
conversation reply instead of overlapping it. The workers are the pipeline's (:meth:`Pipeline.worker
<app.core.pipeline.Pipeline.worker>`). Qt-free.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

from app.core.config import Settings
from app.core.errors import EngineError, VisageError
from app.core.pipeline import Engines, Pipeline
from app.core.reports import Notify
from app.core.workers import EngineWorker
from engines.base import AudioChunk

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]
EngineLoader = Callable[[Settings, Progress, Callable[[str], None]], Engines]

ROLES = ("llm", "asr", "vad", "tts")  # the engines the status line names


def load_engines(settings: Settings, progress: Progress, on_notice: Callable[[str], None]) -> Engines:
    """Load every engine, one role at a time, reporting progress (runs in a worker thread); the same
    assembly as the CLI's, so the same machine choices and fallbacks are reported here too."""
    from app.core.assembly import build_engines

    return build_engines(settings, on_notice=on_notice, progress=progress)


class EngineHost:
    """The loaded engines and the pipeline's workers they run on; ready once loaded and warmed up."""

    def __init__(self, loader: EngineLoader = load_engines) -> None:
        self.loader = loader
        self.engines: Engines | None = None
        self.load_error: str | None = None  # why the last load failed (the "failed" report's message)
        self._pipeline: Pipeline | None = None
        self._ready = asyncio.Event()

    async def load(self, settings: Settings, notify: Notify) -> Engines | None:
        """Load the engines in a thread, reporting ``models`` progress and ``notice`` fallbacks through
        ``notify`` (from the loop). The engines keep that ``notice`` path: a fallback taken later (the online
        voice going offline during a conversation) is reported the same way. None when loading failed:
        :attr:`load_error` says why."""
        loop = asyncio.get_running_loop()

        def progress(done: int, total: int, label: str) -> None:
            loop.call_soon_threadsafe(notify, "models", (done, total, label))

        def notice(message: str) -> None:
            loop.call_soon_threadsafe(notify, "notice", ("warning", message))

        try:
            engines = await asyncio.to_thread(self.loader, settings, progress, notice)
        except VisageError as err:
            self.load_error = str(err)
            return None
        except Exception as err:  # an engine library failed in a way we did not foresee
            log.exception("loading the models failed")
            self.load_error = f"Loading the models failed: {err}"
            return None
        self.load_error = None
        self.engines = engines
        return engines

    async def serve(self, pipeline: Pipeline) -> None:
        """Warm the engines up on ``pipeline``'s workers, then be ready."""
        self._pipeline = pipeline
        try:
            await pipeline.warm_up()
        except Exception:  # warm-up is an optimisation; the first turn will just be slower
            log.warning("warm-up failed", exc_info=True)
        self._ready.set()

    def unload(self) -> None:
        """Forget the engines and the pipeline (the session closes them) before loading again."""
        self._ready.clear()
        self._pipeline = None
        self.engines = None

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    async def wait_ready(self) -> None:
        """Until the models are loaded and warmed up (forever if loading failed: watch "failed")."""
        await self._ready.wait()

    def summary(self) -> str:
        """One line naming the engines in use (the "ready" report)."""
        assert self.engines is not None
        parts = []
        for role in ROLES:
            engine = getattr(self.engines, role)
            if engine is None:
                continue
            try:
                info = engine.info()
                parts.append(f"{role.upper()}: {info.model} ({info.device})")
            except Exception:
                parts.append(role.upper())
        return " · ".join(parts)

    def worker(self, role: str) -> EngineWorker:
        """The worker ``role``'s calls run on (the engines are not re-entrant: never another thread)."""
        assert self._pipeline is not None
        return self._pipeline.worker(role)

    async def run_llm(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``fn(llm, *args, **kwargs)`` on the LLM's own worker once the models are loaded.

        The LLM is not re-entrant: running here queues the call behind (or before) a conversation
        reply instead of overlapping it. Raises EngineError when the models could not be loaded.
        """
        llm, worker = await self.engine_worker("llm")
        return await worker.call(fn, llm, *args, **kwargs)

    async def run_tts(self, text: str, *, cancel: threading.Event | None = None) -> AsyncIterator[AudioChunk]:
        """The speech for ``text``, chunk by chunk, synthesised on the TTS's own worker once the models are
        loaded (the TTS is not re-entrant: this queues behind a reply's sentences instead of overlapping them).
        Setting ``cancel`` (or leaving the loop early) stops the synthesis. Raises EngineError when the models
        could not be loaded or there is no voice."""
        tts, worker = await self.engine_worker("tts")
        async for chunk in worker.iterate(tts.synthesize, text, cancel=cancel):
            yield chunk

    async def engine_worker(self, role: str) -> tuple[Any, EngineWorker]:
        """The loaded engine for ``role`` ("llm", "asr", "tts") and the worker its calls run on, once the models
        are loaded. Other front ends (the copy studio, the local API in ``app.api``) queue their calls there
        instead of loading a second copy. Raises EngineError when the models could not be loaded."""
        while not self._ready.is_set():
            if self.load_error is not None:
                raise EngineError("The models are not loaded.", hint=self.load_error)
            try:
                await asyncio.wait_for(self._ready.wait(), timeout=0.25)
            except TimeoutError:
                continue
        assert self._pipeline is not None and self.engines is not None
        engine = getattr(self.engines, role)
        if engine is None:
            raise EngineError(f"There is no {role} engine loaded.", hint="Check `visage doctor` for what is missing.")
        return engine, self.worker(role)
