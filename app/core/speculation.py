"""A speculative voice turn, started when the user pauses: confirm it (the turn ended) or discard it."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from app.core.errors import AudioInputError, VisageError
from app.core.events import TurnFinished
from app.core.turn import Turn, TurnDiscarded

if TYPE_CHECKING:
    from app.core.pipeline import Pipeline

log = logging.getLogger(__name__)


class Speculation:
    """A speculative voice turn (see :meth:`Pipeline.speculate`): confirm it or discard it."""

    def __init__(self, pipeline: Pipeline, turn: Turn, task: asyncio.Future[TurnFinished]) -> None:
        self.pipeline = pipeline
        self.turn = turn
        self.task = task

    @property
    def transcript(self) -> str | None:
        """The words recognised so far (None until ASR is done)."""
        return self.turn.transcript

    @property
    def words_judged(self) -> bool:
        """Whether the LLM has said if the words are a finished sentence (:attr:`sentence_end`)."""
        return self.turn.words_judged

    @property
    def ready(self) -> bool:
        """Whether the reply could start now: its first audio synthesised (its first sentence, unspoken)."""
        return "reply_ready" in self.turn.marks

    @property
    def sentence_end(self) -> float | None:
        """The LLM's probability that the words so far end a sentence (None: it has no opinion)."""
        return self.turn.sentence_end

    def confirm(self, hangover_s: float | None = None) -> asyncio.Future[TurnFinished]:
        """The turn ended (after ``hangover_s`` of silence): play, save and show what was prepared."""
        if hangover_s is not None:
            self.turn.extra["vad_hangover_s"] = round(hangover_s, 3)
        self.pipeline._release(self.turn, finished=self.task.done())
        return self.task

    async def discard(self) -> None:
        self.pipeline._drop(self.turn)
        try:
            await self.task
        except (TurnDiscarded, AudioInputError, asyncio.CancelledError):
            pass
        except VisageError as err:
            log.info("discarded speculative turn %s ended with: %s", self.turn.turn_id, err)
