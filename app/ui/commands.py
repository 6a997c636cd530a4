"""Commands the window sends to the core through :meth:`app.ui.bridge.CoreBridge.send`.

Small frozen dataclasses (the data flows one way; control comes back on this channel).
``context`` fields are ``(role, text)`` pairs: the conversation as the user sees it before a message.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.core.config import Settings


@dataclass(frozen=True, slots=True)
class SendText:
    text: str


@dataclass(frozen=True, slots=True)
class PressTalk:
    """Push-to-talk pressed (button held or Space down)."""


@dataclass(frozen=True, slots=True)
class ReleaseTalk:
    """Push-to-talk released: what was recorded becomes a voice turn."""


@dataclass(frozen=True, slots=True)
class SetHandsFree:
    on: bool


@dataclass(frozen=True, slots=True)
class Stop:
    """Esc: stop the current reply (and any read-aloud)."""


@dataclass(frozen=True, slots=True)
class NewConversation:
    pass


@dataclass(frozen=True, slots=True)
class OpenConversation:
    conversation_id: int


@dataclass(frozen=True, slots=True)
class RenameConversation:
    conversation_id: int
    title: str


@dataclass(frozen=True, slots=True)
class PinConversation:
    conversation_id: int
    pinned: bool


@dataclass(frozen=True, slots=True)
class DeleteConversation:
    conversation_id: int


@dataclass(frozen=True, slots=True)
class RestoreConversation:
    conversation_id: int


@dataclass(frozen=True, slots=True)
class Search:
    query: str


@dataclass(frozen=True, slots=True)
class Resend:
    """Regenerate a reply or send an edited message: ``text`` is answered with only ``context`` before it,
    and the stored message ``supersede_from`` and everything after it are replaced (None: nothing stored yet)."""

    context: tuple[tuple[str, str], ...]
    text: str
    supersede_from: int | None


@dataclass(frozen=True, slots=True)
class ReadAloud:
    text: str


@dataclass(frozen=True, slots=True)
class ApplySettings:
    settings: Settings


Command = (
    SendText | PressTalk | ReleaseTalk | SetHandsFree | Stop | NewConversation | OpenConversation
    | RenameConversation | PinConversation | DeleteConversation | RestoreConversation | Search | Resend
    | ReadAloud | ApplySettings
)
