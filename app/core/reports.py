"""What the running session reports to its owner, typed: the :class:`SessionListener` Protocol.

The session calls ``notify(name, payload)`` (:data:`Notify`, names limited to :data:`Report`, so a misspelt
name is a type error); :func:`deliver` turns each report into one call of the listener's method with the
payload's parts as typed arguments. The desktop's ``CoreBridge`` implements the Protocol (each method emits
its ``sig_*`` signal), so a report the bridge does not handle is a type error there too, not a log line.
Qt-free; ``tests/unit/test_reports.py`` checks that every name the session sends is a :data:`Report`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, Protocol, get_args, runtime_checkable

if TYPE_CHECKING:
    from app.core.events import TurnFinished
    from engines.base import AudioChunk

Report = Literal["state", "models", "ready", "failed", "audio", "transcript", "saved", "token", "chunk", "finished",
                 "notice", "conversations", "conversation", "search", "deleted", "hands_free", "error", "sync"]
REPORTS: frozenset[str] = frozenset(get_args(Report))
Notify = Callable[[Report, Any], None]


@runtime_checkable
class SessionListener(Protocol):
    """Everything the session tells its owner. Called on the core loop's thread: a Qt owner hands each report
    to the UI thread (queued signals)."""

    def on_state(self, state: str) -> None:
        """Visible state: loading / idle / listening / transcribing / thinking / speaking."""

    def on_models(self, done: int, total: int, what: str) -> None:
        """Model loading progress."""

    def on_ready(self, summary: str) -> None:
        """The models are loaded and warmed up; a one-line summary of the engines."""

    def on_failed(self, message: str) -> None:
        """The models could not be loaded: what is missing and the fix (text history still works)."""

    def on_audio(self, ok: bool, message: str) -> None:
        """Voice on (True) or off (False) and why."""

    def on_transcript(self, turn_id: str, text: str) -> None:
        """What the user said."""

    def on_saved(self, turn_id: str, message_id: int) -> None:
        """The user's message of a turn is stored (regenerate/edit need its id)."""

    def on_token(self, turn_id: str, text: str) -> None:
        """The next piece of the reply."""

    def on_chunk(self, chunk: AudioChunk, offset_s: float) -> None:
        """Speech queued on the speaker clock at ``offset_s`` (drives the avatar's mouth)."""

    def on_finished(self, event: TurnFinished) -> None:
        """The reply as heard, interrupted or not, and the per-stage timings."""

    def on_notice(self, level: str, message: str) -> None:
        """A fallback or problem the user must see."""

    def on_conversations(self, conversations: Any) -> None:
        """``list[ConversationSummary]``, pinned first."""

    def on_conversation(self, conversation: Any) -> None:
        """The conversation opened or changed (``app.store.records.Conversation``), or None: a new, empty one."""

    def on_search(self, query: str, hits: Any) -> None:
        """The hits (``list[SearchHit]``) for ``query``."""

    def on_deleted(self, conversation_id: int, title: str) -> None:
        """A conversation went to the trash; it can be restored."""

    def on_hands_free(self, on: bool) -> None:
        """Hands-free listening stopped by the core (the source ended or failed)."""

    def on_error(self, message: str) -> None:
        """Something failed; the message says what to do."""

    def on_sync(self, enabled: bool, status: Any) -> None:
        """The opt-in sync: on/off and its sender's ``SyncStatus`` (None when no sender runs)."""


def deliver(listener: SessionListener, name: Report, payload: Any) -> None:
    """Call the listener's method for one report (``payload`` as the session sends it, listed in :mod:`app.session`)."""
    match name:
        case "state":
            listener.on_state(payload)
        case "models":
            listener.on_models(*payload)
        case "ready":
            listener.on_ready(payload)
        case "failed":
            listener.on_failed(payload)
        case "audio":
            listener.on_audio(*payload)
        case "transcript":
            listener.on_transcript(*payload)
        case "saved":
            listener.on_saved(*payload)
        case "token":
            listener.on_token(*payload)
        case "chunk":
            listener.on_chunk(*payload)
        case "finished":
            listener.on_finished(payload)
        case "notice":
            listener.on_notice(*payload)
        case "conversations":
            listener.on_conversations(payload)
        case "conversation":
            listener.on_conversation(payload)
        case "search":
            listener.on_search(*payload)
        case "deleted":
            listener.on_deleted(*payload)
        case "hands_free":
            listener.on_hands_free(payload)
        case "error":
            listener.on_error(payload)
        case "sync":
            listener.on_sync(*payload)
        case _:
            raise ValueError(f"the session sent an unknown report {name!r}; add it to app.core.reports.Report")


def notifier(listener: SessionListener) -> Notify:
    """The session's ``notify`` callback for ``listener``."""
    return lambda name, payload: deliver(listener, name, payload)
