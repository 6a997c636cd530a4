"""The open conversation: its id in the store and the history the model sees, kept by the session.

:class:`Conversation` owns the one :class:`~app.core.history.ConversationState` of the session and hands
that same object to every :class:`~app.core.pipeline.Pipeline` it builds (again after a reload): the
pipeline sets the id when a first message creates the conversation and appends each finished turn; the
session opens, clears and replaces it here. Nobody copies the id or the messages back and forth. Qt-free.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from app.core.history import ConversationState
from engines.base import ChatMessage

if TYPE_CHECKING:
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

    def __init__(self, state: ConversationState | None = None) -> None:
        #: the state the session's pipeline is given (the same object for the session's whole life)
        self.state = state if state is not None else ConversationState()

    @property
    def id(self) -> int | None:
        return self.state.id

    @property
    def history(self) -> tuple[ChatMessage, ...]:
        """The messages the model sees before the next turn, oldest first."""
        return self.state.messages

    def clear(self) -> None:
        """Start a new conversation."""
        self.state.reset()

    def open(self, conversation_id: int, stored: StoredConversation) -> None:
        """Continue the stored conversation ``conversation_id``."""
        self.state.open(conversation_id, [
            ChatMessage(m.role, m.text)  # type: ignore[arg-type]
            for m in stored.messages
            if m.role in ("user", "assistant")
        ])

    def replace(self, context: Iterable[tuple[str, str]]) -> None:
        """The model sees only ``context`` ``(role, text)`` before the next turn (regenerate, edit and resend)."""
        self.state.replace(chat_history(context))
