"""The voice pipeline: utterance -> transcript -> LLM tokens -> sentences -> speech -> sink, per Turn.

Runs on one asyncio loop (the core thread). Each engine is called from its own worker thread
(``app.core.workers``); the loop only moves small events. Stages are small coroutines composed in
data-flow order; a Turn's cancel event stops all of them (barge-in, Esc, Ctrl-C).

Listeners receive every event (``on_event``) on the loop thread; they must return quickly.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from app.core.audio_io import ASR_RATE, AudioSink, AudioSource
from app.core.config import Settings
from app.core.errors import AudioInputError, VisageError
from app.core.events import (
    Event,
    Notice,
    Sentence,
    SpeechChunk,
    SpeechEnded,
    SpeechStarted,
    Token,
    Transcript,
    TurnFinished,
    UserMessageSaved,
)
from app.core.memory import MemoryBook, fact_to_remember, system_prompt
from app.core.segmenter import Segmenter, SpeechStart, Utterance
from app.core.splitter import SentenceSplitter
from app.core.turn import Turn, heard_text
from app.core.workers import EngineWorker
from engines.base import ASR, LLM, TTS, VAD, ChatMessage

log = logging.getLogger(__name__)

#: How many earlier messages of the conversation go into the LLM's context.
CONTEXT_MESSAGES = 8


@dataclass
class Engines:
    llm: LLM
    asr: ASR | None = None
    tts: TTS | None = None
    vad: VAD | None = None


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
    ) -> int: ...


@dataclass
class _Spoken:
    """What a turn queued on the sink, as ``(text, start, end)`` on the sink's audible clock."""

    spans: list[tuple[str, float, float]] = field(default_factory=list)
    audio_s: float = 0.0
    end: float = 0.0


class Pipeline:
    def __init__(
        self,
        engines: Engines,
        settings: Settings,
        store: HistoryWriter,
        *,
        sink: AudioSink | None = None,
        on_event: Callable[[Event], None] | None = None,
        conversation_id: int | None = None,
        history: list[ChatMessage] | None = None,
        memory: MemoryBook | None = None,
    ) -> None:
        self.engines = engines
        self.memory = memory
        self.settings = settings
        self.store = store
        self.sink = sink
        self._listeners: list[Callable[[Event], None]] = [on_event] if on_event else []
        self.conversation_id = conversation_id
        self.history: list[ChatMessage] = list(history or [])
        self._workers = {name: EngineWorker(name) for name in ("asr", "llm", "tts", "listen", "store")}
        self.current: Turn | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        if hasattr(engines.tts, "on_notice"):  # an online TTS with a fallback reports it through us
            engines.tts.on_notice = self.notice_threadsafe  # type: ignore[union-attr]

    # ---- events ----
    def subscribe(self, listener: Callable[[Event], None]) -> None:
        self._listeners.append(listener)

    def emit(self, event: Event) -> None:
        for listener in self._listeners:
            try:
                listener(event)
            except Exception:  # a broken listener must not break the turn
                log.exception("event listener failed on %s", type(event).__name__)

    def notice_threadsafe(self, message: str, turn_id: str = "") -> None:
        """Emit a Notice from any thread (engine workers report fallbacks this way)."""
        loop = self._loop
        event = Notice(turn_id=turn_id or (self.current.turn_id if self.current else ""), message=message)
        if loop is not None and loop.is_running():
            loop.call_soon_threadsafe(self.emit, event)
        else:
            self.emit(event)

    # ---- control ----
    def interrupt(self) -> None:
        """Cancel the running turn as a whole: LLM, TTS, playback. Safe from any thread."""
        turn = self.current
        if turn is not None:
            turn.interrupt()
            if self.sink is not None:
                self.sink.stop()

    # ---- warm-up ----
    async def warm_up(self) -> None:
        """Run each engine once on tiny input, in its own worker, so the first real turn does not pay
        cold-start costs (weights paged in, kernels chosen, the system prompt evaluated and cached).
        Emits no events and stores nothing."""
        import threading

        if self.engines.vad is not None:
            vad = self.engines.vad
            await self._workers["listen"].call(vad.confidence, np.zeros(vad.frame_samples, np.float32))
            await self._workers["listen"].call(vad.reset)
        if self.engines.asr is not None:
            noise = (np.random.default_rng(0).standard_normal(ASR_RATE // 2) * 0.001).astype(np.float32)
            await self._workers["asr"].call(self.engines.asr.transcribe, noise)
        stop = threading.Event()
        async for _ in self._workers["llm"].iterate(self.engines.llm.stream, self._context("Hi"), cancel=stop):
            stop.set()
            break
        if self.engines.tts is not None:
            async for _ in self._workers["tts"].iterate(self.engines.tts.synthesize, "Hello."):
                pass

    # ---- turns ----
    async def text_turn(self, text: str, *, speak: bool = False, supersede_from: int | None = None) -> TurnFinished:
        """Answer a typed message. ``supersede_from``: regenerate / edit-and-resend replaces that stored
        message and everything after it (see ``Store.add_message``)."""
        turn = Turn()
        return await self._run_turn(turn, user_text=text.strip(), speak=speak, supersede_from=supersede_from)

    async def voice_turn(self, utterance: Utterance, *, speak: bool = True) -> TurnFinished:
        turn = Turn()
        turn.mark("speech_end", time.monotonic())
        turn.extra["vad_hangover_s"] = utterance.hangover_s
        turn.extra["speech_s"] = round(len(utterance.audio) / ASR_RATE, 3)
        self.emit(
            SpeechEnded(
                turn_id=turn.turn_id,
                audio=utterance.audio,
                sample_rate=ASR_RATE,
                offset_s=utterance.end_s,
                hangover_s=utterance.hangover_s,
            )
        )
        user_text = await self._transcribe(turn, utterance.audio)
        return await self._run_turn(turn, user_text=user_text, speak=speak)

    async def _transcribe(self, turn: Turn, audio: np.ndarray) -> str:
        if self.engines.asr is None:
            raise AudioInputError("No speech recognizer is loaded.", hint="Check `visage doctor`.")
        result = await self._workers["asr"].call(self.engines.asr.transcribe, audio)
        turn.mark("transcript")
        self.emit(Transcript(turn_id=turn.turn_id, text=result.text, language=result.language))
        return result.text.strip()

    async def _run_turn(
        self, turn: Turn, *, user_text: str, speak: bool, supersede_from: int | None = None
    ) -> TurnFinished:
        self._loop = asyncio.get_running_loop()
        if not user_text:
            raise AudioInputError(
                "No words were recognised in the input.",
                hint="Speak closer to the microphone or check the recording has speech in it.",
            )
        self.current = turn
        try:
            if self.conversation_id is None:
                self.conversation_id = await self._workers["store"].call(self.store.create_conversation, None)
            user_message_id = await self._workers["store"].call(
                self.store.add_message,
                self.conversation_id,
                "user",
                user_text,
                turn_id=turn.turn_id,
                supersede_from=supersede_from,
            )
            self.emit(UserMessageSaved(turn_id=turn.turn_id, message_id=user_message_id))
            messages = self._context(user_text, await self._facts(turn, user_text))
            spoken = _Spoken()
            sentences: asyncio.Queue[Sentence | None] = asyncio.Queue()
            speaker = (
                asyncio.create_task(self._speak(turn, sentences, spoken))
                if speak and self.engines.tts is not None and self.sink is not None
                else None
            )
            reply = ""
            try:
                async for item in self._respond(turn, messages):
                    if isinstance(item, Token):
                        reply += item.text
                    elif speaker is not None:
                        await sentences.put(item)
            finally:
                await sentences.put(None)
                if speaker is not None:
                    await speaker
            turn.mark("reply_done")
            interrupted = turn.cancelled
            reply = reply.strip()
            if interrupted and speaker is not None and self.sink is not None:
                heard = heard_text(spoken.spans, self.sink.audible_time())
            else:
                heard = reply
            if spoken.audio_s:
                turn.extra["reply_audio_s"] = round(spoken.audio_s, 3)
            timings = turn.timings()
            reply_message_id = None
            if heard or not interrupted:
                reply_message_id = await self._workers["store"].call(
                    self.store.add_message,
                    self.conversation_id,
                    "assistant",
                    heard,
                    interrupted=interrupted,
                    timings=timings,
                    turn_id=turn.turn_id,
                )
            self.history += [ChatMessage("user", user_text), ChatMessage("assistant", heard)]
            finished = TurnFinished(
                turn_id=turn.turn_id,
                user_text=user_text,
                reply_text=heard,
                interrupted=interrupted,
                timings=timings,
                user_message_id=user_message_id,
                reply_message_id=reply_message_id,
            )
            log.info("turn %s finished: %s", turn.turn_id, timings)
            self.emit(finished)
            return finished
        finally:
            if self.current is turn:
                self.current = None

    async def _facts(self, turn: Turn, user_text: str) -> list[str]:
        """Long-term memory for this turn, after keeping a fact the user asked to remember in it."""
        if self.memory is None:
            return []
        fact = fact_to_remember(user_text)
        if fact is not None:
            try:
                kept = await self._workers["store"].call(self.memory.remember, fact)
                self.emit(Notice(turn_id=turn.turn_id, message=f"Remembered: {kept}", level="info"))
            except VisageError as err:
                self.emit(Notice(turn_id=turn.turn_id, message=f"Could not remember that: {err}", level="warning"))
        return await self._workers["store"].call(self.memory.texts)

    def _context(self, user_text: str, facts: Sequence[str] = ()) -> list[ChatMessage]:
        system = ChatMessage("system", system_prompt(self.settings.persona.system_prompt, facts))
        recent = [m for m in self.history[-CONTEXT_MESSAGES:] if m.content]
        return [system, *recent, ChatMessage("user", user_text)]

    async def _respond(self, turn: Turn, messages: list[ChatMessage]) -> AsyncIterator[Token | Sentence]:
        """LLM stage + splitter: yields tokens and, as they complete, speakable sentences."""
        splitter = SentenceSplitter()
        index = 0
        async for piece in self._workers["llm"].iterate(self.engines.llm.stream, messages, cancel=turn.cancel):
            if turn.cancelled:
                break
            turn.mark("first_token")
            token = Token(turn_id=turn.turn_id, text=piece)
            self.emit(token)
            yield token
            for text in splitter.feed(piece):
                turn.mark("first_sentence")
                sentence = Sentence(turn_id=turn.turn_id, text=text, index=index)
                index += 1
                self.emit(sentence)
                yield sentence
        if not turn.cancelled:
            for text in splitter.flush():
                turn.mark("first_sentence")
                sentence = Sentence(turn_id=turn.turn_id, text=text, index=index)
                index += 1
                self.emit(sentence)
                yield sentence

    async def _speak(self, turn: Turn, sentences: asyncio.Queue[Sentence | None], spoken: _Spoken) -> None:
        """TTS stage + playback: one sentence at a time, chunks handed to the sink as they come."""
        assert self.engines.tts is not None and self.sink is not None
        while True:
            sentence = await sentences.get()
            if sentence is None:
                return
            if turn.cancelled:
                continue  # drain the queue; nothing stale is spoken
            async for chunk in self._workers["tts"].iterate(
                self.engines.tts.synthesize, sentence.text, cancel=turn.cancel
            ):
                if turn.cancelled:
                    break
                # A chunk starts when the previous one ends, or now if the sink ran dry (or this sink
                # already played earlier turns): the sink's clock is the one "heard" is measured on.
                start = max(spoken.end, self.sink.audible_time())
                self.sink.play(chunk)
                turn.mark("first_audio")
                spoken.audio_s += chunk.duration
                spoken.end = start + chunk.duration
                spoken.spans.append((chunk.text or sentence.text, start, spoken.end))
                self.emit(SpeechChunk(turn_id=turn.turn_id, chunk=chunk, sentence_index=sentence.index))
            turn.mark("audio_done")

    # ---- hands-free listening ----
    async def listen(
        self,
        source: AudioSource,
        *,
        max_turns: int | None = None,
        barge_in: bool = True,
        speak: bool = True,
    ) -> list[TurnFinished]:
        """Run VAD over ``source`` and answer every utterance, in order, until the source ends.

        With ``barge_in``, speech that starts while a turn is running interrupts that turn.
        """
        self._loop = asyncio.get_running_loop()
        vad = self.engines.vad
        if vad is None:
            raise AudioInputError("No voice activity detector is loaded.", hint="Check `visage doctor`.")
        if source.sample_rate != vad.sample_rate:
            raise AudioInputError(
                f"The audio source runs at {source.sample_rate} Hz; the VAD needs {vad.sample_rate} Hz."
            )
        segmenter = Segmenter(self.settings.vad, vad.sample_rate, vad.frame_samples)
        utterances: asyncio.Queue[Utterance | None] = asyncio.Queue()
        results: list[TurnFinished] = []

        def scored_frames() -> Iterator[tuple[np.ndarray, float]]:
            vad.reset()
            for frame in source.frames(vad.frame_samples):
                yield frame, vad.confidence(frame)

        async def answer() -> None:
            while True:
                utterance = await utterances.get()
                if utterance is None:
                    return
                try:
                    results.append(await self.voice_turn(utterance, speak=speak))
                except AudioInputError as err:
                    self.emit(Notice(turn_id="", message=str(err), level="info"))
                if max_turns is not None and len(results) >= max_turns:
                    source.close()
                    return

        answering = asyncio.create_task(answer())
        try:
            async for frame, confidence in self._workers["listen"].iterate(scored_frames):
                segmenter.busy = barge_in and self.current is not None
                found = segmenter.push(frame, confidence)
                if isinstance(found, SpeechStart):
                    running = self.current.turn_id if self.current else ""
                    self.emit(SpeechStarted(turn_id=running, offset_s=found.offset_s))
                    if barge_in and self.current is not None:
                        self.interrupt()
                elif isinstance(found, Utterance):
                    await utterances.put(found)
                if answering.done():
                    break
            last = segmenter.finish_stream()
            if last is not None:
                await utterances.put(last)
        finally:
            await utterances.put(None)
            await answering
        return results

    def close(self) -> None:
        for worker in self._workers.values():
            worker.shutdown()

