"""The open conversation has one holder (app.core.history.ConversationState), which the session's Conversation
owns and switches in place: the pipeline it was handed sees every switch without anything being copied."""

from __future__ import annotations

from app.core.history import ConversationState
from app.session.conversation import Conversation
from app.store.records import Conversation as StoredConversation
from app.store.records import StoredMessage
from engines.base import ChatMessage


def stored(conversation_id: int, *messages: tuple[str, str]) -> StoredConversation:
    now = "2026-01-01T00:00:00Z"
    return StoredConversation(
        id=conversation_id, title="t", created_at=now, updated_at=now, message_count=len(messages), pinned=False,
        messages=[StoredMessage(id=i, conversation_id=conversation_id, role=role, text=text, created_at=now,
                                interrupted=False, timings={}, turn_id=None)
                  for i, (role, text) in enumerate(messages, 1)],
    )


def test_the_session_switches_the_one_state_in_place() -> None:
    conversation = Conversation()
    state = conversation.state  # what the pipeline is handed
    conversation.open(7, stored(7, ("system", "x"), ("user", "Hi."), ("assistant", "Hello.")))
    assert conversation.state is state and state.id == 7 == conversation.id
    assert [(m.role, m.content) for m in state.messages] == [("user", "Hi."), ("assistant", "Hello.")]
    conversation.replace([("user", "Hi."), ("assistant", ""), ("tool", "x")])
    assert [(m.role, m.content) for m in conversation.history] == [("user", "Hi.")] and state.id == 7
    conversation.clear()
    assert conversation.state is state and state.id is None and state.messages == ()


def test_recent_messages_skip_empty_ones_and_the_snapshot_cannot_change_the_state() -> None:
    state = ConversationState(3, [ChatMessage("user", "a"), ChatMessage("assistant", "")])
    state.append(ChatMessage("user", "b"), ChatMessage("assistant", "c"))
    assert [m.content for m in state.recent(3)] == ["b", "c"]
    assert [m.content for m in state.recent(8)] == ["a", "b", "c"]
    assert isinstance(state.messages, tuple) and len(state.messages) == 4
    state.created(4)
    assert state.id == 4
