from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from app.core.errors import ConfigError, NotFoundError, StorageError
from app.store import Conversation, Store, StoredMessage
from app.store.history import UNTITLED


def test_messages_come_back_in_order_with_their_roles(store: Store) -> None:
    cid = store.create_conversation()
    store.add_message(cid, "system", "You are helpful.")
    store.add_message(cid, "user", "Hello!")
    store.add_message(cid, "assistant", "Hi, how can I help?")

    convo = store.get_conversation(cid)

    assert isinstance(convo, Conversation)
    assert [(m.role, m.text) for m in convo.messages] == [
        ("system", "You are helpful."),
        ("user", "Hello!"),
        ("assistant", "Hi, how can I help?"),
    ]
    assert convo.message_count == 3
    assert all(isinstance(m, StoredMessage) and m.conversation_id == cid for m in convo.messages)
    assert convo.messages[0].created_at.endswith("+00:00")


def test_listing_shows_counts_and_newest_first(store: Store) -> None:
    older = store.create_conversation("Older")
    newer = store.create_conversation("Newer")
    store.add_message(older, "user", "one")
    store.add_message(older, "assistant", "two")
    store.add_message(newer, "user", "three")  # updated last: on top

    listed = store.list_conversations()

    assert [(c.id, c.title, c.message_count) for c in listed] == [(newer, "Newer", 1), (older, "Older", 2)]
    assert store.latest_conversation_id() == newer
    assert [c.id for c in store.list_conversations(limit=1, offset=1)] == [older]


def test_an_empty_store_has_no_latest_conversation(store: Store) -> None:
    assert store.list_conversations() == []
    assert store.latest_conversation_id() is None


def test_title_comes_from_the_first_user_message(store: Store) -> None:
    cid = store.create_conversation()
    store.add_message(cid, "assistant", "Good morning! What can I do for you?")
    assert store.get_conversation(cid).title == UNTITLED  # an assistant greeting does not name it

    store.add_message(cid, "user", "  What's the\nweather like in Lisbon?  ")
    store.add_message(cid, "user", "And tomorrow?")

    assert store.get_conversation(cid).title == "What's the weather like in Lisbon?"


def test_a_long_first_message_gives_a_short_one_line_title(store: Store) -> None:
    cid = store.create_conversation()
    text = "Could you please write me a long and detailed plan for a three week trip through Portugal and Spain"
    store.add_message(cid, "user", text)

    title = store.get_conversation(cid).title

    assert title.endswith("…")
    assert 20 < len(title) <= 61
    assert text.startswith(title[:-1])


def test_a_given_or_renamed_title_is_kept(store: Store) -> None:
    named = store.create_conversation("Holiday plans")
    store.add_message(named, "user", "Where should we go?")
    assert store.get_conversation(named).title == "Holiday plans"

    store.rename_conversation(named, "  Summer\n2026  ")
    store.add_message(named, "user", "Somewhere warm")
    assert store.get_conversation(named).title == "Summer 2026"


def test_timings_interrupted_flag_and_turn_id_round_trip(db_path: Path) -> None:
    timings = {"asr": 0.41, "first_token": 0.12, "first_audio": 0.305}
    with Store(db_path) as store:
        cid = store.create_conversation()
        store.add_message(cid, "user", "Tell me a story", timings={"asr": 0.41}, turn_id="t-1")
        store.add_message(cid, "assistant", "Once upon a", interrupted=True, timings=timings, turn_id="t-1")
        store.add_message(cid, "assistant", "Done.")

    with Store(db_path) as reopened:  # it is on disk, not only in memory
        user, cut, plain = reopened.get_conversation(cid).messages

    assert cut.interrupted is True and cut.timings == timings and cut.turn_id == "t-1"
    assert user.interrupted is False and user.timings == {"asr": 0.41}
    assert plain.timings == {} and plain.turn_id is None and plain.interrupted is False


def test_a_message_is_visible_to_another_connection_as_soon_as_it_is_added(db_path: Path) -> None:
    with Store(db_path) as writer, Store(db_path) as reader:
        cid = writer.create_conversation()
        writer.add_message(cid, "user", "saved right away")
        assert [m.text for m in reader.get_conversation(cid).messages] == ["saved right away"]


def test_pinned_conversations_come_first(store: Store) -> None:
    a = store.create_conversation("a")
    b = store.create_conversation("b")
    c = store.create_conversation("c")
    store.set_pinned(a, True)

    assert [s.id for s in store.list_conversations()] == [a, c, b]
    assert store.list_conversations()[0].pinned is True

    store.set_pinned(a, False)
    assert [s.id for s in store.list_conversations()] == [c, b, a]


@pytest.mark.parametrize("missing", [0, 999])
def test_unknown_conversations_raise_not_found_with_a_hint(store: Store, missing: int) -> None:
    for call in (
        lambda: store.get_conversation(missing),
        lambda: store.add_message(missing, "user", "hi"),
        lambda: store.rename_conversation(missing, "x"),
        lambda: store.set_pinned(missing, True),
        lambda: store.delete_conversation(missing),
        lambda: store.restore_conversation(missing),
    ):
        with pytest.raises(NotFoundError, match=str(missing)) as err:
            call()
        assert err.value.hint
        assert err.value.exit_code == 8


def test_bad_arguments_raise_clear_errors_and_save_nothing(store: Store) -> None:
    cid = store.create_conversation()
    with pytest.raises(ConfigError, match="role"):
        store.add_message(cid, "robot", "beep")
    with pytest.raises(ConfigError, match="timings"):
        store.add_message(cid, "user", "hi", timings={"asr": float("nan")})
    with pytest.raises(ConfigError, match="timings"):
        store.add_message(cid, "user", "hi", timings={"asr": "fast"})  # type: ignore[dict-item]
    with pytest.raises(ConfigError, match="empty"):
        store.rename_conversation(cid, "   ")
    with pytest.raises(ConfigError):
        store.list_conversations(limit=-1)

    assert store.get_conversation(cid).messages == []


def test_a_closed_store_says_so(db_path: Path) -> None:
    store = Store(db_path)
    store.close()
    store.close()  # twice is fine
    with pytest.raises(StorageError, match="closed"):
        store.list_conversations()


def test_open_default_uses_the_data_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with Store.open_default(tmp_path / "explicit") as store:
        assert store.path == tmp_path / "explicit" / "visage.db"
    monkeypatch.setenv("VISAGE_DATA_DIR", str(tmp_path / "from-env"))
    with Store.open_default() as store:
        store.create_conversation("x")
    assert (tmp_path / "from-env" / "visage.db").is_file()


def test_regenerating_replaces_the_rest_of_the_conversation_and_keeps_it_out_of_sight(store: Store) -> None:
    cid = store.create_conversation()
    question = store.add_message(cid, "user", "Name a fruit.")
    store.add_message(cid, "assistant", "A kumquat.")
    store.add_message(cid, "user", "Why that one?")
    store.add_message(cid, "assistant", "It is small.")
    store.add_message(cid, "user", "Name a fruit.", supersede_from=question)
    store.add_message(cid, "assistant", "An apple.")
    conv = store.get_conversation(cid)
    assert [(m.role, m.text) for m in conv.messages] == [("user", "Name a fruit."), ("assistant", "An apple.")]
    assert conv.message_count == 2
    assert store.list_conversations()[0].message_count == 2
    assert store.search("kumquat") == [] and store.search("small") == []
    assert [hit.snippet for hit in store.search("apple")] == ["An [apple]."]
    assert "kumquat" not in store.export([cid], "md")


def test_a_replace_that_cannot_be_saved_leaves_the_old_conversation_whole(store: Store) -> None:
    cid = store.create_conversation()
    question = store.add_message(cid, "user", "Name a fruit.")
    store.add_message(cid, "assistant", "A kumquat.")
    with sqlite3.connect(store.path) as db:  # the insert of the new message fails inside the transaction
        db.execute("CREATE TRIGGER boom BEFORE INSERT ON messages WHEN new.text = 'boom'"
                   " BEGIN SELECT RAISE(ABORT, 'simulated failure'); END")
    with pytest.raises(StorageError):
        store.add_message(cid, "user", "boom", supersede_from=question)
    assert [m.text for m in store.get_conversation(cid).messages] == ["Name a fruit.", "A kumquat."]
    other = store.create_conversation()
    with pytest.raises(NotFoundError, match="not a current message"):
        store.add_message(other, "user", "Hijack.", supersede_from=question)
    assert store.get_conversation(other).messages == []
    assert [m.text for m in store.get_conversation(cid).messages] == ["Name a fruit.", "A kumquat."]
