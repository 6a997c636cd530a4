"""Hands-free turn-taking: when the user has finished, answering early, and barge-in.

One :class:`TurnTaker` runs per ``Pipeline.listen`` call, on the core loop. It reads ``(frame, speech
probability)`` pairs from the listen worker and feeds the :class:`~app.core.segmenter.Segmenter`:

- **Pause** (``pause_ms`` of silence inside an utterance): the end-of-turn model scores the speech so far
  (in its own worker) and the hang-over is set from it (:mod:`app.core.end_of_turn`); when no other turn is
  running, a *speculative* turn starts at once — ASR, LLM, first clause, TTS — holding back saving,
  playback and events. Its words decide too: until its transcript is in and the LLM has judged whether
  it is a finished sentence, the long hang-over stands; then the hang-over is set from audio and words,
  but never shorter than the time until the reply's first audio is ready (capped at ``max_silence_ms``):
  a turn that ended sooner would only wait in silence, and a user who goes on by then is not cut off.
- **Resumed** (speech again before the hang-over ran out): the speculative turn is discarded — nothing
  stored, played or shown — and the utterance simply goes on (the next pause starts a new one with all of it).
- **Utterance** (the hang-over ran out): the speculative turn is confirmed (its audio starts now, often
  already synthesised), or, if there is none, the utterance is queued and answered in order.
- **SpeechStart while Visage talks** (``barge_in``): playback stops at once and the running turn is *held*
  (``Pipeline.hold``: the LLM and TTS go on, nothing more plays). It is interrupted as a whole once the sound has
  lasted ``barge_in_confirm_ms`` of speech, or once a shorter sound's words prove to be the user's (a "stop!");
  it goes on from where it was cut (``Pipeline.resume``) when the sound had no words or was Visage's own voice
  (an echo the canceller let through, a cough, a door). An echo stops when playback stops, so it never lasts
  long enough to count as the user: a reply is never lost to its own echo. A sound still going on after
  ``HOLD_MAX_S`` without a verdict interrupts the turn (the user is not kept waiting). After ``FALSE_STOPS``
  such stops in one reply, the next sound is judged the same way while the reply plays on.

Turns are answered strictly in order: a speculative turn only starts when nothing else is running or
queued, so every reply sees the history of the turns before it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from app.core.audio_io import AudioSource
from app.core.end_of_turn import hangover_ms
from app.core.errors import AudioInputError
from app.core.events import Notice, SpeechStarted, TurnDropped, TurnFinished
from app.core.segmenter import Pause, Resumed, Segmenter, SpeechStart, Utterance
from app.core.turn import OwnVoiceHeard, TurnDiscarded

if TYPE_CHECKING:
    from app.core.pipeline import Pipeline
    from app.core.speculation import Speculation

log = logging.getLogger(__name__)


#: a held turn whose sound goes on this long without a verdict is interrupted (seconds)
HOLD_MAX_S = 3.0
#: after this many stops for sounds that were not the user, a reply plays on while the next sound is judged (a
#: room where every restart of playback leaks a burst of echo must not stutter the reply to death)
FALSE_STOPS = 2


@dataclass
class _Hold:
    """A barge-in not confirmed yet: the running turn is held (see the module docstring)."""

    since: float  # monotonic
    #: playback was stopped for it (False: the reply already stopped for sounds that were not the user twice, so
    #: it plays on while this sound is judged; only an interruption stops it)
    stopped: bool = True
    probe: asyncio.Task[None] | None = None  # the recogniser checking a short sound's words
    utterance: Utterance | None = None  # the sound ended as an utterance: answered only if it was the user


@dataclass
class _Queued:
    utterance: Utterance | None = None
    speculation: Speculation | None = None


class TurnTaker:
    def __init__(
        self,
        pipeline: Pipeline,
        source: AudioSource,
        *,
        barge_in: bool = True,
        speak: bool = True,
        max_turns: int | None = None,
    ) -> None:
        vad = pipeline.engines.vad
        if vad is None:
            raise AudioInputError("No voice activity detector is loaded.", hint="Check `visage doctor`.")
        if source.sample_rate != vad.sample_rate:
            raise AudioInputError(
                f"The audio source runs at {source.sample_rate} Hz; the VAD needs {vad.sample_rate} Hz."
            )
        self.pipeline = pipeline
        self.source = source
        self.barge_in = barge_in
        self.speak = speak
        self.max_turns = max_turns
        self.settings = pipeline.settings.vad
        self.model = pipeline.engines.end_of_turn if self.settings.end_of_turn == "smart-turn" else None
        self.segmenter = Segmenter(self.settings, vad.sample_rate, vad.frame_samples, emit_pauses=True)
        #: a source read faster than real time (a file) waits for each end-of-turn decision
        self.inline_decisions = not getattr(source, "realtime", True)
        self.results: list[TurnFinished] = []
        self._queue: asyncio.Queue[_Queued | None] = asyncio.Queue()
        self._answering = False  # the answer loop is busy with a turn
        self._speculation: Speculation | None = None
        self._pause_id = 0  # which pause a late end-of-turn decision belongs to
        self._decisions: set[asyncio.Task[None]] = set()
        self._hold: _Hold | None = None
        self._confirm_s = self.settings.barge_in_confirm_ms / 1000
        #: end-of-turn decisions (for the details view and tests): (probability, transcript, hang-over ms)
        self.decisions: list[tuple[float | None, str | None, int]] = []

    async def run(self) -> list[TurnFinished]:
        if self.settings.end_of_turn == "smart-turn" and self.model is None:
            self.pipeline.emit(Notice(
                turn_id="", level="warning",
                message=f"The end-of-turn model is not loaded: your turn ends after a fixed "
                f"{self.settings.min_silence_ms} ms of silence. Run `visage setup-models` to get it back.",
            ))
        answering = asyncio.create_task(self._answer())
        try:
            async for frame, confidence in self.pipeline.frames_on_worker(self.source):
                await self._on_frame(frame, confidence)
                if answering.done():
                    break
            last = self.segmenter.finish_stream()
            if self._hold is not None:  # the input ended during a held barge-in: a sound with words was the user
                if last is not None:
                    self._hold.utterance = last
                    if self._hold.probe is None:
                        await self._check_words(last.audio, time.monotonic())
                if self._hold is not None and self._hold.probe is not None:
                    await asyncio.shield(self._hold.probe)
                if self._hold is not None:
                    self._end_hold(interrupt=False)
            elif last is not None:
                self._ended(last)
            elif self._speculation is not None:  # the input ended inside a pause: that was the end
                self._ended(None)
        finally:
            await self._queue.put(None)
            await answering
            for task in list(self._decisions):
                task.cancel()
        return self.results

    # ---- frames ----
    async def _on_frame(self, frame: np.ndarray, confidence: float) -> None:
        pipeline = self.pipeline
        self.segmenter.busy = self.barge_in and pipeline.current is not None
        found = self.segmenter.push(frame, confidence)
        if isinstance(found, SpeechStart):
            running = pipeline.current.turn_id if pipeline.current else ""
            pipeline.emit(SpeechStarted(turn_id=running, offset_s=found.offset_s))
            if self.barge_in and pipeline.current is not None and self._hold is None:
                if self._confirm_s > 0 and pipeline.current.resumes >= FALSE_STOPS:
                    self._hold = _Hold(since=time.monotonic(), stopped=False)  # judged while the reply plays on
                elif self._confirm_s > 0 and pipeline.hold():
                    self._hold = _Hold(since=time.monotonic())
                else:
                    pipeline.interrupt()
        elif isinstance(found, Pause):
            await self._paused(found)
            if self._hold is not None and self._hold.probe is None:
                await self._check_words(found.audio, time.monotonic() - self.segmenter.silence_s)
        elif isinstance(found, Resumed):
            self._resumed()
        elif isinstance(found, Utterance):
            if self._hold is None:
                self._ended(found)
            else:
                self._hold.utterance = found
                if self._hold.probe is None:
                    await self._check_words(found.audio, time.monotonic() - found.hangover_s)
        if self._hold is not None:
            self._judge_hold()

    # ---- a held barge-in ----
    def _judge_hold(self) -> None:
        hold = self._hold
        assert hold is not None
        turn = self.pipeline.current
        if turn is None or turn.cancelled or (hold.stopped and not turn.held):  # it ended, or was stopped (Esc)
            self._end_hold(interrupt=False)
        elif self.segmenter.speech_s >= self._confirm_s:
            log.info("barge-in: %.2f s of speech", self.segmenter.speech_s)
            self._end_hold(interrupt=True)
        elif hold.probe is None and hold.utterance is None and not self.segmenter.in_speech:
            log.info("held reply: the sound was too short to be speech")
            self._end_hold(interrupt=False)
        elif time.monotonic() - hold.since > HOLD_MAX_S and self.segmenter.in_speech:
            # someone goes on and on, speech and pauses, without a verdict: the user, most likely
            log.info("barge-in: no verdict after %.0f s of sound", HOLD_MAX_S)
            self._end_hold(interrupt=True)

    async def _check_words(self, audio: np.ndarray, ended_at: float) -> None:
        """A sound shorter than ``barge_in_confirm_ms`` paused or ended: its words decide."""
        hold = self._hold
        assert hold is not None
        hold.probe = asyncio.ensure_future(self._words_verdict(hold, audio, ended_at))
        self._decisions.add(hold.probe)
        hold.probe.add_done_callback(self._decisions.discard)
        if self.inline_decisions:
            await asyncio.shield(hold.probe)  # a file: frames wait, so the result never depends on speed

    async def _words_verdict(self, hold: _Hold, audio: np.ndarray, ended_at: float) -> None:
        started = time.monotonic()
        said = await self.pipeline.heard_from_user(audio, ended_at)
        log.info("held reply: a %.2f s sound judged in %.2f s: %r", len(audio) / self.segmenter.sample_rate,
                 time.monotonic() - started, said)
        if self._hold is not hold:
            return
        hold.probe = None
        if said is not None:
            log.info("barge-in: the user said %r", said)
            self._end_hold(interrupt=True)
            return
        if self.segmenter.in_speech:  # the open utterance (in a pause) was that sound: forget it
            self.segmenter.reset()
            self._pause_id += 1
        self._end_hold(interrupt=False)

    def _end_hold(self, *, interrupt: bool) -> None:
        hold, self._hold = self._hold, None
        assert hold is not None
        if hold.probe is not None and hold.probe is not asyncio.current_task():
            hold.probe.cancel()
        if interrupt:
            self.pipeline.interrupt()
            if hold.utterance is not None:
                self._ended(hold.utterance)
        elif hold.stopped:
            self.pipeline.resume()

    async def _paused(self, pause: Pause) -> None:
        self._pause_id += 1
        silence_s = self.segmenter.silence_s
        if self.settings.speculative and self._speculation is None and self._idle():
            self._speculation = self.pipeline.speculate(pause.audio, pause.end_s, silence_s, speak=self.speak)
        if self.model is None:
            self.segmenter.set_hangover(hangover_ms(self.settings, None))
            return
        # until the model has spoken, assume the user may go on: a slow decision never cuts anyone off
        self.segmenter.set_hangover(self.settings.max_silence_ms)
        deciding = self._decide(self._pause_id, pause.audio, self._speculation, time.monotonic() - silence_s)
        if self.inline_decisions:
            await deciding  # a file, not a live microphone: frames wait, so the result never depends on speed
        else:
            self._track(deciding)

    def _resumed(self) -> None:
        self._pause_id += 1  # a decision still on its way is for a pause that is over
        if self._hold is not None and self._hold.probe is not None:  # more speech: its length decides now
            self._hold.probe.cancel()
            self._hold.probe = None
        speculation, self._speculation = self._speculation, None
        if speculation is not None:
            log.debug("speech resumed: discarding speculative turn %s", speculation.turn.turn_id)
            self._track(speculation.discard())

    def _ended(self, utterance: Utterance | None) -> None:
        self._pause_id += 1
        speculation, self._speculation = self._speculation, None
        if speculation is not None:
            speculation.confirm(utterance.hangover_s if utterance is not None else self.segmenter.silence_s)
            self._queue.put_nowait(_Queued(speculation=speculation))
        elif utterance is not None:
            self._queue.put_nowait(_Queued(utterance=utterance))

    def _idle(self) -> bool:
        return self.pipeline.current is None and not self._answering and self._queue.empty()

    # ---- end-of-turn decision ----
    async def _decide(
        self, pause_id: int, audio: np.ndarray, speculation: Speculation | None, silent_since: float
    ) -> None:
        model = self.model
        assert model is not None
        probability = float(await self.pipeline.run_on("turn", model.complete_probability, audio))
        if pause_id != self._pause_id:
            return
        hangover = hangover_ms(self.settings, probability)
        if speculation is None or hangover >= self.settings.max_silence_ms:
            self.segmenter.set_hangover(hangover)
            self.decisions.append((probability, None, hangover))
            return
        # A speculative turn is on its way: its words decide too ("Who wrote" sounds finished to the audio
        # model). Until the LLM has judged them the long hang-over stands; that wait is hidden, as the reply's
        # first audio is not ready sooner anyway.
        while not speculation.words_judged and not speculation.task.done() and pause_id == self._pause_id:
            await asyncio.sleep(0.01)
        if pause_id != self._pause_id:
            return
        refined = hangover_ms(self.settings, probability, speculation.transcript, speculation.sentence_end)
        if refined < self.settings.max_silence_ms:
            # Ending the turn before its reply can be heard gains nothing: it would only wait in silence. So
            # the user may go on until then (a 0.6 s pause is not a cut-off because the words were misheard as
            # a sentence). On a file, frames waited for this decision: the wall time is the silence that would
            # have passed live.
            while not speculation.ready and not speculation.task.done() and pause_id == self._pause_id:
                await asyncio.sleep(0.01)
            if pause_id != self._pause_id:
                return
            waited = round((time.monotonic() - silent_since) * 1000)
            refined = min(self.settings.max_silence_ms, max(refined, waited))
        self.segmenter.set_hangover(refined)
        self.decisions.append((probability, speculation.transcript, refined))

    def _track(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._decisions.add(task)
        task.add_done_callback(self._decisions.discard)

    # ---- answering, in order ----
    async def _answer(self) -> None:
        while True:
            item = await self._queue.get()
            if item is None:
                return
            self._answering = True
            try:
                if item.speculation is not None:
                    self.results.append(await item.speculation.task)
                elif item.utterance is not None:
                    self.results.append(await self.pipeline.voice_turn(item.utterance, speak=self.speak))
            except AudioInputError as err:
                self.pipeline.emit(Notice(turn_id="", message=str(err), level="info"))
                self.pipeline.emit(TurnDropped(turn_id="", reason="no words"))
            except OwnVoiceHeard:
                self.pipeline.emit(TurnDropped(turn_id="", reason="own voice"))
            except TurnDiscarded:
                pass
            finally:
                self._answering = False
            if self.max_turns is not None and len(self.results) >= self.max_turns:
                self.source.close()
                return
