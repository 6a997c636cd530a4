"""Search stays relevant-first on a large history, and short prefixes (search-as-you-type) find words.

A word in more than ``app.store.search.RANKED`` messages is ranked among its newest matches by the
store's own BM25; the tests lower that bound so a few dozen messages take the same path as a common
word in a history of a million (bench/search.py measures the speed).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlite_utils import Database

from app.store import Store, search
from app.store.schema import migrate


def conversation_of(store: Store, *texts: str) -> int:
    cid = store.create_conversation()
    for text in texts:
        store.add_message(cid, "user", text)
    return cid


def texts_of(store: Store, query: str, limit: int = 50) -> list[str]:
    hits = store.search(query, limit=limit)
    by_id = {m.id: m.text for h in hits for m in store.get_conversation(h.conversation_id).messages}
    return [by_id[h.message_id] for h in hits]


@pytest.fixture
def coffee(store: Store) -> Store:
    """30 messages that all say "coffee": once in a long message, several times in a short one, or in between."""
    cid = store.create_conversation("Mornings")
    for i in range(30):
        times = 1 + (i * 7) % 4
        filler = " ".join(f"word{i}x{j}" for j in range(3 + (i * 5) % 17))
        store.add_message(cid, "user", " ".join(["coffee"] * times) + " " + filler)
    return store


def test_the_bounded_ranking_orders_like_fts5_bm25(coffee: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    exact = coffee.search("coffee")  # 30 matches, under the bound: FTS5's bm25 ranks them all
    monkeypatch.setattr(search, "RANKED", 30)  # now "coffee" counts as common: the store ranks the 30 newest
    bounded = coffee.search("coffee")

    assert len(exact) == 30
    assert [h.message_id for h in bounded] == [h.message_id for h in exact]
    assert [h.snippet for h in bounded] == [h.snippet for h in exact]


def test_a_common_word_puts_the_short_message_that_repeats_it_first(store: Store,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search, "RANKED", 10)
    conversation_of(store, *[f"the plan for day {i} is to walk along the long river and see what is there"
                             for i in range(12)],
                    "plan plan plan", "a long message that names the plan only once among many other words to read")

    assert texts_of(store, "plan", limit=3)[0] == "plan plan plan"
    assert texts_of(store, "pla", limit=3)[0] == "plan plan plan"  # the same while the word is being typed


def test_two_words_rank_the_message_holding_the_rarer_one_more_often_first(store: Store,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search, "RANKED", 5)
    conversation_of(store, *[f"tea with milk number {i} and some more tea talk today" for i in range(20)],
                    "tea with honey honey", "tea tea tea with honey")

    assert texts_of(store, "tea honey") == ["tea with honey honey", "tea tea tea with honey"]


def test_the_bounded_path_leaves_out_deleted_and_replaced_messages(store: Store,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search, "RANKED", 4)
    kept = conversation_of(store, *[f"rain again {i}" for i in range(6)])
    store.delete_conversation(conversation_of(store, "rain in the bin"))
    first = store.add_message(kept, "user", "rain that was replaced")
    store.add_message(kept, "user", "rain that replaced it", supersede_from=first)

    found = texts_of(store, "rain")
    assert "rain in the bin" not in found and "rain that was replaced" not in found
    assert "rain that replaced it" in found and len(found) == 4


@pytest.mark.parametrize(("typed", "expected"), [
    ("z", "[Zürich]"), ("zu", "[Zürich]"), ("zür", "[Zürich]"), ("fu", "[funicular]"), ("pro", "[promenade]"),
    ("lake pr", "[lake] [promenade]"), ("funic", "[funicular]"),
])
def test_short_prefixes_find_words_while_they_are_typed(store: Store, typed: str, expected: str) -> None:
    cid = store.create_conversation("Zürich weekend")
    store.add_message(cid, "user", "Plan a weekend in Zürich for me")
    store.add_message(cid, "assistant", "Sure! Take the funicular and visit the lake promenade.")

    assert any(expected in h.snippet for h in store.search(typed)), [h.snippet for h in store.search(typed)]


def test_the_prefix_index_migration_indexes_what_an_older_database_holds(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    old = Database(sqlite3.connect(db_path))
    migrate(old, stop_before="009_search_prefix_index")
    old.execute("INSERT INTO conversations (id, title, created_at, updated_at) VALUES (3, 'Harbour trip', ?, ?)",
                ["2025-01-01T00:00:00+00:00", "2025-01-01T00:00:00+00:00"])
    old.execute("INSERT INTO messages (conversation_id, role, text, created_at)"
                " VALUES (3, 'user', 'the harmonica by the harbour', '2025-01-01T00:00:00+00:00')")
    old.conn.commit()
    old.close()

    with Store(db_path) as store:
        assert [h.snippet for h in store.search("ha")] == ["the [harmonica] by the [harbour]"]
        assert [h.snippet for h in store.search("trip")] == ["Harbour [trip]"]
        store.add_message(3, "assistant", "a harp as well")
        assert len(store.search("har")) == 2
