from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from app.core.errors import ConfigError, NotFoundError
from app.store import Store


def _rows(db_path: Path, sql: str) -> int:
    conn = sqlite3.connect(db_path)
    try:
        return int(conn.execute(sql).fetchone()[0])
    finally:
        conn.close()


def test_delete_hides_and_restore_brings_back(store: Store) -> None:
    keep = store.create_conversation("keep")
    store.add_message(keep, "user", "ordinary chat")
    gone = store.create_conversation()
    store.add_message(gone, "user", "secret pineapple recipe")
    store.add_message(gone, "assistant", "Here it is.")

    store.delete_conversation(gone)
    store.delete_conversation(gone)  # deleting twice is harmless

    assert [c.id for c in store.list_conversations()] == [keep]
    assert store.search("pineapple") == []
    assert store.latest_conversation_id() == keep
    with pytest.raises(NotFoundError, match="deleted"):
        store.get_conversation(gone)
    with pytest.raises(NotFoundError):
        store.add_message(gone, "user", "more")

    store.restore_conversation(gone)

    assert {c.id for c in store.list_conversations()} == {keep, gone}
    assert [m.text for m in store.get_conversation(gone).messages] == ["secret pineapple recipe", "Here it is."]
    assert [h.conversation_id for h in store.search("pineapple")] == [gone]


def test_purge_erases_only_what_is_in_the_trash_long_enough(store: Store, db_path: Path) -> None:
    keep = store.create_conversation()
    store.add_message(keep, "user", "stay")
    gone = store.create_conversation()
    store.add_message(gone, "user", "go away")
    store.delete_conversation(gone)

    assert store.purge_deleted(older_than_s=3600) == 0  # deleted just now: still undoable
    store.restore_conversation(gone)
    store.delete_conversation(gone)
    assert store.purge_deleted() == 1

    with pytest.raises(NotFoundError):
        store.restore_conversation(gone)
    assert _rows(db_path, "SELECT count(*) FROM messages") == 1
    assert _rows(db_path, "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'away'") == 0
    assert [m.text for m in store.get_conversation(keep).messages] == ["stay"]


def test_purge_refuses_a_negative_age(store: Store) -> None:
    with pytest.raises(ConfigError, match="seconds"):
        store.purge_deleted(-1)
