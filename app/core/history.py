"""The open conversation as the pipeline sees it: its id in the store and the messages the model is given.

One :class:`ConversationState` per conversation front end, created by its owner (the desktop session's
:class:`app.session.conversation.Conversation`, or the CLI) and handed to the
:class:`~app.core.pipeline.Pipeline`, which only calls :meth:`ConversationState.created` (a first message
stored a new conversation) and :meth:`ConversationState.append` (a finished turn). The owner switches it with
:meth:`~ConversationState.open`, :meth:`~ConversationState.reset` and :meth:`~ConversationState.replace`.
Nobody else keeps a copy of the id or the messages. Used from the core loop only (no lock). Qt-free.
"""

from __future__ import annotations

from collections.abc import Iterable

from engines.base import ChatMessage


class ConversationState:
    """The conversation the next turn belongs to: ``id`` None until its first message is stored."""

    def __init__(self, conversation_id: int | None = None, messages: Iterable[ChatMessage] = ()) -> None:
        self._id = conversation_id
        self._messages: list[ChatMessage] = list(messages)

    @property
    def id(self) -> int | None:
        """The conversation's id in the store (None for a new one, until its first message is stored)."""
        return self._id

    @property
    def messages(self) -> tuple[ChatMessage, ...]:
        """Every message so far, oldest first (a snapshot: change it through the methods)."""
        return tuple(self._messages)

    def recent(self, count: int) -> list[ChatMessage]:
        """The last ``count`` messages that have words, oldest first (the LLM's context)."""
        return [m for m in self._messages[-count:] if m.content] if count > 0 else []

    def created(self, conversation_id: int) -> None:
        """The first message created conversation ``conversation_id`` in the store."""
        self._id = conversation_id

    def append(self, *messages: ChatMessage) -> None:
        """A finished turn's messages (the user's words and the reply as heard)."""
        self._messages.extend(messages)

    def replace(self, messages: Iterable[ChatMessage]) -> None:
        """The model sees only ``messages`` before the next turn (regenerate, edit and resend); same id."""
        self._messages = list(messages)

    def reset(self) -> None:
        """A new conversation: no id, no messages."""
        self._id = None
        self._messages = []

    def open(self, conversation_id: int, messages: Iterable[ChatMessage]) -> None:
        """Continue the stored conversation ``conversation_id`` whose messages so far are ``messages``."""
        self._id = conversation_id
        self._messages = list(messages)

    def __repr__(self) -> str:
        return f"ConversationState(id={self._id!r}, messages={len(self._messages)})"
