"""Per-key rate limiting: a token bucket per API key (``burst`` at once, then ``per_minute``).

:class:`RateLimiter` keeps the buckets in memory (one process, SQLite). :class:`PostgresRateLimiter`
keeps them in one row per key, updated by one atomic upsert with the database's clock, so the limit
holds in total across every worker on every machine.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Protocol

from server.db import Database


class Limiter(Protocol):
    def acquire(self, key_id: int) -> float:
        """Take one token; returns 0 when allowed, else the seconds until a token is available."""
        ...


def retry_after_header(wait_s: float) -> str:
    return str(max(1, math.ceil(wait_s)))


class RateLimiter:
    retry_after_header = staticmethod(retry_after_header)

    def __init__(self, per_minute: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self._clock = clock
        self._buckets: dict[int, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def acquire(self, key_id: int) -> float:
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.get(key_id, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[key_id] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key_id] = (tokens, now)
            return (1.0 - tokens) / self.rate


# The refilled level of the stored bucket, at the statement's time (now()).
_LEVEL = "least(%(burst)s, b.tokens + greatest(0, extract(epoch FROM now() - b.updated_at)) * %(rate)s)"
_ACQUIRE = f"""
INSERT INTO rate_buckets AS b (key_id, tokens, allowed, updated_at)
VALUES (%(key)s, %(burst)s - 1, true, now())
ON CONFLICT (key_id) DO UPDATE SET
    allowed = {_LEVEL} >= 1,
    tokens = {_LEVEL} - CASE WHEN {_LEVEL} >= 1 THEN 1 ELSE 0 END,
    updated_at = now()
RETURNING allowed, tokens
"""


class PostgresRateLimiter:
    """The same bucket in ``rate_buckets``: the row lock of the upsert serialises concurrent requests."""

    retry_after_header = staticmethod(retry_after_header)

    def __init__(self, db: Database, per_minute: float, burst: int) -> None:
        self.db = db
        self.rate = per_minute / 60.0
        self.burst = float(burst)

    def acquire(self, key_id: int) -> float:
        with self.db.connection() as conn:
            allowed, tokens = conn.execute(_ACQUIRE, {"key": key_id, "burst": self.burst,
                                                      "rate": self.rate}).fetchone()
        return 0.0 if allowed else (1.0 - float(tokens)) / self.rate
