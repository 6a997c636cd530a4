"""``Idempotency-Key`` for ``/generate`` and ``/batch-generate``: a retried request gets the first answer.

The first request with a key claims it (a row with no response yet), runs, and stores its response;
a repeat with the same key and the same body waits for that response and gets it back unchanged
(nothing is generated again); a repeat with another body is refused (422). A claim whose request
failed is released, so a retry runs again; a claim left by a killed process is taken over after
``stale_s``. Keys are per API key and route, remembered for ``ttl_s``.

:class:`MemoryIdempotency` serves one process (SQLite); :class:`PostgresIdempotency` keeps the keys in
``idempotency_keys`` for every worker on every machine.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from psycopg.types.json import Jsonb

from server.db import Database

#: longest Idempotency-Key accepted
MAX_KEY_CHARS = 200
#: the in-memory store drops expired keys once it holds more than this many
PRUNE_ABOVE = 10_000


class IdempotencyConflict(Exception):
    """The key was used before with a different request body."""


class IdempotencyPending(Exception):
    """The first request with this key is still running (the client should retry later)."""


@dataclass(frozen=True)
class Claim:
    """``replay`` is the stored response of an earlier request; None: this request runs and must ``finish``."""

    key_id: int
    route: str
    idem_key: str
    replay: Any | None = None


class Idempotency(Protocol):
    def claim(self, key_id: int, route: str, idem_key: str, body: Any) -> Claim: ...
    def finish(self, claim: Claim, response: Any) -> None: ...
    def release(self, claim: Claim) -> None: ...


def request_hash(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode("utf-8")).hexdigest()


class MemoryIdempotency:
    def __init__(self, ttl_s: float, *, wait_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s, self.wait_s, self._clock = ttl_s, wait_s, clock
        self._rows: dict[tuple[int, str, str], tuple[str, Any | None, float]] = {}
        self._changed = threading.Condition()

    def claim(self, key_id: int, route: str, idem_key: str, body: Any) -> Claim:
        digest, slot = request_hash(body), (key_id, route, idem_key)
        deadline = self._clock() + self.wait_s
        with self._changed:
            if len(self._rows) > PRUNE_ABOVE:
                now = self._clock()
                for stale in [k for k, row in self._rows.items() if row[2] <= now]:
                    del self._rows[stale]
            while True:
                row = self._rows.get(slot)
                if row is None or row[2] <= self._clock():
                    self._rows[slot] = (digest, None, self._clock() + self.ttl_s)
                    return Claim(key_id, route, idem_key)
                if row[0] != digest:
                    raise IdempotencyConflict
                if row[1] is not None:
                    return Claim(key_id, route, idem_key, replay=row[1])
                left = deadline - self._clock()
                if left <= 0:
                    raise IdempotencyPending
                self._changed.wait(min(left, 0.5))

    def finish(self, claim: Claim, response: Any) -> None:
        with self._changed:
            slot = (claim.key_id, claim.route, claim.idem_key)
            digest = self._rows[slot][0]
            self._rows[slot] = (digest, response, self._clock() + self.ttl_s)
            self._changed.notify_all()

    def release(self, claim: Claim) -> None:
        with self._changed:
            self._rows.pop((claim.key_id, claim.route, claim.idem_key), None)
            self._changed.notify_all()


class PostgresIdempotency:
    """``stale_s``: a claim with no response after this long belongs to a dead process and is taken over."""

    def __init__(self, db: Database, ttl_s: float, *, wait_s: float, stale_s: float, poll_s: float = 0.1) -> None:
        self.db, self.ttl_s, self.wait_s, self.stale_s, self.poll_s = db, ttl_s, wait_s, stale_s, poll_s

    def claim(self, key_id: int, route: str, idem_key: str, body: Any) -> Claim:
        digest = request_hash(body)
        deadline = time.monotonic() + self.wait_s
        where = "key_id = %s AND route = %s AND idem_key = %s"
        slot = [key_id, route, idem_key]
        while True:
            with self.db.connection() as conn:
                conn.execute(f"DELETE FROM idempotency_keys WHERE {where} AND (expires_at <= now()"
                             " OR (response IS NULL AND created_at < now() - make_interval(secs => %s)))",
                             [*slot, self.stale_s])
                taken = conn.execute(
                    "INSERT INTO idempotency_keys (key_id, route, idem_key, request_hash, expires_at)"
                    " VALUES (%s, %s, %s, %s, now() + make_interval(secs => %s)) ON CONFLICT DO NOTHING",
                    [*slot, digest, self.ttl_s]).rowcount
                if taken:
                    return Claim(key_id, route, idem_key)
                row = conn.execute(f"SELECT request_hash, response FROM idempotency_keys WHERE {where}",
                                   slot).fetchone()
            if row is None:
                continue  # released or expired meanwhile: claim it
            if row[0] != digest:
                raise IdempotencyConflict
            if row[1] is not None:
                return Claim(key_id, route, idem_key, replay=row[1])
            if time.monotonic() >= deadline:
                raise IdempotencyPending
            time.sleep(self.poll_s)

    def finish(self, claim: Claim, response: Any) -> None:
        with self.db.connection() as conn:
            conn.execute("UPDATE idempotency_keys SET response = %s, expires_at = now() + make_interval(secs => %s)"
                         " WHERE key_id = %s AND route = %s AND idem_key = %s",
                         [Jsonb(response), self.ttl_s, claim.key_id, claim.route, claim.idem_key])

    def release(self, claim: Claim) -> None:
        with self.db.connection() as conn:
            conn.execute("DELETE FROM idempotency_keys WHERE key_id = %s AND route = %s AND idem_key = %s"
                         " AND response IS NULL", [claim.key_id, claim.route, claim.idem_key])
