from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlite_utils import Database

from app.store import Store
from app.store.schema import applied_names, migrate, migration_names


def test_a_database_created_at_the_first_migration_upgrades_and_keeps_its_data(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    old = Database(sqlite3.connect(db_path))
    migrate(old, stop_before=migration_names()[1])
    assert applied_names(old) == migration_names()[:1]
    assert "messages_fts" not in old.table_names()  # really the old schema
    old.execute(
        "INSERT INTO conversations (id, title, created_at, updated_at) VALUES (7, 'Old times', ?, ?)",
        ["2024-01-01T00:00:00.000000+00:00", "2024-01-01T00:00:00.000000+00:00"],
    )
    old.execute(
        "INSERT INTO messages (conversation_id, role, text, created_at, timings)"
        " VALUES (7, 'user', 'remember the harmonica', '2024-01-01T00:00:00.000000+00:00', '{\"asr\": 0.5}')"
    )
    old.conn.commit()
    old.close()

    with Store(db_path) as store:
        hits = store.search("harmonica")
        assert [(h.conversation_id, h.snippet) for h in hits] == [(7, "remember the [harmonica]")]
        assert [h.conversation_id for h in store.search("times")] == [7]  # titles indexed too
        assert store.get_conversation(7).messages[0].timings == {"asr": 0.5}
        new_id = store.create_conversation()
        store.add_message(new_id, "user", "and the harmonica again")
        assert len(store.search("harmonica")) == 2

    check = Database(sqlite3.connect(db_path))
    assert applied_names(check) == migration_names()
    check.close()


def test_opening_again_applies_nothing_twice(db_path: Path) -> None:
    Store(db_path).close()
    db = Database(sqlite3.connect(db_path))
    assert migrate(db) == []
    assert applied_names(db) == migration_names()
    db.close()


def test_the_database_uses_wal(store: Store, db_path: Path) -> None:
    conn = sqlite3.connect(db_path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()
