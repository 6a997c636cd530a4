"""Fault test (loopback only, bounded): 1,000 events reach the server exactly once although the server is
killed and restarted, a proxy injects 500s, timeouts and dropped connections (before and after the
server stored the batch), and the client process is killed mid-batch and restarted.

Topology: client process -> fault proxy (this process, 127.0.0.1) -> server process (uvicorn, SQLite).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import httpx

from app.store import Store
from server.storage import Storage
from tests.remote_helpers import LOOPBACK, ROOT, free_port

EVENTS = 1000
DEADLINE_S = 150
CLIENT_TIMEOUT_S = 0.5


class FaultProxy:
    """An HTTP/1.1 proxy on loopback that, for the first ``fault_budget`` requests, picks a fault at random."""

    ACTIONS = ("pass", "500_before", "500_after", "timeout_after", "drop_before", "drop_after")
    WEIGHTS = (40, 12, 12, 12, 12, 12)

    def __init__(self, upstream_port: int | Sequence[int], fault_budget: int, seed: int = 7) -> None:
        self.port = free_port()
        ports = [upstream_port] if isinstance(upstream_port, int) else list(upstream_port)
        self.upstreams = itertools.cycle([f"http://{LOOPBACK}:{p}" for p in ports])  # round robin
        self.budget = fault_budget
        self.rng = random.Random(seed)
        self.counts: Counter[str] = Counter()
        self.committed_unacked = threading.Event()  # a batch was stored upstream and the client is still waiting
        self.hold = threading.Event()  # while set, hold the response after forwarding (for a client kill)
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        self._ready.wait(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(asyncio.start_server(self._handle, LOOPBACK, self.port))
        self._client = httpx.AsyncClient(timeout=5)
        self._ready.set()
        self._loop.run_forever()

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._server.close)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def _choose(self) -> str:
        if self.budget <= 0:
            return "pass"
        action = self.rng.choices(self.ACTIONS, self.WEIGHTS)[0]
        if action != "pass":
            self.budget -= 1
        return action

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        k, v = line.split(":", 1)
                        headers[k.strip().lower()] = v.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                action = self._choose() if path.endswith("/analytics/events") else "pass"
                self.counts[action] += 1
                if action == "500_before":
                    await self._respond(writer, 500, b'{"detail": "injected"}')
                    continue
                if action == "drop_before":
                    return
                fwd = {k: v for k, v in headers.items() if k in ("content-type", "x-api-key", "idempotency-key")}
                try:
                    upstream = await self._client.request(method, next(self.upstreams) + path, headers=fwd,
                                                          content=body)
                except httpx.HTTPError:
                    self.counts["upstream_down"] += 1
                    await self._respond(writer, 502, b'{"detail": "upstream down"}')
                    continue
                stored = upstream.status_code == 200 and path.endswith("/analytics/events")
                if stored and self.hold.is_set():
                    self.committed_unacked.set()
                    await asyncio.sleep(3)  # the test kills the client meanwhile
                    return
                if action == "500_after":
                    await self._respond(writer, 500, b'{"detail": "injected after commit"}')
                elif action == "timeout_after":
                    await asyncio.sleep(CLIENT_TIMEOUT_S * 3)
                    return
                elif action == "drop_after":
                    return
                else:
                    await self._respond(writer, upstream.status_code, upstream.content,
                                        upstream.headers.get("retry-after"))
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            return
        finally:
            writer.close()

    @staticmethod
    async def _respond(writer: asyncio.StreamWriter, status: int, body: bytes, retry_after: str | None = None) -> None:
        extra = f"Retry-After: {retry_after}\r\n" if retry_after else ""
        writer.write(f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                     f"{extra}\r\n".encode("latin-1") + body)
        await writer.drain()


class ServerProcess:
    def __init__(self, port: int, url: str, tmp: Path) -> None:
        self.port, self.url, self.log = port, url, tmp / f"server-{port}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "VISAGE_SERVER_RATE_PER_MINUTE": "1000000",
               "VISAGE_SERVER_RATE_BURST": "100000"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "server", "run", "--host", LOOPBACK, "--port", str(self.port),
             "--database-url", self.url], cwd=ROOT, env=env, stdout=self.log.open("ab"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://{LOOPBACK}:{self.port}/v11/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("server did not start: " + self.log.read_text()[-2000:])

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)


class ClientProcess:
    def __init__(self, db: Path, url: str, key: str) -> None:
        self.args = [sys.executable, str(ROOT / "tests" / "sync" / "fault_client.py"), str(db), url]
        self.env = {**os.environ, "VISAGE_SYNC_API_KEY": key}
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(self.args, env=self.env, cwd=ROOT)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def done(self) -> bool:
        return self.proc is not None and self.proc.poll() == 0

    def wait_drained(self, deadline: float) -> None:
        """Until the client exits 0 (its outbox drained); fails if it crashes or ``deadline`` (monotonic) passes."""
        while not self.done() and time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() not in (None, 0):
                raise AssertionError(f"client crashed with {self.proc.returncode}")
            time.sleep(0.1)
        assert self.done(), "the client did not drain its outbox in time"


def queue_events(client_db: Path) -> set[str]:
    """A client store with EVENTS assistant replies queued as analytics events; their event ids."""
    with Store(client_db) as store:
        store.outbox.queue_message_events(True)
        cid = store.create_conversation()
        for i in range(EVENTS):
            store.add_message(cid, "assistant", f"reply {i}", timings={"first_audio_s": 0.4 + (i % 50) / 100})
        expected = {e.event_id for e in store.outbox.pending(EVENTS * 2)}
    assert len(expected) == EVENTS
    return expected


def test_a_thousand_events_arrive_exactly_once_through_faults(tmp_path: Path) -> None:
    started = time.monotonic()
    server_url = f"sqlite:///{tmp_path}/server.db"
    storage = Storage(server_url)
    key_row, key = storage.create_key("fault-test")
    storage.close()

    client_db = tmp_path / "client" / "visage.db"
    expected = queue_events(client_db)

    server = ServerProcess(free_port(), server_url, tmp_path)
    server.start()
    proxy = FaultProxy(server.port, fault_budget=40)
    client = ClientProcess(client_db, f"http://{LOOPBACK}:{proxy.port}", key)
    kills = Counter[str]()
    try:
        client.start()
        # 1) kill the client while the server has stored a batch it has not acknowledged yet (mid-batch)
        proxy.hold.set()
        assert proxy.committed_unacked.wait(60), "no batch reached the server"
        client.kill()
        kills["client"] += 1
        proxy.hold.clear()
        client.start()
        # 2) kill and restart the server twice while the client keeps sending
        for _ in range(2):
            time.sleep(0.7)
            server.kill()
            kills["server"] += 1
            time.sleep(0.5)
            server.start()
        # 3) kill the client once more at an arbitrary moment
        time.sleep(0.3)
        if not client.done():
            client.kill()
            kills["client"] += 1
            client.start()
        client.wait_drained(started + DEADLINE_S)
    finally:
        client.kill()
        server.kill()
        proxy.close()

    check = Storage(server_url)
    stored = check.event_ids(key_row.id)
    check.close()
    with Store(client_db) as store:
        pending = store.outbox.count()
    print(f"\nfault test: client queued {EVENTS}, server holds {len(stored)} "
          f"({len(set(stored))} distinct, {len(set(stored) - expected)} unexpected, "
          f"{len(expected - set(stored))} missing); client pending {pending}; "
          f"proxy actions {dict(proxy.counts)}; kills {dict(kills)}; {time.monotonic() - started:.1f} s")
    assert len(stored) == EVENTS and set(stored) == expected and pending == 0
    assert kills["server"] == 2 and kills["client"] >= 1
    assert sum(v for k, v in proxy.counts.items() if k not in ("pass", "upstream_down")) > 0
