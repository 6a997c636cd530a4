"""Local dashboard numbers from the local database only."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.core.errors import StorageError
from app.store import Store
from app.sync import LocalAnalytics


def test_turns_per_day_and_stage_percentiles(store: Store) -> None:
    cid = store.create_conversation()
    for i in range(1, 11):
        store.add_message(cid, "user", f"q{i}")
        store.add_message(cid, "assistant", f"a{i}", timings={"asr_s": i / 10, "first_audio_s": 1.0})
    stats = LocalAnalytics(store.path)
    days = stats.turns_per_day(7)
    assert len(days) == 7 and days[-1] == (datetime.now(UTC).date().isoformat(), 10)
    assert sum(n for _, n in days) == 10
    by_stage = {s.stage: s for s in stats.stage_latency(7)}
    assert by_stage["asr_s"].count == 10
    assert by_stage["asr_s"].p50_ms == pytest.approx(550.0)
    assert by_stage["asr_s"].p95_ms == pytest.approx(955.0)
    assert by_stage["first_audio_s"].mean_ms == 1000.0
    summary = stats.summary(7)
    assert summary["drafts_per_type"] == {} and summary["time_saved_minutes"] == 0


def test_drafts_per_type_and_time_saved(store: Store) -> None:
    now = datetime.now(UTC).isoformat()
    with store.database.writing("save drafts") as db:
        for kind in ("ad", "ad", "email"):
            db.execute("INSERT INTO drafts (type, title, created_at, updated_at) VALUES (?, 't', ?, ?)",
                       [kind, now, now])
    stats = LocalAnalytics(store.path)
    assert stats.drafts_per_type() == {"ad": 2, "email": 1}
    assert stats.time_saved_minutes(10) == 30


def test_a_missing_database_is_a_clear_error(tmp_path: object) -> None:
    from pathlib import Path

    with pytest.raises(StorageError):
        LocalAnalytics(Path(str(tmp_path)) / "nope.db").turns_per_day()
