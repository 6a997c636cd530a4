"""The session's link to the opt-in sync (:mod:`app.sync`): the sender started over the open store, stopped,
restarted when the sync settings change, and its state reported as ``sync`` ``(enabled, SyncStatus | None)``.
Qt-free; ``app.sync`` is imported only when the store opens.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from app.core.config import SyncSettings
from app.core.errors import VisageError
from app.core.reports import Notify

if TYPE_CHECKING:
    from app.store import Store


class SyncLink:
    """The sync sender (``app.sync.SyncWorker`` while analytics sharing is on, else None) and its reports."""

    def __init__(self, notify: Notify, settings: Callable[[], SyncSettings]) -> None:
        self.notify = notify
        self.settings = settings  # the session's current sync settings
        self.worker: Any = None

    async def attach(self, store: Store) -> None:
        """Start (or stop) the sync sender for the current settings; report the state."""
        from app.sync import attach

        loop = asyncio.get_running_loop()

        def on_status(status: Any) -> None:  # the worker's thread
            loop.call_soon_threadsafe(self.notify, "sync", (self.settings().enabled, status))

        await self.stop()
        try:
            self.worker = await asyncio.to_thread(attach, store, self.settings(), on_status=on_status)
        except VisageError as err:
            self.notify("notice", ("warning", f"Sync is not running: {err}"))
        await self.refresh()

    async def refresh(self) -> None:
        """Report the sync state now (the sender also reports after every batch)."""
        worker = self.worker
        status = await asyncio.to_thread(worker.status) if worker is not None else None
        self.notify("sync", (self.settings().enabled, status))

    async def resume(self) -> None:
        """After the user fixed a permanent error (a new key): clear the stop and send again."""
        if self.worker is not None:
            await asyncio.to_thread(self.worker.resume)
        await self.refresh()

    async def stop(self) -> None:
        """Stop the sender, if one runs."""
        old, self.worker = self.worker, None
        if old is not None:
            await asyncio.to_thread(old.stop)
