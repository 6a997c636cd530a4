"""The generation response cache: keyed by the normalized brief (plus n, the voice and the model)."""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from typing import Any


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


class ResponseCache:
    """A thread-safe LRU of generation results with hit/miss counters."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._items: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: str, *, count: bool = True) -> Any | None:
        """The cached value or None; ``count=False`` looks without touching the hit/miss counters."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                self.hits += 1
                return self._items[key]
            if count:
                self.misses += 1
            return None

    def put(self, key: str, value: Any) -> None:
        if self.max_entries <= 0:
            return
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)

    def clear(self) -> int:
        with self._lock:
            n = len(self._items)
            self._items.clear()
            return n

    def stats(self) -> dict[str, Any]:
        with self._lock:
            lookups = self.hits + self.misses
            return {
                "entries": len(self._items),
                "max_entries": self.max_entries,
                "hits": self.hits,
                "misses": self.misses,
                "hit_rate": round(self.hits / lookups, 4) if lookups else 0.0,
            }
