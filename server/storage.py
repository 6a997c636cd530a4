"""Server storage: API keys (hashed) and analytics events, in SQLite (one process) or PostgreSQL.

Every write is one transaction. Events are idempotent by ``(key, event_id)`` and a batch is stored in one
``INSERT ... ON CONFLICT DO NOTHING`` statement. On PostgreSQL the columns are typed (``timestamptz``,
``date``, ``jsonb``) and latency percentiles are computed by the database (``percentile_cont``); SQLite
has no such aggregate, so there they are computed here from the stored samples.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from server.db import Database, StorageUnavailable
from server.metrics import percentile
from server.migrations import migrate, require_current

__all__ = ["KEY_PREFIX", "ApiKey", "EventRow", "LatencyStats", "Storage", "StorageUnavailable", "hash_key"]

log = logging.getLogger(__name__)

#: prefix of every API key, so a leaked one is easy to recognise in code and logs scanners
KEY_PREFIX = "vsk_"
#: SQLite: most latency samples read for the percentiles of one summary (PostgreSQL reads them all)
SQLITE_MAX_LATENCIES = 200_000
#: rows per INSERT on SQLite (its limit on bound parameters)
SQLITE_ROWS_PER_INSERT = 1000


@dataclass(frozen=True)
class ApiKey:
    id: int
    name: str
    prefix: str
    created_at: str
    revoked_at: str | None
    is_admin: bool = False


@dataclass(frozen=True)
class EventRow:
    event_id: str
    kind: str
    client_id: str
    user_id: str | None
    occurred_at: datetime
    latency_ms: float | None
    props: dict[str, Any]


@dataclass(frozen=True)
class LatencyStats:
    client_id: str
    user_id: str | None
    count: int
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None


def hash_key(secret: str) -> str:
    """SHA-256 of a key. Keys are 256-bit random tokens, so a fast hash is enough (no password to stretch)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def new_secret() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def _stamp(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat(timespec="microseconds") if isinstance(value, datetime) else str(value)


_KEY_COLUMNS = "id, name, prefix, created_at, revoked_at, is_admin"


def _key(row: Sequence[Any]) -> ApiKey:
    return ApiKey(int(row[0]), row[1], row[2], _stamp(row[3]) or "", _stamp(row[4]), bool(row[5]))


class Storage:
    """API keys and events. ``url``: ``sqlite:///path`` (``sqlite://`` alone: in memory) or ``postgresql://...``.

    A SQLite database is migrated when opened (it belongs to this process); a PostgreSQL one must have been
    migrated with ``python -m server migrate`` (:class:`~server.migrations.SchemaOutdated` otherwise).
    """

    def __init__(self, url: str, *, pool_size: int = 8, db: Database | None = None) -> None:
        self.url = url
        self.db = db or Database(url, pool_size=pool_size)
        self.backend = self.db.backend
        try:
            if self.db.postgres:
                require_current(self.db)
            else:
                migrate(self.db)
        except BaseException:
            if db is None:
                self.db.close()
            raise

    # -- plumbing -----------------------------------------------------------------------------------

    def _tx(self) -> Any:
        return self.db.tx()

    def ping(self) -> bool:
        return self.db.ping()

    def close(self) -> None:
        self.db.close()

    # -- keys ---------------------------------------------------------------------------------------

    def create_key(self, name: str, *, admin: bool = False) -> tuple[ApiKey, str]:
        """A new key; returns it and its secret, which is shown once and never stored."""
        secret = new_secret()
        stamp = datetime.now(UTC)
        prefix = secret[: len(KEY_PREFIX) + 6]
        with self._tx() as cur:
            if cur.execute("SELECT id FROM api_keys WHERE name = ?", [name]).fetchone() is not None:
                raise ValueError(f"A key named {name!r} exists already; choose another name or revoke it.")
            cur.execute(
                "INSERT INTO api_keys (name, prefix, key_hash, created_at, is_admin) VALUES (?, ?, ?, ?, ?)",
                [name, prefix, hash_key(secret), stamp if self.db.postgres else _stamp(stamp), admin],
            )
            key_id = int(cur.execute("SELECT id FROM api_keys WHERE name = ?", [name]).fetchone()[0])
        return ApiKey(key_id, name, prefix, _stamp(stamp) or "", None, admin), secret

    def find_key(self, secret: str) -> ApiKey | None:
        """The live key with this secret, or None (unknown or revoked)."""
        with self._tx() as cur:
            row = cur.execute(f"SELECT {_KEY_COLUMNS} FROM api_keys WHERE key_hash = ?", [hash_key(secret)]).fetchone()
        if row is None or row[4] is not None:
            return None
        return _key(row)

    def list_keys(self) -> list[ApiKey]:
        with self._tx() as cur:
            rows = cur.execute(f"SELECT {_KEY_COLUMNS} FROM api_keys ORDER BY id").fetchall()
        return [_key(r) for r in rows]

    def revoke_key(self, name: str) -> bool:
        now = datetime.now(UTC)
        with self._tx() as cur:
            cur.execute("UPDATE api_keys SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL",
                        [now if self.db.postgres else _stamp(now), name])
            return bool(cur.rowcount)

    # -- events -------------------------------------------------------------------------------------

    def add_events(self, key_id: int, events: Sequence[EventRow]) -> tuple[int, int]:
        """Store new events; returns (accepted, duplicates). Re-sent events are ignored, not doubled."""
        if not events:
            return 0, 0
        accepted = 0
        with self._tx() as cur:
            if self.db.postgres:
                cur.execute(
                    "INSERT INTO events (key_id, event_id, kind, client_id, user_id, occurred_at, day, latency_ms,"
                    " props) SELECT ?, e, k, c, u, o, o::date, l, p::jsonb"
                    " FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::timestamptz[],"
                    " ?::float8[], ?::text[]) AS t(e, k, c, u, o, l, p)"
                    " ON CONFLICT (key_id, event_id) DO NOTHING",
                    [key_id, [e.event_id for e in events], [e.kind for e in events],
                     [e.client_id for e in events], [e.user_id for e in events],
                     [e.occurred_at.astimezone(UTC) for e in events], [e.latency_ms for e in events],
                     [json.dumps(e.props, sort_keys=True) for e in events]],
                )
                accepted = max(cur.rowcount, 0)
            else:
                received = _stamp(datetime.now(UTC))
                for start in range(0, len(events), SQLITE_ROWS_PER_INSERT):
                    chunk = events[start:start + SQLITE_ROWS_PER_INSERT]
                    params: list[Any] = []
                    for ev in chunk:
                        occurred = ev.occurred_at.astimezone(UTC)
                        params += [key_id, ev.event_id, ev.kind, ev.client_id, ev.user_id, _stamp(occurred),
                                   occurred.date().isoformat(), ev.latency_ms, json.dumps(ev.props, sort_keys=True),
                                   received]
                    cur.execute(
                        "INSERT INTO events (key_id, event_id, kind, client_id, user_id, occurred_at, day,"
                        " latency_ms, props, received_at) VALUES "
                        + ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"] * len(chunk))
                        + " ON CONFLICT (key_id, event_id) DO NOTHING",
                        params,
                    )
                    accepted += max(cur.rowcount, 0)
        return accepted, len(events) - accepted

    def count_events(self, key_id: int | None = None) -> int:
        with self._tx() as cur:
            if key_id is None:
                return int(cur.execute("SELECT count(*) FROM events").fetchone()[0])
            return int(cur.execute("SELECT count(*) FROM events WHERE key_id = ?", [key_id]).fetchone()[0])

    def event_ids(self, key_id: int) -> list[str]:
        with self._tx() as cur:
            return [r[0] for r in cur.execute("SELECT event_id FROM events WHERE key_id = ? ORDER BY event_id",
                                              [key_id]).fetchall()]

    def summary(self, key_id: int, days: int, *, max_groups: int = 100) -> dict[str, Any]:
        """Per-day counts by kind, and latency percentiles of the ``max_groups`` busiest (client, user) pairs."""
        today = datetime.now(UTC).date()
        since = today - timedelta(days=days - 1)
        bounds: list[Any] = [key_id, since, today] if self.db.postgres else [key_id, since.isoformat(),
                                                                              today.isoformat()]
        window = "WHERE key_id = ? AND day >= ? AND day <= ?"
        with self._tx() as cur:
            per_day = [(_day(r[0]), r[1], int(r[2])) for r in cur.execute(
                f"SELECT day, kind, count(*) FROM events {window} GROUP BY day, kind ORDER BY day, kind",
                bounds).fetchall()]
            if self.db.postgres:
                rows = cur.execute(
                    "SELECT client_id, user_id, count(*),"
                    " percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms),"
                    " percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms),"
                    " percentile_cont(0.99) WITHIN GROUP (ORDER BY latency_ms)"
                    f" FROM events {window} AND latency_ms IS NOT NULL GROUP BY client_id, user_id"
                    " ORDER BY count(*) DESC, client_id, coalesce(user_id, '') LIMIT ?",
                    [*bounds, max_groups]).fetchall()
                latency = [LatencyStats(r[0], r[1], int(r[2]), _f(r[3]), _f(r[4]), _f(r[5])) for r in rows]
            else:
                samples = cur.execute(
                    f"SELECT client_id, user_id, latency_ms FROM events {window} AND latency_ms IS NOT NULL"
                    " ORDER BY occurred_at DESC LIMIT ?", [*bounds, SQLITE_MAX_LATENCIES]).fetchall()
                latency = _percentiles_here(samples, max_groups)
        return {"since": since.isoformat(), "per_day": per_day, "latency": latency}


def _day(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


def _f(value: Any) -> float | None:
    return None if value is None else float(value)


def _percentiles_here(samples: Sequence[Sequence[Any]], max_groups: int) -> list[LatencyStats]:
    groups: dict[tuple[str, str | None], list[float]] = defaultdict(list)
    for client_id, user_id, latency in samples:
        groups[(client_id, user_id)].append(float(latency))
    busiest = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0][0], kv[0][1] or ""))[:max_groups]
    return [LatencyStats(c, u, len(v), percentile(v, 50), percentile(v, 95), percentile(v, 99))
            for (c, u), v in busiest]
