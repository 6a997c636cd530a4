from __future__ import annotations

import json

import pytest

from app.core.errors import ConfigError, NotFoundError
from app.store import Store


@pytest.fixture
def two(store: Store) -> tuple[Store, int, int]:
    a = store.create_conversation()
    store.add_message(a, "user", "What is a *markdown* heading?")
    store.add_message(a, "assistant", "A line that starts with #, like\n# this", timings={"llm": 1.5})
    b = store.create_conversation("Café talk")
    store.add_message(b, "user", "Un café, s'il vous plaît")
    store.add_message(b, "assistant", "Voilà, votre", interrupted=True, turn_id="t9")
    return store, a, b


def test_markdown_contains_titles_and_every_message(two: tuple[Store, int, int]) -> None:
    store, a, b = two
    md = store.export(None, "md")

    assert "## What is a *markdown* heading?" in md
    assert "## Café talk" in md
    for convo_id in (a, b):
        for message in store.get_conversation(convo_id).messages:
            assert message.text in md
    assert "### You" in md and "### Assistant" in md
    assert "*interrupted*" in md
    assert md.index("What is a *markdown*") < md.index("Un café")  # oldest conversation first


def test_json_parses_back_to_the_same_conversations(two: tuple[Store, int, int]) -> None:
    store, a, b = two
    data = json.loads(store.export(None, "json"))

    assert data["format"] == "visage.history"
    exported = {c["id"]: c for c in data["conversations"]}
    assert set(exported) == {a, b}
    for convo_id in (a, b):
        convo = store.get_conversation(convo_id)
        assert exported[convo_id]["title"] == convo.title
        assert [m["text"] for m in exported[convo_id]["messages"]] == [m.text for m in convo.messages]
    cut = exported[b]["messages"][1]
    assert cut["interrupted"] is True and cut["turn_id"] == "t9"
    assert exported[a]["messages"][1]["timings"] == {"llm": 1.5}


def test_export_of_chosen_conversations_skips_the_rest(two: tuple[Store, int, int]) -> None:
    store, _a, b = two
    data = json.loads(store.export([b], "json"))
    assert [c["id"] for c in data["conversations"]] == [b]

    store.delete_conversation(b)
    assert "Café" not in store.export(None, "md")
    with pytest.raises(NotFoundError):
        store.export([b], "md")


def test_export_refuses_an_unknown_format(store: Store) -> None:
    with pytest.raises(ConfigError, match="md"):
        store.export(None, "pdf")  # type: ignore[arg-type]
