"""A Turn owns everything started for one user utterance and can be cancelled as a whole."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from dataclasses import dataclass, field

#: Stage marks, in the order they normally happen. Timings are reported relative to ``speech_end``
#: (voice turns) or ``input`` (text turns).
STAGES = (
    "speech_end",  # the user stopped speaking (the start of the silence that ended the turn)
    "turn_end",  # the end of the turn was decided (end-of-turn model + silence)
    "transcript",  # ASR finished
    "first_token",  # LLM produced its first token
    "first_sentence",  # splitter released the first speakable piece
    "reply_ready",  # its first audio chunk was synthesised (the first piece, for an unspoken reply)
    "first_audio",  # TTS produced the first audio chunk (sink received it)
    "reply_done",  # LLM finished
    "audio_done",  # last audio chunk handed to the sink
)


class TurnDiscarded(Exception):
    """A speculative turn was discarded because the user went on speaking."""


class OwnVoiceHeard(TurnDiscarded):
    """The utterance was Visage's own voice from the speakers (see app.core.self_echo): not answered."""


def new_turn_id() -> str:
    return uuid.uuid4().hex[:12]


@dataclass
class Turn:
    turn_id: str = field(default_factory=new_turn_id)
    started: float = field(default_factory=time.monotonic)
    cancel: threading.Event = field(default_factory=threading.Event)
    marks: dict[str, float] = field(default_factory=dict)
    extra: dict[str, float] = field(default_factory=dict)  # e.g. VAD hang-over, audio seconds

    def mark(self, stage: str, at: float | None = None) -> None:
        """Record the first time ``stage`` happened (later calls are ignored)."""
        self.marks.setdefault(stage, time.monotonic() if at is None else at)

    _linked: list[threading.Event] = field(default_factory=list, repr=False)
    #: a speculative turn starts when silence begins, before the end of the user's turn is certain: it
    #: saves and plays nothing until ``confirm()``; ``discard()`` (the user went on speaking) cancels it
    speculative: bool = False
    discarded: bool = False
    transcript: str | None = None  #: what ASR heard (voice turns), set as soon as it is known
    #: speculative turns: the LLM's probability that those words are a finished sentence (None: no opinion),
    #: and whether that judgement is done (the end-of-turn decision waits for it)
    sentence_end: float | None = None
    words_judged: bool = False
    _decision: asyncio.Future[bool] | None = field(default=None, repr=False)
    #: a barge-in not yet confirmed (``Pipeline.hold``): nothing more is played until it is resumed or interrupted
    held: bool = False
    #: where the hold stopped playback on the sink's audible clock, until the reply plays on from there
    cut_at: float | None = None
    resumes: int = 0  #: times it went on after a hold

    @property
    def cancelled(self) -> bool:
        return self.cancel.is_set()

    def interrupt(self) -> None:
        self.cancel.set()
        for event in self._linked:
            event.set()

    def _future(self) -> asyncio.Future[bool]:
        if self._decision is None:
            self._decision = asyncio.get_running_loop().create_future()
            if not self.speculative:
                self._decision.set_result(True)
        return self._decision

    def confirm(self) -> None:
        """The user's turn really ended: what this turn prepared may now be saved and played."""
        decision = self._future()
        if not decision.done():
            decision.set_result(True)

    def discard(self) -> None:
        """The user went on speaking: cancel everything; nothing of this turn is saved or played."""
        self.discarded = True
        decision = self._future()
        if not decision.done():
            decision.set_result(False)
        self.interrupt()

    @property
    def confirmed(self) -> bool:
        return not self.speculative or (self._decision is not None and self._decision.done()
                                        and self._decision.result())

    async def until_confirmed(self) -> None:
        """Wait until a speculative turn is confirmed; raise TurnDiscarded if it is discarded instead."""
        if not await asyncio.shield(self._future()):
            raise TurnDiscarded(self.turn_id)

    def linked_event(self) -> threading.Event:
        """A cancel event for one engine call of this turn: set when the turn is interrupted, and settable
        on its own (the reply guard ends the LLM's reply without cancelling the turn)."""
        event = threading.Event()
        self._linked.append(event)
        if self.cancel.is_set():
            event.set()
        return event

    def timings(self) -> dict[str, float]:
        """Seconds from the turn's origin (end of speech, or text input) to each stage, plus extras."""
        origin = self.marks.get("speech_end", self.started)
        out = {f"{k}_s": round(v - origin, 4) for k, v in self.marks.items() if k != "speech_end"}
        asr_origin = self.marks.get("asr_start", self.marks.get("speech_end"))
        if "transcript" in self.marks and asr_origin is not None:
            out["asr_s"] = round(self.marks["transcript"] - asr_origin, 4)
        out.pop("asr_start_s", None)
        llm_origin = self.marks.get("transcript", self.started)
        if "first_token" in self.marks:
            out["llm_first_token_s"] = round(self.marks["first_token"] - llm_origin, 4)
        if "first_audio" in self.marks and "first_sentence" in self.marks:
            out["tts_first_chunk_s"] = round(self.marks["first_audio"] - self.marks["first_sentence"], 4)
        out.update({k: round(v, 4) for k, v in self.extra.items()})
        return out


def heard_text(spans: list[tuple[str, float, float]], audible_until: float) -> str:
    """What the user actually heard, given ``(text, start_s, end_s)`` per spoken piece on the output clock.

    Pieces heard to the end are kept whole; the piece playing at ``audible_until`` is cut at the word
    reached (proportional to time), so history never claims words that were never played.
    """
    heard: list[str] = []
    for text, start, end in spans:
        if audible_until >= end:
            heard.append(text)
        elif audible_until > start:
            words = text.split()
            share = (audible_until - start) / max(end - start, 1e-6)
            count = int(len(words) * share)
            if count:
                heard.append(" ".join(words[:count]) + " …")
            break
        else:
            break
    return " ".join(heard)
