"""Long-term memory: facts kept, cleaned, bounded, undoable; and which messages ask to remember."""

from __future__ import annotations

import pytest

from app.core.errors import ConfigError
from app.core.memory import fact_to_remember, system_prompt
from app.store import Store
from app.store.memory import MAX_FACT_CHARS, MAX_FACTS, Facts


def test_facts_are_cleaned_kept_once_and_undoable(store: Store) -> None:
    memory = Facts(store.database)
    first = memory.add("  my name   is Sam ")
    assert first.text == "My name is Sam." and first.source == "user"
    assert memory.add("MY NAME IS SAM.").id == first.id  # the same fact is not kept twice
    said = memory.remember("I am allergic to peanuts")
    assert said == "I am allergic to peanuts."
    assert [(f.text, f.source) for f in memory.list()] == [("My name is Sam.", "user"),
                                                           ("I am allergic to peanuts.", "said")]
    memory.remove(first.id)
    assert memory.texts() == ["I am allergic to peanuts."]
    memory.restore(first.id)
    assert memory.texts() == ["My name is Sam.", "I am allergic to peanuts."]


def test_memory_is_bounded_so_it_fits_the_context(store: Store) -> None:
    memory = Facts(store.database)
    with pytest.raises(ConfigError, match=f"at most {MAX_FACT_CHARS} characters"):
        memory.add("x" * (MAX_FACT_CHARS + 1))
    for i in range(MAX_FACTS):
        memory.add(f"Fact number {i}")
    with pytest.raises(ConfigError, match="Memory is full") as full:
        memory.add("One too many")
    assert "Remove facts" in (full.value.hint or "")
    assert len(memory.list()) == MAX_FACTS


@pytest.mark.parametrize(("said", "fact"), [
    ("Remember that my name is Sam.", "my name is Sam"),
    ("Please remember my birthday is on May 3", "my birthday is on May 3"),
    ("Okay, remember that I am vegan.", "I am vegan"),
    ("remember: I like green tea", "I like green tea"),
    ("Don't forget I have a meeting at five", "I have a meeting at five"),
    ("Do you remember my name?", None),  # a question
    ("I remember that day well.", None),  # not a request
    ("Remember me", None),  # nothing to keep
    ("What is the capital of France?", None),
])
def test_which_messages_ask_to_remember(said: str, fact: str | None) -> None:
    assert fact_to_remember(said) == fact


def test_the_model_is_told_the_facts_after_the_persona() -> None:
    assert system_prompt("You are Visage.", []) == "You are Visage."
    assert system_prompt("You are Visage.", ["My name is Sam.", "I live in Lyon."]) == (
        "You are Visage.\n\nThe user told you earlier:\n- My name is Sam.\n- I live in Lyon.")
