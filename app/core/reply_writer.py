"""Where a turn's messages go: the store's narrow interface, and the writer that saves a reply while it streams."""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

from app.core.history import ConversationState
from app.core.turn import Turn
from app.core.workers import EngineWorker


class HistoryWriter(Protocol):
    """What the pipeline needs from the store: a conversation and complete messages."""

    def create_conversation(self, title: str | None = None) -> int: ...

    def add_message(
        self,
        conversation_id: int,
        role: str,
        text: str,
        *,
        interrupted: bool = False,
        timings: dict[str, float] | None = None,
        turn_id: str | None = None,
        supersede_from: int | None = None,
        incomplete: bool = False,
    ) -> int: ...

    def update_message(
        self,
        message_id: int,
        text: str,
        *,
        interrupted: bool = False,
        incomplete: bool = False,
        timings: dict[str, float] | None = None,
    ) -> None: ...


class ReplyWriter:
    """Saves a reply while it streams, in one row: created at the first sentence, rewritten at each later one
    (at most every ``every_s``), finished in place at the end. A crash keeps what the user already had."""

    every_s = 0.5

    def __init__(self, store: HistoryWriter, worker: EngineWorker, conversation: ConversationState, turn: Turn,
                 saving: asyncio.Future[int]) -> None:
        self.store = store
        self.worker = worker
        self.conversation = conversation
        self.turn = turn
        self.saving = saving
        self.message_id: int | None = None
        self._last = 0.0
        self._text = ""

    async def progress(self, text: str) -> None:
        text = text.strip()
        if not text or text == self._text or not self.turn.confirmed or self.turn.cancelled:
            return
        now = time.monotonic()
        if self.message_id is not None and now - self._last < self.every_s:
            return
        await self.saving  # the user's message first: the reply's row comes after it
        store, worker = self.store, self.worker
        if self.message_id is None:
            self.message_id = await worker.call(
                store.add_message, self.conversation.id, "assistant", text,
                interrupted=True, incomplete=True, turn_id=self.turn.turn_id,
            )
        else:
            await worker.call(store.update_message, self.message_id, text, interrupted=True, incomplete=True)
        self._last, self._text = now, text

    async def finish(self, text: str, *, interrupted: bool, timings: dict[str, float]) -> int:
        store, worker = self.store, self.worker
        if self.message_id is None:
            message_id: int = await worker.call(
                store.add_message, self.conversation.id, "assistant", text,
                interrupted=interrupted, timings=timings, turn_id=self.turn.turn_id,
            )
            return message_id
        await worker.call(store.update_message, self.message_id, text, interrupted=interrupted,
                          incomplete=False, timings=timings)
        return self.message_id
