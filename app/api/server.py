"""Running the local API: binding (loopback unless asked, never beyond it without a key) and uvicorn.

``ApiServer.serve()`` is a coroutine for an asyncio loop that already runs (the window's core loop, so the
API shares the session's engines and workers; ``visage serve``'s own loop). ``start_in_thread()`` runs it
on a loop of its own (tests, benchmarks). The socket is bound here, so a port in use is a clear error
instead of uvicorn exiting the process.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import logging
import socket
import threading
from typing import Any

from app.api.host import EngineHost
from app.core.errors import ConfigError

log = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
NETWORK = "0.0.0.0"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, key: str | None) -> None:
    """Listening beyond this computer needs an API key; refuse it otherwise."""
    if not is_loopback(host) and not key:
        raise ConfigError(
            f"Listening on {host} would let other computers use Visage's models, so it needs an API key.",
            hint="Run `visage api-key --generate` (the key goes to the OS keyring), or stay on 127.0.0.1.",
        )


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as err:
        sock.close()
        if err.errno == errno.EADDRINUSE:
            raise ConfigError(f"Port {port} is already in use on {host}.",
                              hint="Choose another port (Settings › Local API, [api] port or --port).") from None
        raise ConfigError(f"Cannot listen on {host}:{port}: {err.strerror or err}.",
                          hint="Check the address and port.") from None
    sock.listen(128)
    sock.setblocking(False)
    return sock


class ApiServer:
    def __init__(self, host: EngineHost, *, bind_host: str = LOOPBACK, port: int = 8765,
                 key: str | None = None) -> None:
        check_bind(bind_host, key)
        import uvicorn

        from app.api.app import create_app

        self.bind_host = bind_host
        self.sock = bind(bind_host, port)
        self.port = int(self.sock.getsockname()[1])
        app = create_app(host, key=key, loopback_only=is_loopback(bind_host))
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                                timeout_graceful_shutdown=2)
        self.server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.bind_host in (NETWORK, "localhost") else self.bind_host
        return f"http://{host}:{self.port}/v1"

    async def serve(self) -> None:
        log.info("local API listening on %s:%d", self.bind_host, self.port)
        try:
            await self.server.serve(sockets=[self.sock])
        finally:
            self.sock.close()

    def stop(self) -> None:
        """Ask the server to stop (from any thread); ``serve()`` returns once open requests finished."""
        self.server.should_exit = True

    # ---- on a thread of its own (tests, benchmarks) ----
    def start_in_thread(self) -> ApiServer:
        started = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            task = loop.create_task(self.serve())
            loop.call_soon(started.set)
            loop.run_until_complete(task)
            loop.close()

        self._thread = threading.Thread(target=run, name="visage-api", daemon=True)
        self._thread.start()
        started.wait(10)
        for _ in range(200):
            if self.server.started:
                break
            threading.Event().wait(0.02)
        return self

    def stop_thread(self, timeout: float = 10.0) -> None:
        self.stop()
        if self._thread is not None:
            self._thread.join(timeout)

    def __enter__(self) -> ApiServer:
        return self.start_in_thread()

    def __exit__(self, *exc: Any) -> None:
        self.stop_thread()
