"""The LLM stage of a turn: tokens in, speakable sentences out, with the reply guard (loops, the spoken-length
cap, filler) and the reply text as the user will see it."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass

from app.core.events import Event, Sentence, Token
from app.core.reply_guard import ReplyGuard, Verdict
from app.core.splitter import SentenceSplitter
from app.core.turn import Turn
from app.core.workers import EngineWorker
from engines.base import LLM, ChatMessage

log = logging.getLogger(__name__)


@dataclass
class ReplyText:
    """The reply text as the user sees it, and why the reply guard ended it early ("" if it did not)."""

    text: str = ""
    stopped: str = ""


def without(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """``text`` with the character ranges in ``spans`` (skipped filler) taken out."""
    if not spans:
        return text
    out, at = [], 0
    for start, end in spans:
        out.append(text[at:start])
        at = max(at, end)
    out.append(text[at:])
    return "".join(out)


async def respond(
    turn: Turn, messages: list[ChatMessage], reply: ReplyText, *, llm: LLM, worker: EngineWorker,
    max_sentences: int | None, emit: Callable[[Event], None],
) -> AsyncIterator[Token | Sentence]:
    """LLM stage + splitter + reply guard: yields tokens and, as they complete, speakable sentences.

    ``reply`` collects the reply text as the user will see it: a sentence the guard stops at (a loop, the
    spoken-length cap) is cut from it, and filler it skips is left out. The guard ends the LLM through a
    cancel event of its own (linked to the turn's), so a guarded reply is complete, not interrupted.
    """
    splitter = SentenceSplitter()
    guard = ReplyGuard(max_sentences=max_sentences)
    stop = turn.linked_event()
    index = 0
    text = ""
    kept_until = 0  # how much of ``text`` the user gets: up to the end of the last sentence kept
    dropped: list[tuple[int, int]] = []

    def release(piece: str, start: int, end: int) -> Sentence | None:
        nonlocal index, kept_until
        verdict = guard.check(piece)
        if verdict is Verdict.STOP:
            reply.stopped = guard.reason
            log.info("turn %s: %s", turn.turn_id, guard.reason)
            stop.set()
            return None
        if verdict is Verdict.SKIP:
            dropped.append((start, end))
            kept_until = end
            return None
        kept_until = end
        turn.mark("first_sentence")
        sentence = Sentence(turn_id=turn.turn_id, text=piece, index=index)
        index += 1
        return sentence

    async for piece in worker.iterate(llm.stream, messages, cancel=stop):
        if turn.cancelled or stop.is_set():
            break
        turn.mark("first_token")
        text += piece
        reply.text = without(text, dropped)
        token = Token(turn_id=turn.turn_id, text=piece)
        emit(token)
        yield token
        start = splitter.consumed
        for released in splitter.feed(piece):
            end = splitter.consumed
            sentence = release(released, start, end)
            start = end
            if stop.is_set():
                break
            if sentence is not None:
                emit(sentence)
                yield sentence
    if not turn.cancelled and not stop.is_set():
        start = splitter.consumed
        for released in splitter.flush():
            sentence = release(released, start, len(text))
            if sentence is not None:
                emit(sentence)
                yield sentence
    reply.text = without(text[:kept_until] if reply.stopped else text, dropped)
