"""The sync outbox: usage events waiting for the remote API, stored in the same database as the history.

An event is written IN THE SAME TRANSACTION as the change that caused it (``enqueue`` takes the
open transaction's ``db``), so a saved message always has its event and a rolled-back one never
does: :meth:`Outbox.queue_message_events` registers a write hook on the ``Database`` that the
conversation repository runs inside the transaction of each saved message (it knows nothing of sync).
The sync worker (``app.sync.worker``) reads batches in order, sends them and deletes what the server
acknowledged; nothing is deleted before that, so events survive crashes and restarts.

Privacy: payloads carry counts, roles, flags and timings — never message or draft text. ``enqueue``
refuses string values longer than :data:`MAX_STRING` as a guard against text slipping in.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.core.errors import ConfigError
from app.store.db import Database, Handle, HasDatabase, now_iso
from app.store.records import MessageSaved

#: longest string value an event payload may carry (ids, roles, content types — not text)
MAX_STRING = 64
#: event kinds the store itself produces
MESSAGE_EVENT = "message"
TURN_EVENT = "turn"
#: the name of the outbox's write hook on the database
MESSAGE_EVENTS_HOOK = "outbox.message_events"

Scalar = str | int | float | bool | None


@dataclass(frozen=True)
class OutboxEvent:
    """One pending event. ``payload`` holds ``props`` (flat scalars) and optionally ``latency_ms``."""

    id: int
    event_id: str
    kind: str
    payload: dict[str, Any]
    created_at: str
    attempts: int


def clean_props(props: Mapping[str, Any]) -> dict[str, Scalar]:
    """Flat, JSON-safe scalar properties; raises ConfigError for anything that could be content."""
    out: dict[str, Scalar] = {}
    for key, value in props.items():
        if not isinstance(key, str) or not key or len(key) > MAX_STRING:
            raise ConfigError(f"Event property name {key!r} is not allowed.", hint="Use a short identifier.")
        if isinstance(value, float) and not math.isfinite(value):
            continue
        if isinstance(value, str) and len(value) > MAX_STRING:
            raise ConfigError(
                f"Event property {key!r} holds {len(value)} characters; events never carry text.",
                hint="Send a count or a category instead of the text itself.",
            )
        if value is not None and not isinstance(value, str | int | float | bool):
            raise ConfigError(f"Event property {key!r} must be a number, flag or short string.",
                              hint="Flatten it to scalars.")
        out[key] = value
    return out


def enqueue(
    db: Handle,
    kind: str,
    props: Mapping[str, Any] | None = None,
    *,
    created_at: str,
    latency_ms: float | None = None,
    event_id: str | None = None,
) -> str:
    """Add one event inside the caller's open transaction; returns its event id (a fresh UUID)."""
    payload: dict[str, Any] = {"props": clean_props(props or {})}
    if latency_ms is not None and math.isfinite(latency_ms) and latency_ms >= 0:
        payload["latency_ms"] = round(float(latency_ms), 3)
    eid = event_id or uuid.uuid4().hex
    db.execute(
        "INSERT INTO outbox (event_id, kind, payload, created_at) VALUES (?, ?, ?, ?)",
        [eid, kind, json.dumps(payload, sort_keys=True, allow_nan=False), created_at],
    )
    return eid


def message_event(
    role: str, interrupted: bool, timings: Mapping[str, float]
) -> tuple[str, dict[str, Any], float | None]:
    """(kind, props, latency_ms) for a saved message: role, flags and stage timings, no text."""
    props: dict[str, Any] = {"role": role, "interrupted": bool(interrupted)}
    for stage, seconds in timings.items():
        props[f"t_{stage}"[:MAX_STRING]] = float(seconds)
    latency = None
    for key in ("first_audio_s", "first_token_s", "reply_done_s"):
        if key in timings:
            latency = float(timings[key]) * 1000
            break
    return (TURN_EVENT if role == "assistant" else MESSAGE_EVENT), props, latency


def queue_message_event(db: Handle, saved: MessageSaved) -> None:
    """The write hook: a usage event (role, flags, timings; no text) in the transaction that saved ``saved``."""
    kind, props, latency_ms = message_event(saved.role, saved.interrupted, saved.timings)
    enqueue(db, kind, props, created_at=saved.created_at, latency_ms=latency_ms)


class Outbox:
    """The outbox and the sync state of one database, sharing its connection, lock and transactions."""

    def __init__(self, database: HasDatabase) -> None:
        self._database: Database = database.database

    def queue_message_events(self, enabled: bool) -> None:
        """With ``enabled``, each saved message queues a usage event (no text) in its own transaction; off by
        default (opt-in sync with analytics sharing turns it on). Lasts while the database is open."""
        self._database.set_write_hook(MESSAGE_EVENTS_HOOK, queue_message_event if enabled else None)

    def add(self, kind: str, props: Mapping[str, Any] | None = None, *, latency_ms: float | None = None) -> str:
        """Queue an event on its own (for changes that have no row of their own, e.g. a CLI action)."""
        with self._database.writing("queue a sync event") as db:
            return enqueue(db, kind, props, created_at=now_iso(), latency_ms=latency_ms)

    def pending(self, limit: int = 100) -> list[OutboxEvent]:
        """The oldest events not yet acknowledged by the server, in the order they happened."""
        with self._database.reading("read the sync outbox") as db:
            rows = db.execute(
                "SELECT id, event_id, kind, payload, created_at, attempts FROM outbox ORDER BY id LIMIT ?", [limit]
            ).fetchall()
        return [OutboxEvent(r[0], r[1], r[2], json.loads(r[3] or "{}"), r[4], r[5]) for r in rows]

    def count(self) -> int:
        with self._database.reading("count the sync outbox") as db:
            return int(db.execute("SELECT count(*) FROM outbox").fetchone()[0])

    def acknowledge(self, event_ids: list[str]) -> int:
        """Delete events the server has stored; returns how many were removed."""
        if not event_ids:
            return 0
        removed = 0
        with self._database.writing("acknowledge sent sync events") as db:
            for start in range(0, len(event_ids), 500):
                chunk = event_ids[start : start + 500]
                marks = ", ".join("?" for _ in chunk)
                cur = db.execute(f"DELETE FROM outbox WHERE event_id IN ({marks})", chunk)
                removed += max(cur.rowcount, 0)
        return removed

    def record_failure(self, event_ids: list[str], error: str) -> None:
        if not event_ids:
            return
        with self._database.writing("note a failed sync attempt") as db:
            marks = ", ".join("?" for _ in event_ids)
            db.execute(
                f"UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE event_id IN ({marks})",
                [error[:500], *event_ids],
            )

    def clear(self) -> int:
        """Drop every pending event (the user turned analytics off and asked to discard them)."""
        with self._database.writing("clear the sync outbox") as db:
            cur = db.execute("DELETE FROM outbox")
            return max(cur.rowcount, 0)

    # -- small key/value state (client id, last success, last error) ---------------------------

    def get_state(self, key: str) -> str | None:
        with self._database.reading("read the sync state") as db:
            row = db.execute("SELECT value FROM sync_state WHERE key = ?", [key]).fetchone()
        return None if row is None else str(row[0])

    def set_state(self, key: str, value: str | None) -> None:
        with self._database.writing("save the sync state") as db:
            if value is None:
                db.execute("DELETE FROM sync_state WHERE key = ?", [key])
            else:
                db.execute(
                    "INSERT INTO sync_state (key, value, updated_at) VALUES (?, ?, ?)"
                    " ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                    [key, value, now_iso()],
                )

    def client_id(self) -> str:
        """An anonymous id for this installation (random, created once, never derived from the user)."""
        with self._database.writing("create the client id") as db:
            db.execute(
                "INSERT OR IGNORE INTO sync_state (key, value, updated_at) VALUES ('client_id', ?, ?)",
                ["c-" + uuid.uuid4().hex[:16], now_iso()],
            )
            return str(db.execute("SELECT value FROM sync_state WHERE key = 'client_id'").fetchone()[0])
