"""The small frozen records the store hands out. Plain data: no database handle inside."""

from __future__ import annotations

from dataclasses import dataclass, field

ROLES: frozenset[str] = frozenset({"user", "assistant", "system"})


@dataclass(frozen=True)
class StoredMessage:
    """One message as saved. ``created_at`` is ISO-8601 UTC; ``timings`` maps a stage name to seconds."""

    id: int
    conversation_id: int
    role: str
    text: str
    created_at: str
    interrupted: bool
    timings: dict[str, float]
    turn_id: str | None
    #: a reply saved while it streamed whose end was never saved (Visage stopped or crashed mid-reply)
    incomplete: bool = False


@dataclass(frozen=True)
class ConversationSummary:
    """A conversation as listed: no messages, just their count."""

    id: int
    title: str
    created_at: str
    updated_at: str
    message_count: int
    pinned: bool


@dataclass(frozen=True)
class Conversation:
    """A conversation with all its messages, oldest first."""

    id: int
    title: str
    created_at: str
    updated_at: str
    message_count: int
    pinned: bool
    messages: list[StoredMessage] = field(default_factory=list)


@dataclass(frozen=True)
class SearchHit:
    """One search result. ``snippet`` holds the matching words wrapped in ``[`` and ``]``.

    A hit on a conversation's title (and none of its messages) points at the conversation's first
    message and carries the highlighted title as its snippet.
    """

    message_id: int
    conversation_id: int
    conversation_title: str
    role: str
    snippet: str
    created_at: str


@dataclass(frozen=True)
class MessageSaved:
    """A message that reached its final form (a streamed reply: once complete), for the database's write hooks.

    Carries what the conversation repository knows, with no idea of who listens (sync turns it into a
    usage event without the text).
    """

    conversation_id: int
    message_id: int
    role: str
    interrupted: bool
    timings: dict[str, float]
    created_at: str
