"""The local API inside the window: started, moved or stopped with the ``[api]`` settings, on the session's
core loop, over the session's own engines and workers (``SessionEngines``: no second copy of any model).

The owner (the Qt bridge) calls :meth:`WindowApi.apply` after the session starts and whenever settings are
saved, and :meth:`close` on exit. What happens is reported through the session's ``notify``: a notice with
the address when it listens, an error with the fix when it cannot (a port in use, no key for the network).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from app.api.host import SessionEngines
from app.core.config import ApiSettings
from app.core.errors import VisageError

log = logging.getLogger(__name__)


class WindowApi:
    def __init__(self, session: Any) -> None:
        self.session = session
        self.host = SessionEngines(session)
        self.server: Any = None
        self._task: asyncio.Task[None] | None = None
        self._running: ApiSettings | None = None

    @property
    def url(self) -> str | None:
        return None if self.server is None else str(self.server.url)

    async def apply(self, api: ApiSettings) -> None:
        """Make the running API match ``api`` (start, restart on a new port or bind, or stop)."""
        wanted = api if api.enabled else None
        if wanted is not None and self._running is not None and wanted.model_dump(exclude={"max_tokens"}) == \
                self._running.model_dump(exclude={"max_tokens"}) and self._task is not None and not self._task.done():
            self._running = wanted
            return
        await self.close()
        if wanted is None:
            return
        from app.api.keys import get_key
        from app.api.server import LOOPBACK, NETWORK, ApiServer

        try:
            key = await asyncio.to_thread(get_key)
            # in a thread: the first start imports FastAPI and uvicorn (half a second the core loop must not wait)
            self.server = await asyncio.to_thread(ApiServer, self.host, bind_host=NETWORK if api.network else LOOPBACK,
                                                  port=api.port, key=key)
        except VisageError as err:
            self.session.notify("error", f"The local API is not running: {err}")
            return
        self._running = wanted
        self._task = asyncio.get_running_loop().create_task(self.server.serve())
        reach = "this computer and your network (key required)" if api.network else "this computer only"
        self.session.notify("notice", ("info", f"Local API on {self.server.url} ({reach})."))

    async def close(self) -> None:
        """Stop listening; returns once the port is closed (open requests get a few seconds to finish)."""
        server, task = self.server, self._task
        self._running = None
        if server is not None and task is not None:
            server.stop()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, timeout=5)
        self.server, self._task = None, None
