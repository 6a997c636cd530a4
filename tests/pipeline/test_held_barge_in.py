"""A sound over Visage's reply stops it at once; the reply goes on when the sound was not the user.

The microphone is a cue-driven source: the user's request, then silence until the reply has played for a while,
then the sound under test (a click too short to be speech, a short burst whose words are Visage's own or the
user's, or a long talk-over), then silence. Fakes for the engines (orchestration only)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator

import numpy as np
import pytest

from app.core.audio_io import AudioSink, FileAudioSink
from app.core.config import Settings
from app.core.echo import TimelineSink
from app.core.events import Event, ReplyResumed, SpeechChunk
from app.core.pipeline import Engines, Pipeline
from engines.base import EngineInfo, TranscriptResult
from tests.fakes import EnergyVAD, FakeHistory, ScriptedLLM, ToneTTS, _info, silence, speech_like

STORY = "Sentence number one is here. Sentence number two is here. Sentence number three is here."
RATE = 16_000


class CuedMicrophone:
    """A real-time microphone: ``request``, silence until ``cue()`` is true, ``sound``, then ``tail_s`` silence."""

    realtime = True
    sample_rate = RATE

    def __init__(self, request: np.ndarray, sound: np.ndarray | Callable[[], np.ndarray], cue: Callable[[], bool],
                 tail_s: float) -> None:
        self.request, self.sound, self.cue, self.tail_s = request, sound, cue, tail_s
        self._closed = threading.Event()
        self.sound_at: float | None = None  # monotonic time the sound began

    def _paced(self, audio: np.ndarray, n: int) -> Iterator[np.ndarray]:
        start = time.monotonic()
        for i in range(0, len(audio) - n + 1, n):
            delay = start + (i + n) / RATE - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            yield audio[i : i + n]

    def frames(self, frame_samples: int) -> Iterator[np.ndarray]:
        yield from self._paced(self.request, frame_samples)
        gap = np.zeros(frame_samples, np.float32)
        deadline = time.monotonic() + 20.0
        while not self.cue() and time.monotonic() < deadline and not self._closed.is_set():
            time.sleep(frame_samples / RATE)
            yield gap
        self.sound_at = time.monotonic()
        yield from self._paced(self.sound() if callable(self.sound) else self.sound, frame_samples)
        yield from self._paced(silence(self.tail_s), frame_samples)

    def close(self) -> None:
        self._closed.set()


class ScriptedASR:
    """Hears the given texts, one per call (then the last one again)."""

    sample_rate = RATE

    def __init__(self, *texts: str, delay_s: float = 0.0) -> None:
        self.texts = list(texts)
        self.delay_s = delay_s  # from the second call on (the sound over the reply)
        self.calls = 0

    def transcribe(self, audio: np.ndarray) -> TranscriptResult:
        if self.calls and self.delay_s:
            time.sleep(self.delay_s)
        text = self.texts[min(self.calls, len(self.texts) - 1)]
        self.calls += 1
        return TranscriptResult(text=text, language="en")

    def info(self) -> EngineInfo:
        return _info("asr", "scripted")


def talk(sound: np.ndarray | Callable[[AudioSink], np.ndarray], asr: ScriptedASR, *, tail_s: float = 0.5,
         settings: Settings | None = None, timeline: bool = False):  # type: ignore[no-untyped-def]
    """The request, then ``sound`` (or what ``sound(sink)`` makes then) once 0.6 s of the reply has been heard.
    ``timeline``: the sink keeps what it played (the echo reference, as in the app). Returns (results, events,
    store, sink, pipeline, microphone)."""
    events: list[Event] = []
    store = FakeHistory()
    sink: AudioSink = FileAudioSink(realtime=True)
    if timeline:
        sink = TimelineSink(sink)
    tts = ToneTTS()
    engines = Engines(llm=ScriptedLLM(STORY, delay_s=0.01), asr=asr, tts=tts, vad=EnergyVAD())
    pipeline = Pipeline(engines, settings or Settings(), store, sink=sink, on_event=events.append)
    first_audio: list[float] = []

    def heard_a_while() -> bool:
        if not first_audio and any(isinstance(e, SpeechChunk) for e in events):
            first_audio.append(sink.audible_time())
        return bool(first_audio) and sink.audible_time() > first_audio[0] + 0.6

    made = (lambda: sound(sink)) if callable(sound) else sound
    mic = CuedMicrophone(speech_like(0.8), made, heard_a_while, tail_s)
    results = asyncio.run(pipeline.listen(mic, barge_in=True))
    return results, events, store, sink, pipeline, mic


def first_piece(events: list[Event]) -> list[float]:
    """How long each playing of the reply's first piece was (seconds)."""
    return [e.chunk.duration for e in events if isinstance(e, SpeechChunk) and e.sentence_index == 0]


def test_a_click_stops_the_reply_for_a_moment_and_it_goes_on_where_it_stopped() -> None:
    results, events, store, _, pipeline, _ = talk(speech_like(0.1), ScriptedASR("tell me a story"))
    assert len(results) == 1
    assert not results[0].interrupted
    assert results[0].reply_text == STORY
    assert pipeline.resumed == 1 and any(isinstance(e, ReplyResumed) for e in events)
    assistant = [m for m in store.messages if m["role"] == "assistant"]
    assert len(assistant) == 1 and assistant[0]["text"] == STORY and not assistant[0]["interrupted"]
    # the click came 0.6 s into the first piece (1.4 s): after the short stop only its rest plays, from just
    # before the cut (the word being said again), not the sentence from its start
    whole, rest = first_piece(events)
    assert 0.3 < rest < whole - 0.2, (whole, rest)
    assert [m["role"] for m in store.messages] == ["user", "assistant"]


def test_after_a_long_stop_the_interrupted_sentence_starts_again() -> None:
    asr = ScriptedASR("tell me a story", "sentence number one", delay_s=1.2)  # the recogniser is slow: 1.2 s
    results, events, _, _, pipeline, _ = talk(speech_like(0.3), asr)
    assert len(results) == 1 and not results[0].interrupted and pipeline.resumed == 1
    played = first_piece(events)
    assert len(played) == 2 and played[1] == played[0]  # the thread was lost: the sentence again, whole


def test_a_short_sound_of_visages_own_words_is_not_a_turn_and_the_reply_goes_on() -> None:
    asr = ScriptedASR("tell me a story", "sentence number one")  # the echo of the first sentence, misheard a bit
    results, _, store, _, pipeline, _ = talk(speech_like(0.3), asr)
    assert asr.calls == 2  # the sound's words were checked
    assert len(results) == 1 and not results[0].interrupted and results[0].reply_text == STORY
    assert pipeline.resumed == 1 and pipeline.echo_discarded == 1
    assert [m["role"] for m in store.messages] == ["user", "assistant"]


@pytest.mark.parametrize("timeline", [False, True], ids=["plain sink", "sink with an echo reference"])
def test_a_short_word_from_the_user_interrupts_and_is_answered(timeline: bool) -> None:
    asr = ScriptedASR("tell me a story", "stop")
    results, _, store, _, pipeline, _ = talk(speech_like(0.3), asr, tail_s=1.0, timeline=timeline)
    assert len(results) == 2
    assert results[0].interrupted and results[0].reply_text != STORY
    assert results[1].user_text == "stop" and not results[1].interrupted
    assert pipeline.resumed == 0
    assistant = [m for m in store.messages if m["role"] == "assistant"]
    assert assistant[0]["interrupted"] and STORY.startswith(assistant[0]["text"].rstrip(" …"))


def test_talking_over_the_reply_interrupts_it_before_the_user_has_finished() -> None:
    asr = ScriptedASR("tell me a story", "what is the capital of france")
    results, events, _, _, pipeline, mic = talk(speech_like(1.2), asr, tail_s=1.0)
    assert len(results) == 2 and results[0].interrupted
    assert "france" in results[1].user_text
    assert pipeline.resumed == 0
    # confirmed by the speech's length (0.5 s), not only once the user stopped: the story's turn ended first
    story_done = next(e for e in events if getattr(e, "turn_id", None) == results[0].turn_id
                      and type(e).__name__ == "TurnFinished")
    assert mic.sound_at is not None and story_done.t < mic.sound_at + 1.2


def test_with_confirmation_off_every_sound_interrupts() -> None:
    settings = Settings.model_validate({"vad": {"barge_in_confirm_ms": 0}})
    results, _, _, _, pipeline, _ = talk(speech_like(0.1), ScriptedASR("tell me a story"), settings=settings)
    assert len(results) == 1 and results[0].interrupted
    assert pipeline.resumed == 0


def test_our_own_echo_heard_as_words_that_are_not_ours_is_still_our_echo() -> None:
    """A quarter second of the reply itself reaches the recogniser, which hears "Thank you." (Whisper's favourite
    hallucination on a short sound): the sound is a copy of what was played, so the reply goes on."""
    asr = ScriptedASR("tell me a story", "Thank you.")

    def echo(sink: AudioSink) -> np.ndarray:
        assert isinstance(sink, TimelineSink)
        return 0.5 * sink.reference(sink.audible_time(), round(0.3 * RATE))

    results, _, store, _, pipeline, _ = talk(echo, asr, timeline=True)
    assert len(results) == 1 and not results[0].interrupted and results[0].reply_text == STORY
    assert pipeline.resumed == 1 and pipeline.echo_discarded == 1
    assert asr.calls == 1  # judged by the sound: the recogniser never heard it
    assert [m["role"] for m in store.messages] == ["user", "assistant"]


def test_a_reply_stopped_twice_in_the_same_piece_moves_on_each_time() -> None:
    clicks = np.concatenate([speech_like(0.1), silence(0.8), speech_like(0.1)])
    results, events, store, _, pipeline, _ = talk(clicks, ScriptedASR("tell me a story"), tail_s=0.5)
    assert len(results) == 1 and not results[0].interrupted
    assert pipeline.resumed == 2
    whole, rest, rest_again = first_piece(events)  # never the whole sentence again: no loop
    assert rest < whole - 0.1 and rest_again < whole - 0.1, (whole, rest, rest_again)
    assert store.messages[-1]["text"] == STORY and not store.messages[-1]["interrupted"]


def test_after_two_stops_for_nothing_the_reply_plays_on_while_the_next_sound_is_judged() -> None:
    """Live, every restart of playback once leaked a burst of echo: stop, go on, stop... A reply that stopped twice
    for sounds that were not the user plays on through the third; it is still judged (a "stop" would end it)."""
    clicks = np.concatenate([speech_like(0.1), silence(0.8), speech_like(0.1), silence(0.8), speech_like(0.1)])
    results, events, store, _, pipeline, _ = talk(clicks, ScriptedASR("tell me a story"), tail_s=0.5)
    assert len(results) == 1 and not results[0].interrupted
    assert pipeline.resumed == 2  # the third click stopped nothing
    chunks = [e for e in events if isinstance(e, SpeechChunk)]
    # all three sentences were queued when the first click came: each stop plays the rest of the first piece and
    # the two after it again (3 + 3 + 3); a third stop would have made it 12
    assert len(chunks) == 9
    assert sum(isinstance(e, ReplyResumed) for e in events) == 2
    assert store.messages[-1]["text"] == STORY and not store.messages[-1]["interrupted"]
