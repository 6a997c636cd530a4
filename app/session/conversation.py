"""The open conversation: its id in the store and the history the model sees, kept by the session.

The session hands both to its :class:`~app.core.pipeline.Pipeline`, which appends each finished turn to the
history it was given and sets the id when a first message creates the conversation; :meth:`Conversation.adopt`
takes them back when a turn finishes. (The pipeline still writes its own copy: making this object its only
writer needs a change to ``app/core/pipeline.py``, a later step of issue 12 part 1.) Qt-free.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from engines.base import ChatMessage

if TYPE_CHECKING:
    from app.core.pipeline import Pipeline
    from app.store.records import Conversation as StoredConversation


def chat_history(messages: Iterable[tuple[str, str]]) -> list[ChatMessage]:
    """The user and assistant turns of ``(role, text)`` pairs, as the model sees them (empty ones left out)."""
    return [
        ChatMessage(role, text)  # type: ignore[arg-type]
        for role, text in messages
        if role in ("user", "assistant") and text
    ]


class Conversation:
    """The conversation the next turn belongs to (``id`` None until its first message is stored)."""

    def __init__(self) -> None:
        self.id: int | None = None
        self.history: list[ChatMessage] = []

    def clear(self, pipeline: Pipeline | None) -> None:
        """Start a new conversation, in the pipeline too."""
        self.id = None
        self.history = []
        if pipeline is not None:
            pipeline.conversation_id = None
            pipeline.history = []

    def open(self, conversation_id: int, stored: StoredConversation, pipeline: Pipeline | None) -> None:
        """Continue the stored conversation ``conversation_id``, in the pipeline too."""
        self.id = conversation_id
        self.history = [
            ChatMessage(m.role, m.text)  # type: ignore[arg-type]
            for m in stored.messages
            if m.role in ("user", "assistant")
        ]
        if pipeline is not None:
            pipeline.conversation_id = conversation_id
            pipeline.history = list(self.history)

    def adopt(self, pipeline: Pipeline) -> None:
        """Take the id and history back from the pipeline after a turn."""
        self.id = pipeline.conversation_id
        self.history = pipeline.history
