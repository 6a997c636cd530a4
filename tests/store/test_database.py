"""One Database, many repositories: each takes the database, and a write hook joins the saving transaction."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.store import Conversations, Database, Store
from app.store.db import Handle
from app.store.drafts import Drafts
from app.store.memory import Facts
from app.store.records import MessageSaved
from app.store.voices import Voices


def test_every_repository_works_on_one_database_and_a_reopened_store_sees_it(db_path: Path) -> None:
    with Database(db_path) as database:
        cid = Conversations(database).create_conversation()
        Conversations(database).add_message(cid, "user", "hello from the repository")
        draft = Drafts(database).create_draft(type_="ad", title="Cold brew", fields={}, text="Cold brew, made simple.")
        Facts(database).add("my name is Sam")
        Voices(database).save("Acme", {"tone": "warm"})

    with Store(db_path) as store:
        assert [m.text for m in store.get_conversation(cid).messages] == ["hello from the repository"]
        assert Drafts(store.database).get_draft(draft).text == "Cold brew, made simple."
        assert Facts(store.database).texts() == ["My name is Sam."]
        assert Voices(store.database).get("acme").data == {"tone": "warm"}


def test_a_failing_write_hook_leaves_no_message_behind(store: Store) -> None:
    heard: list[MessageSaved] = []

    def hook(db: Handle, saved: MessageSaved) -> None:
        heard.append(saved)
        if saved.role == "assistant":
            raise RuntimeError("the listener broke")

    store.database.set_write_hook("test", hook)
    cid = store.create_conversation()
    store.add_message(cid, "user", "kept")
    with pytest.raises(RuntimeError, match="listener broke"):
        store.add_message(cid, "assistant", "rolled back")

    assert [m.text for m in store.get_conversation(cid).messages] == ["kept"]
    assert [(h.conversation_id, h.role) for h in heard] == [(cid, "user"), (cid, "assistant")]


def test_a_streamed_reply_is_announced_once_when_it_is_complete(store: Store) -> None:
    heard: list[MessageSaved] = []
    store.database.set_write_hook("test", lambda db, saved: heard.append(saved))
    cid = store.create_conversation()
    mid = store.add_message(cid, "assistant", "Once upon", incomplete=True)
    store.update_message(mid, "Once upon a time", incomplete=True)
    assert heard == []
    store.update_message(mid, "Once upon a time, the end.", timings={"first_audio_s": 0.5})
    store.update_message(mid, "Once upon a time, the end.")  # already complete: not announced again
    assert [(h.message_id, h.timings) for h in heard] == [(mid, {"first_audio_s": 0.5})]
