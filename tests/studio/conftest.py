"""Fixtures for the copy studio: the real embedded LLM (loaded once), a store in a temp folder, and a
scripted chat LLM whose answers are fixed (for repair/ranking logic that must not depend on sampling)."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from app.store import Store
from app.store.drafts import DraftStore
from app.store.voices import VoiceStore
from engines.base import ChatMessage

DATA = Path(__file__).resolve().parents[1] / "data"
BRIEFS = DATA / "briefs"
VOICES = DATA / "voices"


class ScriptedChatLLM:
    """Answers ``chat`` with the given replies in turn (the last one repeats); records every call."""

    def __init__(self, *replies: str) -> None:
        self.replies = list(replies)
        self.calls: list[dict[str, Any]] = []

    def chat(self, messages: Sequence[ChatMessage], *, grammar: str | None = None,
             json_schema: dict[str, Any] | None = None, max_tokens: int | None = None,
             temperature: float | None = None, cancel: threading.Event | None = None) -> str:
        self.calls.append({"messages": list(messages), "json_schema": json_schema, "max_tokens": max_tokens,
                           "temperature": temperature})
        index = min(len(self.calls) - 1, len(self.replies) - 1)
        return self.replies[index]


@pytest.fixture(scope="session")
def real_llm() -> Any:
    """The shipped SmolLM2 through LlamaCppLLM, as `visage draft` uses a model (the studio's mechanics; the
    default model's copy quality is measured by bench/studio.py)."""
    from app.core.config import LLMSettings
    from engines.llm.llama_cpp import LlamaCppLLM
    from tests.model_choice import SMALL_LLM

    return LlamaCppLLM(LLMSettings(model=SMALL_LLM))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "data" / "visage.db") as opened:
        yield opened


@pytest.fixture
def drafts(store: Store) -> DraftStore:
    return DraftStore(store)


@pytest.fixture
def voices(store: Store) -> VoiceStore:
    return VoiceStore(store)
