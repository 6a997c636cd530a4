"""One worker thread per engine, and the bridge from its blocking calls to the asyncio loop.

Engines are synchronous and not re-entrant, so each gets its own single-thread executor. A blocking
iterator (llama tokens, whisper segments, piper chunks) is created AND drained inside the worker; items
are handed to the loop one by one. (Creating a lazy generator in a thread and iterating it on the loop
would run the real work on the loop and block it — a trap seen in well-known projects.)
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")

_DONE = object()


class EngineWorker:
    """A single thread that runs every call for one engine, in order."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"visage-{name}")

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, lambda: fn(*args, **kwargs))

    async def iterate(
        self,
        make_iter: Callable[..., Iterator[T]],
        *args: Any,
        cancel: threading.Event | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[T]:
        """Run ``make_iter(*args, **kwargs)`` in the worker and yield its items on the loop as they come.

        ``cancel`` (the turn's cancel event) is passed through to ``make_iter`` as its ``cancel=`` keyword, so
        the engine itself checks it between items (llama also between prompt chunks, Piper between
        sentences); the worker never keeps it to itself. If the consumer stops early (break, cancellation),
        ``cancel`` is set so the engine and the worker stop promptly. Without ``cancel``, ``make_iter`` gets no
        such keyword and a private event stops the draining loop.
        """
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        stop = cancel or threading.Event()
        if cancel is not None:
            kwargs["cancel"] = cancel

        def drain() -> None:
            try:
                iterator = make_iter(*args, **kwargs)
                try:
                    for item in iterator:
                        loop.call_soon_threadsafe(queue.put_nowait, item)
                        if stop.is_set():
                            break
                finally:
                    close = getattr(iterator, "close", None)
                    if close is not None:
                        close()
            except BaseException as err:  # handed over to the consumer, re-raised there
                loop.call_soon_threadsafe(queue.put_nowait, _Failure(err))
            finally:
                loop.call_soon_threadsafe(queue.put_nowait, _DONE)

        future = loop.run_in_executor(self._pool, drain)
        finished = False
        try:
            while True:
                item = await queue.get()
                if item is _DONE:
                    finished = True
                    break
                if isinstance(item, _Failure):
                    raise item.error
                yield item
        finally:
            if not finished:
                stop.set()
            # Never leave the worker running unobserved; wait without blocking the loop.
            await asyncio.shield(future)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


class _Failure:
    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error
