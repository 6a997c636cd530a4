"""Where the local API gets its engines: the window's (through the session's engine workers) or its own.

Either way each engine runs on one worker thread (models are not re-entrant) and the API adds a gate per
engine: one API job at a time in that worker's queue, the others wait in the API (they queue, never fail).
A voice turn in the window therefore waits behind at most one API job, never behind every request queued.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Protocol

from app.core.config import Settings
from app.core.errors import EngineError
from app.core.workers import EngineWorker


class EngineHost(Protocol):
    @property
    def settings(self) -> Settings: ...

    async def engine(self, role: str) -> tuple[Any, EngineWorker]:
        """The loaded engine for "llm", "asr" or "tts" and its worker; EngineError when there is none."""

    async def store(self) -> Any:
        """The conversation store (``app.store.Store``), for requests that ask to be saved."""

    async def saved(self) -> None:
        """A conversation was stored (the window refreshes its sidebar)."""


class OwnEngines:
    """Engines loaded for the API alone (``visage serve``, tests, benchmarks), each on its own worker."""

    def __init__(self, engines: Any, settings: Settings, data_dir: Path | None = None) -> None:
        self.engines = engines
        self._settings = settings
        self.data_dir = data_dir
        self._workers = {role: EngineWorker(f"api-{role}") for role in ("llm", "asr", "tts")}
        self._store: Any = None

    @property
    def settings(self) -> Settings:
        return self._settings

    async def engine(self, role: str) -> tuple[Any, EngineWorker]:
        engine = getattr(self.engines, role, None)
        if engine is None:
            raise EngineError(f"There is no {role} engine loaded.", hint="Check `visage doctor` for what is missing.")
        return engine, self._workers[role]

    async def store(self) -> Any:
        if self._store is None:
            from app.store import Store

            self._store = await asyncio.to_thread(Store.open_default, self.data_dir)
        return self._store

    async def saved(self) -> None:
        return None

    def close(self) -> None:
        for worker in self._workers.values():
            worker.shutdown()
        if self._store is not None:
            self._store.close()


class SessionEngines:
    """The window's engines: the running :class:`app.session.session.Session`'s workers (no second copy)."""

    def __init__(self, session: Any) -> None:
        self.session = session

    @property
    def settings(self) -> Settings:
        return self.session.settings  # type: ignore[no-any-return]

    async def engine(self, role: str) -> tuple[Any, EngineWorker]:
        return await self.session.engine_worker(role)  # type: ignore[no-any-return]

    async def store(self) -> Any:
        await self.session.run_io(lambda: None)  # waits until the history is open
        return self.session.store

    async def saved(self) -> None:
        await self.session.refresh_conversations()


class Gates:
    """One lock per engine: the API's jobs enter an engine worker's queue one at a time, in arrival order."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}

    def __call__(self, role: str) -> asyncio.Lock:
        return self._locks.setdefault(role, asyncio.Lock())

    def waiting(self) -> dict[str, bool]:
        return {role: lock.locked() for role, lock in self._locks.items()}
