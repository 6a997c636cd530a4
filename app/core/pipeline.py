"""The voice pipeline: utterance -> transcript -> LLM tokens -> sentences -> speech -> sink, per Turn.

Runs on one asyncio loop (the core thread). Each engine is called from its own worker thread
(``app.core.workers``); the loop only moves small events. Stages are small coroutines composed in
data-flow order; a Turn's cancel event stops all of them (barge-in, Esc, Ctrl-C).

Listeners receive every event (``on_event``) on the loop thread; they must return quickly.

The parts with a job of their own live beside it: the LLM stage (``reply_stream``), saving a streaming reply
(``reply_writer``), speculative turns (``speculation``), what was played and heard (``spoken``, ``self_echo``),
hands-free turn-taking (``turn_taking``). At about 570 lines this module is over the 500-line guide: what stays
are a turn's stages and the hold and resumption of its reply, which share the turn's playback state.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.core.audio_io import ASR_RATE, AudioSink, AudioSource
from app.core.config import Settings
from app.core.end_of_turn import EndOfTurnModel
from app.core.errors import AudioInputError, VisageError
from app.core.events import (
    Event,
    Notice,
    ReplyResumed,
    Sentence,
    SpeechChunk,
    SpeechEnded,
    Transcript,
    TurnFinished,
    UserMessageSaved,
)
from app.core.history import ConversationState
from app.core.memory import MemoryBook, fact_to_remember, system_prompt
from app.core.reply_stream import ReplyText, respond
from app.core.reply_writer import HistoryWriter, ReplyWriter
from app.core.segmenter import Utterance
from app.core.self_echo import EchoVerdict, PlayedText, copy_of_playback
from app.core.speculation import Speculation
from app.core.spoken import SpokenReply
from app.core.turn import OwnVoiceHeard, Turn, TurnDiscarded, heard_text
from app.core.workers import EngineWorker
from engines.base import ASR, LLM, TTS, VAD, AudioChunk, ChatMessage, SentenceEndJudge

log = logging.getLogger(__name__)

#: How many earlier messages of the conversation go into the LLM's context.
CONTEXT_MESSAGES = 8
#: a held reply stopped this long (seconds) plays its interrupted sentence again from the start when it goes on
REPEAT_AFTER_S = 1.0
#: a short sound over a held reply that correlates this well with what was just played is our echo: a quarter
#: second of echo scored 0.997 at any delay, other voices 0.11-0.28 over 0.6 s and up to 0.50 over 0.25 s (chance
#: grows as the sound gets shorter), the user over our echo at -10 dB 0.24 (tests/unit/test_self_echo_copy.py)
ECHO_COPY = 0.65


@dataclass
class Engines:
    llm: LLM
    asr: ASR | None = None
    tts: TTS | None = None
    vad: VAD | None = None
    end_of_turn: EndOfTurnModel | None = None


class Pipeline:
    def __init__(
        self,
        engines: Engines,
        settings: Settings,
        store: HistoryWriter,
        *,
        sink: AudioSink | None = None,
        on_event: Callable[[Event], None] | None = None,
        conversation: ConversationState | None = None,
        conversation_id: int | None = None,
        history: Sequence[ChatMessage] | None = None,
        memory: MemoryBook | None = None,
    ) -> None:
        """``conversation``: the open conversation, owned by the caller; the pipeline only sets its id when a
        first message creates it and appends each finished turn. Without it, ``conversation_id`` and
        ``history`` (a convenience for the CLI and tests) start a state the pipeline is the only one to hold."""
        self.engines = engines
        self.memory = memory
        self.settings = settings
        self.store = store
        self.sink = sink
        self._listeners: list[Callable[[Event], None]] = [on_event] if on_event else []
        if conversation is not None and (conversation_id is not None or history):
            raise ValueError("give the Pipeline a conversation, or a conversation_id and history, not both")
        self.conversation = conversation if conversation is not None else ConversationState(
            conversation_id, history or ()
        )
        self._workers = {name: EngineWorker(name) for name in ("asr", "llm", "tts", "listen", "turn", "store")}
        #: events of speculative turns not confirmed yet, by turn id: shown only once the turn is confirmed
        self._held: dict[str, list[Event]] = {}
        self.current: Turn | None = None
        #: what the speakers played lately, to recognise Visage's own voice in a transcript (see self_echo)
        self.played = PlayedText()
        #: utterances dropped because they were Visage's own voice (shown in the details, with a notice)
        self.echo_discarded = 0
        #: held replies that went on because the sound was not the user (see :meth:`hold`)
        self.resumed = 0

    # ---- events ----
    def subscribe(self, listener: Callable[[Event], None]) -> None:
        self._listeners.append(listener)

    def emit(self, event: Event) -> None:
        held = self._held.get(event.turn_id) if event.turn_id else None
        if held is not None:
            held.append(event)
            return
        self._deliver(event)

    def _deliver(self, event: Event) -> None:
        for listener in self._listeners:
            try:
                listener(event)
            except Exception:  # a broken listener must not break the turn
                log.exception("event listener failed on %s", type(event).__name__)

    # ---- control ----
    def interrupt(self) -> None:
        """Cancel the running turn as a whole: LLM, TTS, playback. Safe from any thread."""
        turn = self.current
        if turn is not None:
            turn.interrupt()
            if self.sink is not None:
                self.sink.stop()
                self.played.stopped(self.sink.audible_time())

    def hold(self) -> bool:
        """Barge-in, first step: the user may be talking over the running turn. Playback stops at once (what
        the device already holds still plays), but the turn lives on: the LLM and TTS go on, and nothing more
        is played until :meth:`resume` (the sound was not the user: our own echo, a cough) or :meth:`interrupt`
        (it was). False when there is no turn to hold (or it is held already)."""
        turn = self.current
        if turn is None or turn.cancelled or turn.held:
            return False
        turn.held = True
        if self.sink is not None:
            self.sink.stop()
            cut = self.sink.start_time()
            if turn.cut_at is None:  # held again before it played on: the first cut stands
                turn.cut_at = cut
            self.played.stopped(cut)
        return True

    def resume(self) -> None:
        """The held turn goes on: what the hold cut plays again, from the start of the piece it stopped in."""
        turn = self.current
        if turn is not None and turn.held and not turn.cancelled:
            turn.held = False
            turn.resumes += 1
            self.resumed += 1
            log.info("turn %s: resumed after a sound that was not the user (%d so far)", turn.turn_id, self.resumed)
            self.emit(ReplyResumed(turn_id=turn.turn_id))

    async def heard_from_user(self, audio: np.ndarray, ended_at: float) -> str | None:
        """What the user said in ``audio`` (a short sound over a held reply, which ended at monotonic time
        ``ended_at``): its words, or None when there are none or they are Visage's own voice. Emits nothing: a
        sound that is not the user never shows up as a turn."""
        if self.engines.asr is None:
            return None
        copy = self._copy_of_playback(audio, ended_at)
        if copy >= ECHO_COPY:
            self.echo_discarded += 1
            log.info("held reply: the sound was our own playback (correlation %.2f)", copy)
            return None
        result = await self._workers["asr"].call(self.engines.asr.transcribe, audio)
        text = result.text.strip()
        if not any(ch.isalnum() for ch in text):
            return None
        verdict = self._own_voice(text, len(audio) / ASR_RATE, time.monotonic() - ended_at)
        if verdict is not None and verdict.echo:
            self.echo_discarded += 1
            log.info("held reply: own voice heard (%r matches %r)", text, verdict.matched)
            return None
        return text

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
        if isinstance(self.engines.llm, SentenceEndJudge):  # finds the sentence-final tokens once
            await self._workers["llm"].call(self.engines.llm.sentence_end_probability, self._context("Hi"))
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
        now = time.monotonic()
        turn.mark("speech_end", now - utterance.hangover_s)
        turn.mark("turn_end", now)
        return await self._voice_turn(turn, utterance.audio, utterance.end_s, utterance.hangover_s, speak=speak)

    def speculate(self, audio: np.ndarray, end_s: float, silence_s: float, *, speak: bool = True) -> Speculation:
        """Start answering ``audio`` (speech up to a pause) before the end of the turn is certain.

        ASR, the LLM, the first clause and its speech run now; saving, playing and the turn's events wait for
        :meth:`Speculation.confirm`. :meth:`Speculation.discard` (the user went on speaking) cancels it all,
        and nothing of it is stored, played or shown.
        """
        turn = Turn(speculative=True)
        turn.mark("speech_end", time.monotonic() - silence_s)
        self._held[turn.turn_id] = []
        task = asyncio.ensure_future(self._voice_turn(turn, audio, end_s, silence_s, speak=speak))
        return Speculation(self, turn, task)

    def _release(self, turn: Turn, *, finished: bool = False) -> None:
        """A speculative turn was confirmed: it becomes the current turn (unless it already ended, e.g. no words
        were heard) and its held events go out."""
        turn.mark("turn_end")
        turn.confirm()
        if self.current is None and not finished:
            self.current = turn
        for event in self._held.pop(turn.turn_id, []):
            self._deliver(event)

    def _drop(self, turn: Turn) -> None:
        turn.discard()
        self._held.pop(turn.turn_id, None)

    async def _voice_turn(
        self, turn: Turn, audio: np.ndarray, end_s: float, hangover_s: float, *, speak: bool
    ) -> TurnFinished:
        turn.extra.setdefault("vad_hangover_s", round(hangover_s, 3))
        turn.extra["speech_s"] = round(len(audio) / ASR_RATE, 3)
        self.emit(SpeechEnded(turn_id=turn.turn_id, audio=audio, sample_rate=ASR_RATE, offset_s=end_s,
                              hangover_s=hangover_s))
        user_text = await self._transcribe(turn, audio)
        self._reject_own_voice(turn, user_text, len(audio) / ASR_RATE)
        return await self._run_turn(turn, user_text=user_text, speak=speak)

    def _reject_own_voice(self, turn: Turn, text: str, speech_s: float) -> None:
        """Raise :class:`OwnVoiceHeard` when the transcript is a stretch of what the speakers just played."""
        ago = time.monotonic() - turn.marks.get("speech_end", time.monotonic())
        verdict = self._own_voice(text, speech_s, ago)
        if verdict is None or not verdict.echo:
            return
        self.echo_discarded += 1
        log.info("turn %s: own voice heard (%r matches %r)", turn.turn_id, text, verdict.matched)
        if turn.speculative:
            self._held.pop(turn.turn_id, None)  # its transcript is never shown
        else:
            self.emit(Notice(turn_id="", level="info", message=(
                f"Ignored what the microphone heard (\"{text.strip()}\"): it was Visage's own voice from the "
                f"speakers ({self.echo_discarded} so far). Headphones avoid this.")))
        raise OwnVoiceHeard(turn.turn_id)

    def _copy_of_playback(self, audio: np.ndarray, ended_at: float) -> float:
        """How much ``audio`` (which ended at monotonic ``ended_at``) is a copy of what the speakers played up to
        a second before it (:func:`copy_of_playback`); 0 when the sink keeps no record of it (see TimelineSink)."""
        reference = getattr(self.sink, "reference", None)
        if self.sink is None or reference is None or not len(audio):
            return 0.0
        # the sound's audio runs on up to 0.2 s past ``ended_at`` (the VAD's padding); its echo lags the reference
        until = self.sink.audible_time() - (time.monotonic() - ended_at) + 0.25
        played = reference(until, len(audio) + ASR_RATE + ASR_RATE // 4)
        return copy_of_playback(audio, played)

    def _own_voice(self, text: str, speech_s: float, ended_ago_s: float) -> EchoVerdict | None:
        """Whether ``text`` (``speech_s`` of speech that ended ``ended_ago_s`` ago) is what the speakers played
        then. None: no sink a microphone could hear (a file "plays" instantly)."""
        if self.sink is None or not text or not getattr(self.sink, "realtime", True):
            return None
        heard_until = self.sink.audible_time() - ended_ago_s
        return self.played.is_echo(text, heard_until - speech_s, heard_until)

    async def _transcribe(self, turn: Turn, audio: np.ndarray) -> str:
        if self.engines.asr is None:
            raise AudioInputError("No speech recognizer is loaded.", hint="Check `visage doctor`.")
        turn.mark("asr_start")
        result = await self._workers["asr"].call(self.engines.asr.transcribe, audio)
        turn.mark("transcript")
        turn.transcript = result.text.strip()
        self.emit(Transcript(turn_id=turn.turn_id, text=result.text, language=result.language))
        return result.text.strip()

    async def _judge_words(self, turn: Turn, messages: list[ChatMessage]) -> None:
        """A speculative turn asks the LLM whether the words so far are a finished sentence: the end-of-turn
        decision waits for it (``TurnTaker``), and reading that prompt prefix is work the reply reuses."""
        llm = self.engines.llm
        try:
            if isinstance(llm, SentenceEndJudge):
                turn.sentence_end = await self._workers["llm"].call(llm.sentence_end_probability, messages)
        except (RuntimeError, ValueError) as err:  # no opinion then: the audio model and the words decide
            log.warning("turn %s: the LLM could not judge whether the sentence is finished: %s", turn.turn_id, err)
        finally:
            turn.words_judged = True
        log.debug("turn %s: sentence end %s for %r", turn.turn_id, turn.sentence_end, turn.transcript)

    async def _save_user(self, turn: Turn, user_text: str, supersede_from: int | None) -> int:
        """Store the user's message once the turn is certain (at once for typed and confirmed turns)."""
        await turn.until_confirmed()
        if self.conversation.id is None:
            self.conversation.created(await self._workers["store"].call(self.store.create_conversation, None))
        message_id: int = await self._workers["store"].call(
            self.store.add_message, self.conversation.id, "user", user_text,
            turn_id=turn.turn_id, supersede_from=supersede_from,
        )
        self.emit(UserMessageSaved(turn_id=turn.turn_id, message_id=message_id))
        return message_id

    async def _run_turn(
        self, turn: Turn, *, user_text: str, speak: bool, supersede_from: int | None = None
    ) -> TurnFinished:
        if not user_text:
            raise AudioInputError(
                "No words were recognised in the input.",
                hint="Speak closer to the microphone or check the recording has speech in it.",
            )
        if not turn.speculative:
            self.current = turn
        saving: asyncio.Task[int] | None = None
        try:
            saving = asyncio.ensure_future(self._save_user(turn, user_text, supersede_from))
            # a discarded speculative turn ends its saving with TurnDiscarded, which nobody awaits: not an error
            saving.add_done_callback(lambda done: done.cancelled() or done.exception())
            messages = self._context(user_text, await self._facts(turn, user_text))
            if turn.speculative:
                await self._judge_words(turn, messages)
            spoken = SpokenReply()
            sentences: asyncio.Queue[Sentence | None] = asyncio.Queue()
            speaker = (
                asyncio.create_task(self._speak(turn, sentences, spoken))
                if speak and self.engines.tts is not None and self.sink is not None
                else None
            )
            collected = ReplyText()
            writer = ReplyWriter(self.store, self._workers["store"], self.conversation, turn, saving)
            try:
                async for item in respond(
                    turn, messages, collected, llm=self.engines.llm, worker=self._workers["llm"],
                    max_sentences=self.settings.llm.voice_max_sentences if speaker is not None else None,
                    emit=self.emit,
                ):
                    if isinstance(item, Sentence):
                        if speaker is not None:
                            await sentences.put(item)
                        else:
                            turn.mark("reply_ready")  # the first sentence is all an unspoken reply waits for
                        await writer.progress(self._so_far(turn, collected, spoken, speaker is not None))
            finally:
                await sentences.put(None)
                if speaker is not None:
                    await speaker
            if speaker is not None and not turn.cancelled:
                await self._until_heard(turn, spoken, writer, collected)
            if turn.discarded:
                raise TurnDiscarded(turn.turn_id)
            user_message_id = await saving
            turn.mark("reply_done")
            interrupted = turn.cancelled
            reply = collected.text.strip()
            if interrupted and speaker is not None and self.sink is not None:
                heard = heard_text(spoken.spans, self._heard_until(turn))
            else:
                heard = reply
            if spoken.audio_s:
                turn.extra["reply_audio_s"] = round(spoken.audio_s, 3)
            timings = turn.timings()
            reply_message_id = None
            if heard or not interrupted or writer.message_id is not None:
                reply_message_id = await writer.finish(heard, interrupted=interrupted, timings=timings)
            self.conversation.append(ChatMessage("user", user_text), ChatMessage("assistant", heard))
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
            if saving is not None and not saving.done():
                saving.cancel()
            if self.current is turn:
                self.current = None

    async def _until_heard(
        self, turn: Turn, spoken: SpokenReply, writer: ReplyWriter, reply: ReplyText
    ) -> None:
        """A spoken turn lasts until its audio has been played: talking over it then still interrupts it,
        and history gets what was heard. The partial row follows the playback meanwhile. A held turn (see
        :meth:`hold`) waits here for the verdict, and plays on from the cut if it is resumed."""
        sink = self.sink
        assert sink is not None
        deadline = self._heard_by(spoken)
        while not turn.cancelled and time.monotonic() < deadline:
            if turn.cut_at is not None:
                await self._after_hold(turn, spoken)
                deadline = self._heard_by(spoken)
                continue
            if sink.audible_time() >= spoken.end - 0.005:
                break
            await writer.progress(self._so_far(turn, reply, spoken, True))
            await asyncio.sleep(0.02)

    def _heard_by(self, spoken: SpokenReply) -> float:
        """When the queued audio should have been heard (monotonic), plus a margin: a stalled device clock
        cannot hang the turn."""
        assert self.sink is not None
        return time.monotonic() + max(0.0, spoken.end - self.sink.audible_time()) + 2.0

    def _heard_until(self, turn: Turn) -> float:
        """The audible clock as far as this turn's reply goes: a held reply was heard up to its cut."""
        assert self.sink is not None
        now = self.sink.audible_time()
        return min(now, turn.cut_at) if turn.cut_at is not None else now

    def _so_far(self, turn: Turn, reply: ReplyText, spoken: SpokenReply, speaking: bool) -> str:
        """What the user has of the reply so far: the words heard when it is spoken, else the text shown."""
        if speaking and self.sink is not None:
            return heard_text(spoken.spans, self._heard_until(turn))
        return reply.text

    async def _facts(self, turn: Turn, user_text: str) -> list[str]:
        """Long-term memory for this turn, after keeping a fact the user asked to remember in it."""
        if self.memory is None:
            return []
        fact = fact_to_remember(user_text)
        if fact is not None:
            await turn.until_confirmed()
            try:
                kept = await self._workers["store"].call(self.memory.remember, fact)
                self.emit(Notice(turn_id=turn.turn_id, message=f"Remembered: {kept}", level="info"))
            except VisageError as err:
                self.emit(Notice(turn_id=turn.turn_id, message=f"Could not remember that: {err}", level="warning"))
        return await self._workers["store"].call(self.memory.texts)

    def _context(self, user_text: str, facts: Sequence[str] = ()) -> list[ChatMessage]:
        system = ChatMessage("system", system_prompt(self.settings.persona.system_prompt, facts))
        recent = self.conversation.recent(CONTEXT_MESSAGES)
        return [system, *recent, ChatMessage("user", user_text)]

    async def _speak(self, turn: Turn, sentences: asyncio.Queue[Sentence | None], spoken: SpokenReply) -> None:
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
                turn.mark("reply_ready")  # the first audio could play now
                if not turn.confirmed:
                    try:
                        await turn.until_confirmed()  # a speculative turn plays nothing until confirmed
                    except TurnDiscarded:
                        break
                if turn.cut_at is not None:
                    await self._after_hold(turn, spoken)
                if turn.cancelled:
                    break
                self._play(turn, spoken, chunk, chunk.text or sentence.text, sentence.index)
            turn.mark("audio_done")

    def _play(self, turn: Turn, spoken: SpokenReply, chunk: AudioChunk, text: str, sentence_index: int) -> None:
        assert self.sink is not None
        # A chunk starts when the previous one ends, or when the sink can start it if it ran dry (after what
        # the device holds): the sink's clock is the one "heard" is measured on.
        start = max(spoken.end, self.sink.start_time())
        self.sink.play(chunk)
        turn.mark("first_audio")
        piece = spoken.add(text, chunk, sentence_index, start)
        self.played.played(text, start, piece.end)
        self.emit(SpeechChunk(turn_id=turn.turn_id, chunk=chunk, sentence_index=sentence_index))

    async def _after_hold(self, turn: Turn, spoken: SpokenReply) -> None:
        """A held reply waits here until it is resumed or interrupted; resumed, it plays on from just before the
        cut after a short stop (a cough, a click of echo: the user hears a gap, not the sentence again), or from
        the start of the piece it stopped in after a long one (the thread is lost by then), once per reply: a
        reply stopped again in the same place must move on, never loop."""
        while turn.held and not turn.cancelled:
            await asyncio.sleep(0.02)
        cut, turn.cut_at = turn.cut_at, None
        if turn.cancelled or cut is None:
            turn.cut_at = cut  # an interrupted reply was heard up to its cut
            return
        assert self.sink is not None
        stopped_s = self.sink.audible_time() - cut
        whole = stopped_s >= REPEAT_AFTER_S and turn.resumes <= 1
        for piece in spoken.take_unheard(cut, whole=whole):
            self._play(turn, spoken, piece.chunk, piece.text, piece.sentence_index)

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

        With ``barge_in``, speech that starts while a turn is running interrupts that turn. Turn-taking
        (end-of-turn decisions, speculative replies) is :class:`app.core.turn_taking.TurnTaker`'s job.
        """
        from app.core.turn_taking import TurnTaker

        taker = TurnTaker(self, source, barge_in=barge_in, speak=speak, max_turns=max_turns)
        return await taker.run()

    def scored_frames(self, source: AudioSource) -> Iterator[tuple[np.ndarray, float]]:
        """``(frame, speech probability)`` pairs from ``source``; runs inside the listen worker."""
        vad = self.engines.vad
        assert vad is not None
        vad.reset()
        silent = np.zeros(vad.frame_samples, np.float32)
        for frame in source.frames(vad.frame_samples):
            # an echo-gated microphone says when a frame was only our own voice: the VAD hears silence there
            heard = frame if getattr(source, "last_passed", True) else silent
            yield frame, vad.confidence(heard)

    def worker(self, role: str) -> EngineWorker:
        """The worker thread ``role``'s calls run on: "asr", "llm", "tts" (the engines are not re-entrant: call
        them on their worker only, so a call queues behind a turn's instead of overlapping it), "listen",
        "turn" or "store". KeyError for another name."""
        return self._workers[role]

    async def run_on(self, worker: str, fn: Callable[..., Any], *args: Any) -> Any:
        """Call ``fn`` on one of the pipeline's engine workers (turn taking uses "listen" and "turn")."""
        return await self._workers[worker].call(fn, *args)

    def frames_on_worker(self, source: AudioSource) -> AsyncIterator[tuple[np.ndarray, float]]:
        return self._workers["listen"].iterate(self.scored_frames, source)

    def close(self) -> None:
        for worker in self._workers.values():
            worker.shutdown()

