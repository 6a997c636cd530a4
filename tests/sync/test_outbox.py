"""The outbox: events are written in the same transaction as the message, carry no text, are off by
default and survive a restart."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.core.errors import ConfigError, NotFoundError
from app.store import Store
from app.store.outbox import clean_props


def test_off_by_default(store: Store) -> None:
    cid = store.create_conversation()
    store.add_message(cid, "user", "hello there")
    assert store.outbox.count() == 0


def test_a_saved_message_queues_one_event_without_its_text(store: Store) -> None:
    store.outbox.queue_message_events(True)
    cid = store.create_conversation()
    secret = "my bank password is hunter2"
    store.add_message(cid, "user", secret)
    store.add_message(cid, "assistant", "I will not repeat that.", timings={"first_audio_s": 0.8, "asr_s": 0.2},
                      interrupted=True)
    events = store.outbox.pending()
    assert [e.kind for e in events] == ["message", "turn"]
    turn = events[1].payload
    assert turn["latency_ms"] == 800.0
    assert turn["props"] == {"role": "assistant", "interrupted": True, "t_first_audio_s": 0.8, "t_asr_s": 0.2}
    raw = json.dumps([e.payload for e in events])
    assert "hunter2" not in raw and "repeat" not in raw
    assert len({e.event_id for e in events}) == 2


def test_no_event_when_the_message_is_not_saved(store: Store) -> None:
    store.outbox.queue_message_events(True)
    with pytest.raises(NotFoundError):
        store.add_message(999, "user", "to nowhere")
    with pytest.raises(ConfigError):
        store.add_message(store.create_conversation(), "robot", "bad role")
    assert store.outbox.count() == 0


def test_event_and_message_roll_back_together(store: Store) -> None:
    """A failure after the event row was written (inside the same transaction) leaves neither behind."""
    store.outbox.queue_message_events(True)
    cid = store.create_conversation()
    with store.database.writing("add a failing trigger") as db:
        db.execute("CREATE TRIGGER boom AFTER INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'disk full'); END")
    with pytest.raises(Exception, match="disk full"):
        store.add_message(cid, "user", "lost together")
    assert store.outbox.count() == 0
    assert store.get_conversation(cid).messages == []


def test_events_survive_a_restart_and_leave_only_when_acknowledged(tmp_path: Path) -> None:
    path = tmp_path / "v.db"
    with Store(path) as first:
        first.outbox.queue_message_events(True)
        cid = first.create_conversation()
        for i in range(5):
            first.add_message(cid, "user", f"m{i}")
        ids = [e.event_id for e in first.outbox.pending()]
    with Store(path) as second:
        assert [e.event_id for e in second.outbox.pending()] == ids
        assert second.outbox.acknowledge(ids[:2]) == 2
        assert second.outbox.count() == 3
        assert second.outbox.client_id() == second.outbox.client_id()


def test_props_refuse_text() -> None:
    with pytest.raises(ConfigError):
        clean_props({"text": "x" * 200})
    with pytest.raises(ConfigError):
        clean_props({"nested": {"a": 1}})
    assert clean_props({"n": 3, "ok": True, "nan": float("nan")}) == {"n": 3, "ok": True}


def test_turning_events_off_stops_queueing_them(store: Store) -> None:
    store.outbox.queue_message_events(True)
    cid = store.create_conversation()
    store.add_message(cid, "user", "counted")
    store.outbox.queue_message_events(False)
    store.add_message(cid, "user", "not counted")
    assert store.outbox.count() == 1
    assert len(store.get_conversation(cid).messages) == 2
