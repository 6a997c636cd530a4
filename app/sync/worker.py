"""The sync worker: a background thread that drains the outbox to the server, batch by batch.

- Batches go out oldest first, with an ``Idempotency-Key`` derived from their event ids; the server
  also ignores any event id it already has, so a batch re-sent after a crash, a timeout or a dropped
  connection is never counted twice. Events leave the outbox only once the server acknowledged them.
- Network errors, timeouts, 429 and 5xx are retried with exponential backoff and full jitter
  (at least the server's Retry-After). Permanent errors (401, 403, 422, ...) stop the worker; the
  reason is kept (also across restarts) and shown by ``status()`` until ``resume()``.
- Nothing here runs on the UI thread: ``status()`` only reads memory and one COUNT, and
  ``on_status`` is called from the worker thread (a UI bridges it with a queued signal).
"""

from __future__ import annotations

import hashlib
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.core.errors import StorageError
from app.store.db import HasDatabase, now_iso
from app.store.outbox import Outbox, OutboxEvent
from app.sync.client import SyncClient
from app.sync.errors import SyncPermanent, SyncRetryable

log = logging.getLogger(__name__)

STATE_LAST_SUCCESS = "last_success"
STATE_LAST_ERROR = "last_error"
STATE_STOPPED = "stopped"


@dataclass(frozen=True)
class SyncStatus:
    """What a sync indicator shows."""

    running: bool
    pending: int
    last_success: str | None
    last_error: str | None
    stopped: str | None  # a permanent error: sending is paused until resume()
    next_retry_in_s: float | None
    sent_this_session: int


class Backoff:
    """Exponential backoff with full jitter: a delay uniform in [0, min(cap, base * 2**attempt)]."""

    def __init__(self, base_s: float = 0.5, cap_s: float = 60.0, rng: random.Random | None = None) -> None:
        self.base_s = base_s
        self.cap_s = cap_s
        self._rng = rng or random.Random()

    def delay(self, attempt: int, retry_after_s: float | None = None) -> float:
        ceiling = min(self.cap_s, self.base_s * (2 ** max(0, attempt - 1)))
        wait = self._rng.uniform(0, ceiling)
        if retry_after_s is not None:
            wait = max(wait, min(retry_after_s, self.cap_s * 5))
        return wait


def batch_key(event_ids: list[str]) -> str:
    return hashlib.sha256(",".join(event_ids).encode("ascii")).hexdigest()[:32]


def to_wire(event: OutboxEvent, client_id: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "event_id": event.event_id,
        "kind": event.kind,
        "occurred_at": event.created_at,
        "client_id": client_id,
        "props": event.payload.get("props", {}),
    }
    if event.payload.get("latency_ms") is not None:
        body["latency_ms"] = event.payload["latency_ms"]
    return body


class SyncWorker:
    def __init__(
        self,
        store: HasDatabase,
        client_factory: Callable[[], SyncClient],
        *,
        batch_size: int = 100,
        backoff: Backoff | None = None,
        idle_s: float = 30.0,
        on_status: Callable[[SyncStatus], None] | None = None,
    ) -> None:
        self.store = store
        self.outbox = Outbox(store)
        self._client_factory = client_factory
        self._client: SyncClient | None = None
        self.batch_size = batch_size
        self.backoff = backoff or Backoff()
        self.idle_s = idle_s
        self.on_status = on_status
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._attempt = 0
        self._next_retry_at: float | None = None
        self._sent = 0
        self._client_id: str | None = None

    # -- control (any thread) ---------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="visage-sync", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
        if self._client is not None:
            self._client.close()
            self._client = None

    def wake(self) -> None:
        """Send now (new events, the network came back) instead of waiting for the next round."""
        self._wake.set()

    def resume(self) -> None:
        """Clear a permanent error (after the user fixed the key or updated) and try again."""
        self.outbox.set_state(STATE_STOPPED, None)
        self._attempt = 0
        if self._client is not None:  # the key may have changed
            self._client.close()
            self._client = None
        self.wake()

    def status(self) -> SyncStatus:
        next_in = None if self._next_retry_at is None else max(0.0, self._next_retry_at - time.monotonic())
        return SyncStatus(
            running=self._thread is not None and self._thread.is_alive(),
            pending=self.outbox.count(),
            last_success=self.outbox.get_state(STATE_LAST_SUCCESS),
            last_error=self.outbox.get_state(STATE_LAST_ERROR),
            stopped=self.outbox.get_state(STATE_STOPPED),
            next_retry_in_s=next_in,
            sent_this_session=self._sent,
        )

    def flush(self, timeout_s: float) -> SyncStatus:
        """Wait (bounded) until the outbox is empty or sending stopped; for the CLI and tests, not the UI."""
        deadline = time.monotonic() + timeout_s
        self.wake()
        while time.monotonic() < deadline:
            st = self.status()
            if st.pending == 0 or st.stopped or not st.running:
                return st
            time.sleep(0.05)
        return self.status()

    # -- sending ----------------------------------------------------------------------------------

    def send_once(self) -> int:
        """Send one batch; returns how many events the server acknowledged (0: nothing pending)."""
        events = self.outbox.pending(self.batch_size)
        if not events:
            return 0
        if self._client_id is None:
            self._client_id = self.outbox.client_id()
        if self._client is None:
            self._client = self._client_factory()
        ids = [e.event_id for e in events]
        try:
            answer = self._client.send_events([to_wire(e, self._client_id) for e in events],
                                              idempotency_key=batch_key(ids))
        except (SyncRetryable, SyncPermanent) as err:
            self.outbox.record_failure(ids, err.message)
            raise
        # the server has them: record the success before the outbox empties, so whoever sees "0 pending"
        # (flush, the status line) also sees when it last succeeded
        self.outbox.set_state(STATE_LAST_SUCCESS, now_iso())
        self.outbox.acknowledge(ids)
        self._sent += len(ids)
        log.debug("sync: sent %d events (%s new, %s already there)", len(ids), answer.get("accepted"),
                  answer.get("duplicates"))
        return len(ids)

    def _run(self) -> None:
        log.info("sync worker started")
        while not self._stop.is_set():
            if self.outbox.get_state(STATE_STOPPED):
                self._notify()
                self._wait(self.idle_s)
                continue
            self._wake.clear()  # a wake() from here on (new events) is kept for the wait below
            try:
                sent = self.send_once()
            except SyncRetryable as err:
                self._attempt += 1
                delay = self.backoff.delay(self._attempt, err.retry_after_s)
                self._next_retry_at = time.monotonic() + delay
                self.outbox.set_state(STATE_LAST_ERROR, err.message)
                log.info("sync: %s; retry %d in %.2f s", err.message, self._attempt, delay)
                self._notify()
                self._stop.wait(delay)  # backoff is not cut short by wake(): new events do not hammer a sick server
                continue
            except SyncPermanent as err:
                self.outbox.set_state(STATE_STOPPED, err.message)
                self.outbox.set_state(STATE_LAST_ERROR, err.message)
                log.warning("sync stopped: %s", err.message)
                self._notify()
                continue
            except StorageError as err:
                log.warning("sync: cannot read the outbox: %s", err.message)
                self._stop.wait(self.backoff.delay(3))
                continue
            except Exception:  # never let the thread die silently
                log.exception("sync worker: unexpected error")
                self._stop.wait(self.backoff.delay(3))
                continue
            self._attempt = 0
            self._next_retry_at = None
            if sent:
                self._notify()
            if sent < self.batch_size:
                self._wait(self.idle_s)
        log.info("sync worker stopped")

    def _wait(self, seconds: float) -> None:
        self._wake.wait(seconds)

    def _notify(self) -> None:
        if self.on_status is None:
            return
        try:
            self.on_status(self.status())
        except Exception:
            log.exception("sync status callback failed")

