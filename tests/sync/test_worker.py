"""The sync worker against a live loopback server: sends everything once, retries retryable failures
with backoff, stops (and stays stopped across restarts) on permanent ones, and shows its status."""

from __future__ import annotations

import random
from pathlib import Path

import httpx

from app.store import Store
from app.sync import SyncClient, SyncStatus, SyncWorker
from app.sync.worker import Backoff

from .conftest import Live


def fill(store: Store, n: int) -> list[str]:
    store.outbox.queue_message_events(True)
    cid = store.create_conversation()
    for i in range(n):
        store.add_message(cid, "assistant" if i % 2 else "user", f"text {i}", timings={"first_audio_s": 0.5 + i / 1000})
    return [e.event_id for e in store.outbox.pending(10_000)]


def fast() -> Backoff:
    return Backoff(base_s=0.01, cap_s=0.05, rng=random.Random(1))


def test_sends_every_event_once_and_reports_status(store: Store, live: Live) -> None:
    ids = fill(store, 230)
    seen: list[SyncStatus] = []
    worker = SyncWorker(store, lambda: SyncClient(live.url, live.key, timeout_s=5), batch_size=50, backoff=fast(),
                        idle_s=0.1, on_status=seen.append)
    assert worker.status().pending == 230 and worker.status().last_success is None
    worker.start()
    try:
        status = worker.flush(30)
    finally:
        worker.stop()
    assert status.pending == 0 and status.stopped is None and status.sent_this_session == 230
    assert status.last_success is not None
    assert sorted(live.storage.event_ids(1)) == sorted(ids)
    assert seen and seen[-1].pending == 0


def test_retryable_failures_back_off_and_then_succeed(store: Store, live: Live) -> None:
    ids = fill(store, 30)
    answers = iter([503, 429, "drop", "timeout", 500])
    delays: list[float] = []

    class Recording(Backoff):
        def delay(self, attempt: int, retry_after_s: float | None = None) -> float:
            delays.append(super().delay(attempt, retry_after_s))
            return 0.01

    def handler(request: httpx.Request) -> httpx.Response:
        step = next(answers, None)
        if step == "drop":
            raise httpx.RemoteProtocolError("server disconnected", request=request)
        if step == "timeout":
            raise httpx.ReadTimeout("slow", request=request)
        if step is not None:
            return httpx.Response(int(step), headers={"Retry-After": "0.02"} if step == 429 else {},
                                  json={"detail": {"code": "x", "message": "injected"}})
        with httpx.Client() as real:  # then pass through to the live server
            forwarded = real.send(real.build_request(request.method, str(request.url).replace("https://fake",
                                  live.url), headers=request.headers, content=request.content))
            return httpx.Response(forwarded.status_code, content=forwarded.content, headers=forwarded.headers)

    worker = SyncWorker(store, lambda: SyncClient("https://fake", live.key, transport=httpx.MockTransport(handler)),
                        batch_size=100, backoff=Recording(base_s=0.5, cap_s=8, rng=random.Random(2)), idle_s=0.1)
    worker.start()
    try:
        status = worker.flush(30)
    finally:
        worker.stop()
    assert status.pending == 0 and status.stopped is None
    assert len(delays) == 5
    assert delays[1] >= 0.02  # 429's Retry-After is respected
    assert sorted(live.storage.event_ids(1)) == sorted(ids)
    assert all(e is not None for e in [status.last_success])


def test_backoff_is_exponential_with_full_jitter_and_capped() -> None:
    b = Backoff(base_s=1, cap_s=10, rng=random.Random(3))
    for attempt, ceiling in [(1, 1), (2, 2), (3, 4), (4, 8), (5, 10), (12, 10)]:
        samples = [b.delay(attempt) for _ in range(200)]
        assert all(0 <= s <= ceiling for s in samples)
        assert max(samples) > ceiling * 0.8 and min(samples) < ceiling * 0.2  # spread over [0, ceiling]
    assert b.delay(1, retry_after_s=7) >= 7


def test_a_bad_key_stops_sending_until_resumed_even_across_restarts(tmp_path: Path, live: Live) -> None:
    path = tmp_path / "c.db"
    with Store(path) as store:
        fill(store, 10)
        worker = SyncWorker(store, lambda: SyncClient(live.url, "vsk_wrong"), backoff=fast(), idle_s=0.05)
        worker.start()
        try:
            status = worker.flush(10)
        finally:
            worker.stop()
        assert status.stopped is not None and "401" in status.stopped
        assert status.pending == 10
    with Store(path) as store:  # restart: still stopped, nothing sent, nothing lost
        worker = SyncWorker(store, lambda: SyncClient(live.url, live.key), backoff=fast(), idle_s=0.05)
        assert worker.status().stopped is not None
        worker.start()
        try:
            assert worker.flush(0.5).pending == 10
            worker.resume()
            status = worker.flush(10)
        finally:
            worker.stop()
        assert status.pending == 0 and status.stopped is None
    assert live.storage.count_events() == 10


def test_a_rejected_batch_is_a_permanent_error(store: Store, live: Live) -> None:
    store.outbox.queue_message_events(True)
    store.outbox.add("Not A Valid Kind!")  # the server's schema refuses it: 422
    worker = SyncWorker(store, lambda: SyncClient(live.url, live.key), backoff=fast(), idle_s=0.05)
    worker.start()
    try:
        status = worker.flush(10)
    finally:
        worker.stop()
    assert status.stopped is not None and "422" in status.stopped and status.pending == 1


def test_status_does_not_wait_for_the_network(store: Store) -> None:
    """status() answers from memory and the local database while a send hangs on a dead server."""
    import socket
    import threading
    import time

    fill(store, 5)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)  # accepts connections, never answers
    port = listener.getsockname()[1]
    worker = SyncWorker(store, lambda: SyncClient(f"http://127.0.0.1:{port}", "k", timeout_s=5), backoff=fast())
    worker.start()
    try:
        time.sleep(0.3)
        done = threading.Event()
        threading.Thread(target=lambda: (worker.status(), done.set()), daemon=True).start()
        assert done.wait(2.0), "status() blocked while the worker waited for the server"
    finally:
        listener.close()
        worker.stop(timeout_s=10)
