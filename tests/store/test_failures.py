"""Places Visage cannot write to, a full disk and damaged files give a StorageError that says what to do.

Tests run as root, for whom permission bits mean nothing, so unwritable places are simulated with a
path under a regular file, SQLite's ``query_only`` and ``max_page_count`` (a database that cannot grow
behaves like a full disk).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from app.core.errors import StorageError
from app.store import Store

_DATA_HINT = "VISAGE_DATA_DIR"


def test_a_data_folder_under_a_regular_file_is_refused_with_a_hint(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("I am a file")

    with pytest.raises(StorageError) as err:
        Store(blocker / "visage" / "visage.db")
    with pytest.raises(StorageError):
        Store.open_default(blocker)

    assert "--data-dir" in str(err.value) and _DATA_HINT in str(err.value)
    assert blocker.read_text() == "I am a file"


def test_a_folder_where_the_database_should_be_is_refused(tmp_path: Path) -> None:
    (tmp_path / "visage.db").mkdir()
    with pytest.raises(StorageError, match="folder"):
        Store(tmp_path / "visage.db")


def test_a_file_that_is_not_sqlite_is_reported_and_left_untouched(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    garbage = b"These are my notes, not a database.\n" * 200
    db_path.write_bytes(garbage)

    with pytest.raises(StorageError) as err:
        Store(db_path)

    assert "not a readable Visage database" in str(err.value)
    assert str(db_path) in str(err.value) and _DATA_HINT in str(err.value)
    assert db_path.read_bytes() == garbage


def test_a_damaged_database_raises_storage_errors_not_sqlite_errors(db_path: Path) -> None:
    with Store(db_path) as store:
        cid = store.create_conversation("fine")
        for i in range(200):
            store.add_message(cid, "user", f"message number {i} " + "padding " * 20)
    raw = bytearray(db_path.read_bytes())
    page = 4096
    raw[page : len(raw)] = b"\xde\xad\xbe\xef" * ((len(raw) - page) // 4)
    db_path.write_bytes(bytes(raw))

    with pytest.raises(StorageError, match="damaged"):
        store = Store(db_path)
        store.get_conversation(cid)
        store.search("message")


def test_a_read_only_database_refuses_writes_and_saves_nothing(store: Store) -> None:
    cid = store.create_conversation()
    store.add_message(cid, "user", "before")
    with store.database.reading("make the database read-only") as db:
        db.execute("PRAGMA query_only = ON")  # what a read-only medium looks like to SQLite

    with pytest.raises(StorageError) as err:
        store.add_message(cid, "assistant", "never stored")

    assert _DATA_HINT in str(err.value)
    with store.database.reading("make the database writable") as db:
        db.execute("PRAGMA query_only = OFF")
    assert [m.text for m in store.get_conversation(cid).messages] == ["before"]


def test_a_full_disk_raises_and_leaves_no_partial_row(store: Store, db_path: Path) -> None:
    cid = store.create_conversation()  # untitled: a saved user message would name it
    store.add_message(cid, "assistant", "Hello, how can I help?")
    before = store.get_conversation(cid)
    with store.database.reading("fill the disk") as db:
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        db.execute(f"PRAGMA max_page_count = {pages}")

    huge = "zeppelin " + "lorem ipsum dolor " * 20_000
    with pytest.raises(StorageError) as err:
        store.add_message(cid, "user", huge)

    assert "full" in str(err.value) and "Free some disk space" in str(err.value)
    after = store.get_conversation(cid)
    assert after == before  # no message, no title, no newer updated_at
    assert store.search("zeppelin") == []
    other = sqlite3.connect(db_path)  # and nothing half-written reached the file
    assert other.execute("SELECT count(*) FROM messages").fetchone()[0] == 1
    other.close()

    with store.database.reading("free the disk") as db:
        db.execute("PRAGMA max_page_count = 1073741823")  # space freed: the store works again
    store.add_message(cid, "user", "zeppelin rides")
    assert [h.snippet for h in store.search("zeppelin")] == ["[zeppelin] rides"]
