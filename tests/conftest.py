"""Shared fixtures. Add yours; keep each one documented."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from typing import Any

import pytest


def _is_loopback(host: Any) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    host = str(host)
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Simulate an unplugged network: name lookups and connects to non-loopback hosts fail at once.

    Loopback (127.0.0.1, ::1, localhost) keeps working, so local test servers still can be used.
    """
    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not _is_loopback(host):
            raise socket.gaierror(socket.EAI_NONAME, f"no network in this test (lookup of {host!r})")
        return real_getaddrinfo(host, *args, **kwargs)

    def _check(address: Any) -> None:
        if isinstance(address, tuple) and not _is_loopback(address[0]):
            raise OSError(101, f"Network is unreachable (no network in this test: {address[0]!r})")

    def connect(self: socket.socket, address: Any) -> None:
        _check(address)
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        _check(address)
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    yield


def missing_tool(message: str) -> None:
    """A system tool setup installs is missing: skip on a developer's machine, FAIL in CI.

    CI runs `scripts/setup.sh` first, so there a missing tool is a setup bug, never a reason to leave a
    real path untested.
    """
    import os

    if os.environ.get("CI"):
        pytest.fail(f"{message} — scripts/setup.sh should have installed it")
    pytest.skip(f"{message} (scripts/setup.sh installs it)")


@pytest.fixture(scope="session")
def postgres() -> Iterator[Any]:
    """One private PostgreSQL cluster per session on loopback (a fresh database per test): tests/server, tests/sync."""
    from tests.remote_helpers import PostgresCluster

    try:
        cluster = PostgresCluster()
    except FileNotFoundError as err:
        missing_tool(str(err))
    try:
        yield cluster
    finally:
        cluster.destroy()
