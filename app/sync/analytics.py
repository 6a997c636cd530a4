"""Local usage numbers for a dashboard (Qt-free): computed from the local database only, never sent.

``LocalAnalytics(db_path)`` opens its own read-only connection (WAL lets it read while the app
writes), so a dashboard can refresh from any thread without touching the store's writer lock.

- ``turns_per_day(days)``: assistant replies per UTC day, zero-filled, oldest first
- ``stage_latency(days)``: p50/p95/mean per stage (ms) from the timings saved with each reply
- ``drafts_per_type()``: copy-studio drafts per content type (empty until the drafts table exists)
- ``time_saved_minutes()``: a stated estimate: drafts × minutes a person would take to write one
- ``summary()``: all of it as one JSON-ready dict
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from app.core.errors import StorageError

#: default assumption for time_saved_minutes (a short piece of marketing copy written by hand)
MINUTES_PER_DRAFT = 15.0


@dataclass(frozen=True)
class StageStats:
    stage: str
    count: int
    p50_ms: float
    p95_ms: float
    mean_ms: float


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated ``q``-th percentile (0-100) of a non-empty sequence."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return float(ordered[0])
    pos = (len(ordered) - 1) * q / 100.0
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return float(ordered[low] + (ordered[high] - ordered[low]) * (pos - low))


class LocalAnalytics:
    def __init__(self, db_path: Path, *, today: date | None = None) -> None:
        self.db_path = Path(db_path)
        self._today = today

    def _connect(self) -> sqlite3.Connection:
        if not self.db_path.exists():
            raise StorageError(f"There is no Visage database at {self.db_path}.",
                               hint="Use Visage once (or check --data-dir) so there is something to count.")
        try:
            return sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=5)
        except sqlite3.Error as err:
            raise StorageError(f"Cannot read {self.db_path}: {err}.", hint="Check the file's permissions.") from err

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        conn = self._connect()
        try:
            return [tuple(r) for r in conn.execute(sql, list(params)).fetchall()]
        except sqlite3.Error as err:
            raise StorageError(f"Cannot read usage numbers from {self.db_path}: {err}.",
                               hint="Open Visage once so the database is upgraded.") from err
        finally:
            conn.close()

    def _since(self, days: int) -> str:
        if days < 1:
            raise ValueError("days must be at least 1")
        today = self._today or datetime.now(UTC).date()
        return (today - timedelta(days=days - 1)).isoformat()

    def turns_per_day(self, days: int = 30) -> list[tuple[str, int]]:
        since = self._since(days)
        rows = self._query(
            "SELECT substr(created_at, 1, 10) AS day, count(*) FROM messages"
            " WHERE role = 'assistant' AND created_at >= ? GROUP BY day",
            [since],
        )
        counts = {day: int(n) for day, n in rows}
        start = date.fromisoformat(since)
        return [((start + timedelta(days=i)).isoformat(), counts.get((start + timedelta(days=i)).isoformat(), 0))
                for i in range(days)]

    def stage_latency(self, days: int = 30) -> list[StageStats]:
        """Per stage (``asr_s``, ``llm_first_token_s``, ``first_audio_s``...), in milliseconds."""
        rows = self._query(
            "SELECT timings FROM messages WHERE role = 'assistant' AND created_at >= ? AND timings != '{}'",
            [self._since(days)],
        )
        samples: dict[str, list[float]] = defaultdict(list)
        for (raw,) in rows:
            try:
                timings = json.loads(raw or "{}")
            except ValueError:
                continue
            for stage, seconds in timings.items():
                if isinstance(seconds, int | float) and math.isfinite(seconds) and seconds >= 0:
                    samples[stage].append(float(seconds) * 1000.0)
        return [
            StageStats(stage=stage, count=len(v), p50_ms=round(percentile(v, 50), 1),
                       p95_ms=round(percentile(v, 95), 1), mean_ms=round(sum(v) / len(v), 1))
            for stage, v in sorted(samples.items())
        ]

    def drafts_per_type(self) -> dict[str, int]:
        tables = {r[0] for r in self._query("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "drafts" not in tables:
            return {}
        rows = self._query("SELECT type, count(*) FROM drafts WHERE deleted_at IS NULL GROUP BY type ORDER BY type")
        return {str(t): int(n) for t, n in rows}

    def time_saved_minutes(self, minutes_per_draft: float = MINUTES_PER_DRAFT) -> float:
        """An estimate, not a measurement: drafts kept × ``minutes_per_draft``."""
        return round(sum(self.drafts_per_type().values()) * minutes_per_draft, 1)

    def summary(self, days: int = 30) -> dict[str, Any]:
        return {
            "days": days,
            "turns_per_day": [{"day": d, "turns": n} for d, n in self.turns_per_day(days)],
            "stage_latency_ms": [asdict(s) for s in self.stage_latency(days)],
            "drafts_per_type": self.drafts_per_type(),
            "time_saved_minutes": self.time_saved_minutes(),
            "time_saved_assumption": f"{MINUTES_PER_DRAFT:g} minutes per draft written by hand",
        }
