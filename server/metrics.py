"""Request metrics with prometheus-client: a counter per route and status, a latency histogram per route.

``/metrics`` (admin keys) exposes them in the Prometheus text format; ``/v11/performance-stats`` is
computed from the same numbers. With several worker processes (``run --workers N``) prometheus-client's
multiprocess mode is on (``PROMETHEUS_MULTIPROC_DIR``, set by ``python -m server run``): each process
writes its values to that folder and a scrape adds them up, so both endpoints describe the whole node
whichever worker answers. Percentiles are estimated from the histogram buckets (linear interpolation
inside a bucket, as Prometheus' ``histogram_quantile`` does), so they are as fine as the buckets.
"""

from __future__ import annotations

import math
import os
import time
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

#: latency buckets (seconds) of the request histogram
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
           300.0, math.inf)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


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


def bucket_quantile(buckets: Sequence[tuple[float, float]], q: float) -> float | None:
    """The ``q`` (0-1) quantile from cumulative ``(upper bound, count)`` buckets; None when empty."""
    if not buckets or buckets[-1][1] <= 0:
        return None
    rank = q * buckets[-1][1]
    lower, below = 0.0, 0.0
    for upper, count in buckets:
        if count >= rank:
            if math.isinf(upper):
                return lower  # beyond the last finite bucket: its bound is the best estimate
            inside = count - below
            return lower + (upper - lower) * ((rank - below) / inside if inside else 0.0)
        lower, below = upper, count
    return lower


class Metrics:
    def __init__(self) -> None:
        self.multiprocess = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        self.registry = CollectorRegistry()
        self.requests = Counter("visage_http_requests", "HTTP responses by route and status.",
                                ["route", "status"], registry=self.registry)
        self.latency = Histogram("visage_http_request_duration_seconds", "HTTP response latency by route.",
                                 ["route"], buckets=BUCKETS, registry=self.registry)
        self.started = time.time()

    def record(self, route: str, status: int, seconds: float) -> None:
        self.requests.labels(route=route, status=str(status)).inc()
        self.latency.labels(route=route).observe(seconds)

    def _collected(self) -> CollectorRegistry:
        if not self.multiprocess:
            return self.registry
        merged = CollectorRegistry()
        MultiProcessCollector(merged)
        return merged

    def exposition(self) -> bytes:
        return generate_latest(self._collected())

    def snapshot(self) -> dict[str, Any]:
        counts: dict[str, dict[int, float]] = defaultdict(lambda: defaultdict(float))
        buckets: dict[str, dict[float, float]] = defaultdict(lambda: defaultdict(float))
        for family in self._collected().collect():
            for sample in family.samples:
                route = sample.labels.get("route")
                if route is None:
                    continue
                if sample.name == "visage_http_requests_total":
                    counts[route][int(sample.labels["status"])] += sample.value
                elif sample.name == "visage_http_request_duration_seconds_bucket":
                    buckets[route][float(sample.labels["le"])] += sample.value
        out: dict[str, Any] = {}
        total = errors = 0
        for route in sorted(counts):
            by_status = counts[route]
            count = int(sum(by_status.values()))
            c4 = int(sum(v for s, v in by_status.items() if 400 <= s < 500))
            c5 = int(sum(v for s, v in by_status.items() if s >= 500))
            total += count
            errors += c4 + c5
            cumulative = sorted(buckets[route].items())
            out[route] = {
                "requests": count,
                "client_errors": c4,
                "server_errors": c5,
                "rate_limited": int(by_status.get(429, 0)),
                "error_rate": round((c4 + c5) / count, 4) if count else 0.0,
                "latency_ms": {f"p{q}": _ms(bucket_quantile(cumulative, q / 100)) for q in (50, 95, 99)},
            }
        return {
            "uptime_s": round(time.time() - self.started, 1),
            "requests": total,
            "error_rate": round(errors / total, 4) if total else 0.0,
            "latency_note": "percentiles estimated from histogram buckets",
            "routes": out,
        }


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000.0, 3)
