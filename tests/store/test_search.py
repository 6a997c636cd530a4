from __future__ import annotations

import pytest

from app.store import SearchHit, Store
from app.store.fts import fts_query


@pytest.fixture
def filled(store: Store) -> Store:
    trip = store.create_conversation()
    store.add_message(trip, "user", "Plan a weekend in Zürich for me")
    store.add_message(trip, "assistant", "Sure! Take the funicular and visit the lake promenade.")
    misc = store.create_conversation("Odds and ends")
    store.add_message(misc, "user", "I don't like rainy mornings")
    store.add_message(misc, "assistant", "Cats AND dogs? It's raining 100% - bring an umbrella (really).")
    store.add_message(misc, "user", "東京の天気は? 日本語 works too")
    return store


def test_finds_words_in_user_and_assistant_messages_with_highlighting(filled: Store) -> None:
    user_hits = filled.search("weekend")
    assistant_hits = filled.search("funicular")

    assert [(h.role, h.snippet) for h in user_hits] == [("user", "Plan a [weekend] in Zürich for me")]
    assert len(assistant_hits) == 1
    hit = assistant_hits[0]
    assert isinstance(hit, SearchHit)
    assert hit.role == "assistant" and "[funicular]" in hit.snippet
    assert hit.conversation_title == "Plan a weekend in Zürich for me"
    convo = filled.get_conversation(hit.conversation_id)
    assert hit.message_id in [m.id for m in convo.messages]


def test_accents_are_optional_and_the_last_word_matches_as_a_prefix(filled: Store) -> None:
    assert [h.snippet for h in filled.search("zurich")] == ["Plan a weekend in [Zürich] for me"]
    assert [h.snippet for h in filled.search("lake prom")] == [
        "Sure! Take the funicular and visit the [lake] [promenade]."
    ]


def test_every_word_must_match(filled: Store) -> None:
    assert filled.search("lake umbrella") == []


def test_a_title_match_finds_a_conversation_whose_messages_do_not_say_it(filled: Store) -> None:
    hits = filled.search("odds")

    assert len(hits) == 1
    assert hits[0].conversation_title == "Odds and ends"
    assert hits[0].snippet == "[Odds] and ends"


@pytest.mark.parametrize(
    "query",
    [
        '"',
        "'",
        "don't",
        "?",
        "-",
        "- -x",
        "AND",
        "OR NOT",
        "NEAR(",
        "*",
        "a*b",
        "title:x",
        "((",
        ")",
        "^rain",
        "\\",
        "%_",
        "😀",
        "100%",
        "it's raining",
        '"unbalanced',
        "日本語",
        "",
        "   ",
        "cats AND dogs",
    ],
)
def test_any_text_is_a_valid_query(filled: Store, query: str) -> None:
    hits = filled.search(query)

    assert isinstance(hits, list)
    assert all("[" in h.snippet and "]" in h.snippet for h in hits)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("don't", "I [don't] like rainy mornings"),
        ("AND dogs", "Cats [AND] [dogs]?"),
        ("100%", "raining [100]%"),
        ("(really)", "([really])"),
        ("日本語", "[日本語]"),
    ],
)
def test_punctuation_and_keywords_are_searched_as_plain_words(filled: Store, query: str, expected: str) -> None:
    snippets = [h.snippet for h in filled.search(query)]
    assert any(expected in s for s in snippets), snippets


def test_limit_caps_the_number_of_hits(store: Store) -> None:
    cid = store.create_conversation("numbers")
    for i in range(10):
        store.add_message(cid, "user", f"repeat {i}")
    assert len(store.search("repeat", limit=3)) == 3
    assert len(store.search("repeat")) == 10


def test_fts_query_quotes_every_word() -> None:
    assert fts_query('say "hi" AND -bye') == '"say" """hi""" "AND" "-bye"*'
    assert fts_query("?? -- 😀") is None
