"""Request metrics for ``/v11/performance-stats``: counts, error rates and latency percentiles per route.

Counts are exact since the server started; latency percentiles come from the last
:data:`WINDOW` requests of each route (a bounded window keeps memory flat).
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

WINDOW = 10_000


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0-100) by linear interpolation between closest ranks; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    if len(ordered) == 1:
        return float(ordered[0])
    pos = (len(ordered) - 1) * q / 100.0
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return float(ordered[low] + (ordered[high] - ordered[low]) * (pos - low))


@dataclass
class _Route:
    count: int = 0
    client_errors: int = 0
    server_errors: int = 0
    rate_limited: int = 0
    latencies_ms: deque[float] = field(default_factory=lambda: deque(maxlen=WINDOW))


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._routes: dict[str, _Route] = {}
        self.started = time.time()

    def record(self, route: str, status: int, seconds: float) -> None:
        with self._lock:
            r = self._routes.setdefault(route, _Route())
            r.count += 1
            if status == 429:
                r.rate_limited += 1
            if 400 <= status < 500:
                r.client_errors += 1
            elif status >= 500:
                r.server_errors += 1
            r.latencies_ms.append(seconds * 1000.0)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            routes = {name: (r.count, r.client_errors, r.server_errors, r.rate_limited, list(r.latencies_ms))
                      for name, r in self._routes.items()}
        out: dict[str, Any] = {}
        total = errors = 0
        for name, (count, c4, c5, limited, lat) in sorted(routes.items()):
            total += count
            errors += c4 + c5
            out[name] = {
                "requests": count,
                "client_errors": c4,
                "server_errors": c5,
                "rate_limited": limited,
                "error_rate": round((c4 + c5) / count, 4) if count else 0.0,
                "latency_ms": {f"p{q}": _round(percentile(lat, q)) for q in (50, 95, 99)},
            }
        return {
            "uptime_s": round(time.time() - self.started, 1),
            "requests": total,
            "error_rate": round(errors / total, 4) if total else 0.0,
            "routes": out,
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
