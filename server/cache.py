"""The generation response cache: keyed by the normalized brief (plus n, the voice and the model), in a
namespace per API key, entries expire after ``ttl_s``. One key never sees another's entries: not as a hit
(the ``cached`` flag), not in its statistics (``stats(namespace)``: that key's entries, hits and misses;
``stats()`` without a namespace, for admins, is the whole cache's).

:class:`ResponseCache` is an in-memory LRU (one process, SQLite); :class:`PostgresCache` keeps the
entries in ``response_cache`` so every worker on every machine sees the same ones. Values are JSON
(lists of variant dicts).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol

from psycopg.types.json import Jsonb

from server.db import Database


def _normalize(value: Any) -> Any:
    if isinstance(value, str):
        return " ".join(value.split())
    if isinstance(value, list):
        return [_normalize(v) for v in value]
    if isinstance(value, dict):
        return {k: _normalize(v) for k, v in value.items()}
    return value


def cache_key(brief: dict[str, Any], *, n: int, model: str, voice: dict[str, Any] | None = None) -> str:
    """Same brief → same key: whitespace collapsed, keyword/avoid order ignored, keys sorted."""
    norm = _normalize(brief)
    for unordered in ("keywords", "avoid"):
        if isinstance(norm.get(unordered), list):
            norm[unordered] = sorted(norm[unordered], key=str.casefold)
    blob = json.dumps({"brief": norm, "n": n, "model": model, "voice": _normalize(voice)}, sort_keys=True)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class Cache(Protocol):
    def get(self, namespace: int, key: str, *, count: bool = True) -> Any | None: ...
    def put(self, namespace: int, key: str, value: Any) -> None: ...
    def clear(self, namespace: int | None = None) -> int: ...
    def stats(self, namespace: int | None = None) -> dict[str, Any]: ...


def _stats(entries: int, max_entries: int, hits: int, misses: int) -> dict[str, Any]:
    lookups = hits + misses
    return {"entries": entries, "max_entries": max_entries, "hits": hits, "misses": misses,
            "hit_rate": round(hits / lookups, 4) if lookups else 0.0}


class ResponseCache:
    """A thread-safe LRU of generation results with expiry and hit/miss counters."""

    def __init__(self, max_entries: int, ttl_s: float = 86_400.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_entries = max_entries
        self.ttl_s = ttl_s
        self._clock = clock
        self._items: OrderedDict[tuple[int, str], tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        #: namespace -> [hits, misses]
        self._counts: dict[int, list[int]] = {}

    def get(self, namespace: int, key: str, *, count: bool = True) -> Any | None:
        """The cached value or None; ``count=False`` looks without touching the hit/miss counters."""
        with self._lock:
            counts = self._counts.setdefault(namespace, [0, 0])
            item = self._items.get((namespace, key))
            if item is not None and item[0] > self._clock():
                self._items.move_to_end((namespace, key))
                self.hits += 1
                counts[0] += 1
                return item[1]
            if item is not None:
                del self._items[(namespace, key)]
            if count:
                self.misses += 1
                counts[1] += 1
            return None

    def put(self, namespace: int, key: str, value: Any) -> None:
        if self.max_entries <= 0:
            return
        with self._lock:
            self._items[(namespace, key)] = (self._clock() + self.ttl_s, value)
            self._items.move_to_end((namespace, key))
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)

    def clear(self, namespace: int | None = None) -> int:
        with self._lock:
            doomed = [k for k in self._items if namespace is None or k[0] == namespace]
            for k in doomed:
                del self._items[k]
            return len(doomed)

    def stats(self, namespace: int | None = None) -> dict[str, Any]:
        with self._lock:
            now = self._clock()
            live = sum(1 for (ns, _), (expires, _) in self._items.items()
                       if expires > now and namespace in (None, ns))
            hits, misses = (self.hits, self.misses) if namespace is None else self._counts.get(namespace, [0, 0])
            return _stats(live, self.max_entries, hits, misses)


class PostgresCache:
    """The same cache in ``response_cache`` (expired rows are never returned and are pruned on write);
    hit and miss counters live in ``cache_counters`` so the hit rate is the whole deployment's (rows ``hits`` and
    ``misses``; ``hits:<namespace>`` and ``misses:<namespace>`` per key)."""

    def __init__(self, db: Database, max_entries: int, ttl_s: float = 86_400.0) -> None:
        self.db = db
        self.max_entries = max_entries
        self.ttl_s = ttl_s

    def _count(self, conn: Any, name: str, namespace: int) -> None:
        conn.execute("UPDATE cache_counters SET value = value + 1 WHERE name = %s", [name])
        conn.execute("INSERT INTO cache_counters (name, value) VALUES (%s, 1)"
                     " ON CONFLICT (name) DO UPDATE SET value = cache_counters.value + 1", [f"{name}:{namespace}"])

    def get(self, namespace: int, key: str, *, count: bool = True) -> Any | None:
        with self.db.connection() as conn:
            row = conn.execute("SELECT value FROM response_cache WHERE namespace = %s AND cache_key = %s"
                               " AND expires_at > now()", [namespace, key]).fetchone()
            if row is not None or count:
                self._count(conn, "hits" if row is not None else "misses", namespace)
        return None if row is None else row[0]

    def put(self, namespace: int, key: str, value: Any) -> None:
        if self.max_entries <= 0:
            return
        with self.db.tx() as cur:
            cur.execute(
                "INSERT INTO response_cache (namespace, cache_key, value, expires_at)"
                " VALUES (?, ?, ?, now() + make_interval(secs => ?))"
                " ON CONFLICT (namespace, cache_key) DO UPDATE SET value = excluded.value,"
                " created_at = now(), expires_at = excluded.expires_at",
                [namespace, key, Jsonb(value), self.ttl_s])
            cur.execute("DELETE FROM response_cache WHERE expires_at <= now()")
            cur.execute("DELETE FROM response_cache WHERE (namespace, cache_key) IN (SELECT namespace, cache_key"
                        " FROM response_cache ORDER BY created_at DESC OFFSET ?)", [self.max_entries])

    def clear(self, namespace: int | None = None) -> int:
        with self.db.tx() as cur:
            if namespace is None:
                cur.execute("DELETE FROM response_cache")
            else:
                cur.execute("DELETE FROM response_cache WHERE namespace = ?", [namespace])
            return cur.rowcount

    def stats(self, namespace: int | None = None) -> dict[str, Any]:
        suffix = "" if namespace is None else f":{namespace}"
        with self.db.tx() as cur:
            if namespace is None:
                entries = cur.execute("SELECT count(*) FROM response_cache WHERE expires_at > now()").fetchone()[0]
            else:
                entries = cur.execute("SELECT count(*) FROM response_cache WHERE expires_at > now()"
                                      " AND namespace = ?", [namespace]).fetchone()[0]
            counters = dict(cur.execute("SELECT name, value FROM cache_counters WHERE name IN (?, ?)",
                                        [f"hits{suffix}", f"misses{suffix}"]).fetchall())
        return _stats(int(entries), self.max_entries, int(counters.get(f"hits{suffix}", 0)),
                      int(counters.get(f"misses{suffix}", 0)))
