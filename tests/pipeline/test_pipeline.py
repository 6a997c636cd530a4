"""Declarative pipeline tests: send input, assert the events that come out, their order, and what is stored."""

from __future__ import annotations

import asyncio
import threading
import time

import numpy as np
import pytest

from app.core.audio_io import FileAudioSink, FileAudioSource
from app.core.config import Settings
from app.core.errors import AudioInputError
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
)
from app.core.history import ConversationState
from app.core.pipeline import Engines, Pipeline
from app.core.tts_fallback import FallbackTTS
from engines.base import ChatMessage
from tests.fakes import EnergyVAD, FakeHistory, FixedASR, ScriptedLLM, ToneTTS, silence, speech_like

REPLY = "Paris is the capital of France, and it is a lovely city. It has many museums."
#: a long reply of different sentences (a repeated one would be stopped by the reply guard)
STORY = [f"Sentence number {n} is here." for n in ("one", "two", "three", "four", "five", "six", "seven", "eight",
                                                  "nine", "ten", "eleven", "twelve")]


def make(llm: ScriptedLLM | None = None, tts: object | None = None, *, realtime_sink: bool = False,
         asr_text: str = "what is the capital of france") -> tuple[Pipeline, list[Event], FakeHistory, FileAudioSink]:
    events: list[Event] = []
    store = FakeHistory()
    sink = FileAudioSink(realtime=realtime_sink)
    engines = Engines(llm=llm or ScriptedLLM(REPLY), asr=FixedASR(asr_text), tts=tts or ToneTTS(), vad=EnergyVAD())
    pipeline = Pipeline(engines, Settings(), store, sink=sink, on_event=events.append)
    return pipeline, events, store, sink


def kinds(events: list[Event]) -> list[str]:
    out: list[str] = []
    for e in events:
        name = type(e).__name__
        if name == "Notice":  # e.g. "the end-of-turn model is not loaded" (these fakes have none)
            continue
        if not out or out[-1] != name:
            out.append(name)
    return out


def test_text_turn_streams_tokens_and_stores_both_messages() -> None:
    pipeline, events, store, _ = make()
    finished = asyncio.run(pipeline.text_turn("What is the capital of France?"))
    assert finished.reply_text == REPLY
    assert not finished.interrupted
    assert "".join(e.text for e in events if isinstance(e, Token)) == REPLY
    assert [m["role"] for m in store.messages] == ["user", "assistant"]
    assert store.messages[1]["text"] == REPLY
    assert "llm_first_token_s" in store.messages[1]["timings"]
    assert not any(isinstance(e, SpeechChunk) for e in events)  # text turns are not spoken unless asked


def test_voice_turn_events_flow_in_order_and_audio_reaches_the_sink() -> None:
    pipeline, events, store, sink = make()
    source = FileAudioSource.from_array(np.concatenate([silence(0.5), speech_like(1.2), silence(1.0)]))
    results = asyncio.run(pipeline.listen(source, barge_in=False))
    assert len(results) == 1
    order = kinds(events)
    # the user's message is saved while the LLM starts (so its id may come after the first token)
    assert [k for k in order if k != "UserMessageSaved"][:4] == ["SpeechStarted", "SpeechEnded", "Transcript", "Token"]
    assert order.index("UserMessageSaved") < order.index("TurnFinished")
    assert order[-1] == "TurnFinished"
    first_chunk = next(i for i, e in enumerate(events) if isinstance(e, SpeechChunk))
    first_sentence = next(i for i, e in enumerate(events) if isinstance(e, Sentence))
    assert first_sentence < first_chunk
    ended = next(e for e in events if isinstance(e, SpeechEnded))
    assert 1.1 < len(ended.audio) / 16_000 < 1.8  # the speech, its padding, not the trailing silence
    spoken = [e.chunk.text for e in events if isinstance(e, SpeechChunk)]
    assert " ".join(spoken) == REPLY
    assert sink.audio.size == sum(e.chunk.pcm.size for e in events if isinstance(e, SpeechChunk))
    timings = results[0].timings
    for key in ("vad_hangover_s", "asr_s", "llm_first_token_s", "first_audio_s"):
        assert key in timings
    assert [m["role"] for m in store.messages] == ["user", "assistant"]
    assert store.messages[0]["text"] == "what is the capital of france"
    assert len({e.turn_id for e in events if not isinstance(e, SpeechStarted | Notice)}) == 1


def test_speech_starts_before_the_llm_has_finished() -> None:
    pipeline, events, _, _ = make(llm=ScriptedLLM(REPLY, delay_s=0.03))
    asyncio.run(pipeline.text_turn("hi", speak=True))
    first_chunk = next(i for i, e in enumerate(events) if isinstance(e, SpeechChunk))
    last_token = max(i for i, e in enumerate(events) if isinstance(e, Token))
    assert first_chunk < last_token
    first = next(e for e in events if isinstance(e, SpeechChunk))
    assert first.chunk.text == "Paris is the capital of France,"  # the early first clause


def test_interrupt_stops_llm_and_speech_and_stores_only_what_was_heard() -> None:
    llm = ScriptedLLM(" ".join(STORY), delay_s=0.02)
    pipeline, events, store, sink = make(llm=llm, realtime_sink=True)

    async def scenario() -> TurnFinished:
        task = asyncio.create_task(pipeline.text_turn("tell me a story", speak=True))
        while not any(isinstance(e, SpeechChunk) for e in events):
            await asyncio.sleep(0.01)
        await asyncio.sleep(1.0)  # the listener hears about one second
        pipeline.interrupt()
        return await task

    finished = asyncio.run(scenario())
    assert finished.interrupted
    assert llm.tokens_sent < len(llm.reply.split(" "))  # generation stopped early
    stored = store.messages[-1]
    assert stored["interrupted"] is True
    assert stored["text"] and llm.reply.startswith(stored["text"].rstrip(" …"))
    heard_s = sink.audio.size / 16_000
    assert 0.7 < heard_s < 1.6  # the sink kept only what was played
    chunks_after = [e for e in events[events.index(finished):] if isinstance(e, SpeechChunk)]
    assert chunks_after == []


def test_barge_in_from_the_microphone_interrupts_the_running_turn() -> None:
    llm = ScriptedLLM(" ".join(STORY), delay_s=0.02)
    pipeline, events, store, _ = make(llm=llm, realtime_sink=True)
    mic = np.concatenate([speech_like(0.8), silence(1.5), speech_like(0.8), silence(1.0)])
    source = FileAudioSource.from_array(mic, realtime=True)
    results = asyncio.run(pipeline.listen(source, barge_in=True))
    assert len(results) == 2
    assert results[0].interrupted and not results[1].interrupted
    starts = [e for e in events if isinstance(e, SpeechStarted)]
    assert len(starts) == 2
    assistant = [m for m in store.messages if m["role"] == "assistant"]
    assert assistant[0]["interrupted"] is True and assistant[1]["interrupted"] is False


def test_previous_turns_are_the_llms_context() -> None:
    llm = ScriptedLLM("Noted.")
    pipeline, _, store, _ = make(llm=llm)
    asyncio.run(pipeline.text_turn("My name is Ada."))
    asyncio.run(pipeline.text_turn("What is my name?"))
    second = llm.calls[1]
    assert second[0].role == "system"
    assert [m.content for m in second[1:]] == ["My name is Ada.", "Noted.", "What is my name?"]
    assert len(store.conversations) == 1


def test_the_pipeline_writes_the_conversation_it_is_given_and_keeps_no_copy() -> None:
    """The owner (the session) holds the one ConversationState: the pipeline sets its id and appends to it, and
    what the owner switches to (another conversation, a replaced context) is what the next turn sees."""
    llm = ScriptedLLM("Noted.")
    state = ConversationState()
    store = FakeHistory()
    engines = Engines(llm=llm, asr=FixedASR("x"), tts=ToneTTS(), vad=EnergyVAD())
    pipeline = Pipeline(engines, Settings(), store, conversation=state)
    asyncio.run(pipeline.text_turn("My name is Ada."))
    assert pipeline.conversation is state and state.id == 1
    assert [(m.role, m.content) for m in state.messages] == [("user", "My name is Ada."), ("assistant", "Noted.")]
    state.replace([ChatMessage("user", "I am Bo."), ChatMessage("assistant", "Hi Bo.")])
    asyncio.run(pipeline.text_turn("Who am I?"))
    assert [m.content for m in llm.calls[1][1:]] == ["I am Bo.", "Hi Bo.", "Who am I?"]
    assert state.id == 1 and len(state.messages) == 4
    state.reset()
    asyncio.run(pipeline.text_turn("Hello."))
    assert [m.content for m in llm.calls[2][1:]] == ["Hello."]
    assert state.id == 2 and len(store.conversations) == 2
    with pytest.raises(ValueError):
        Pipeline(engines, Settings(), store, conversation=state, conversation_id=1)


def test_offline_online_tts_falls_back_with_a_visible_notice() -> None:
    """The fallback reports through the ``on_notice`` its builder gave it (``build_engines``: the CLI prints it,
    the desktop session shows it, see tests/unit/test_engine_host.py); the pipeline does not rewire it."""
    notices: list[str] = []
    tts = FallbackTTS(ToneTTS("edge-tts", fail=True), ToneTTS("piper"), on_notice=notices.append)
    pipeline, events, _, sink = make(tts=tts)
    asyncio.run(pipeline.text_turn("hello", speak=True))
    assert len(notices) == 1 and "edge-tts" in notices[0] and "offline" in notices[0]
    assert not any(isinstance(e, Notice) for e in events)  # said once, not a second time as an event
    assert sink.audio.size > 0


def test_silence_only_produces_no_turn_and_stores_nothing() -> None:
    pipeline, events, store, _ = make()
    results = asyncio.run(pipeline.listen(FileAudioSource.from_array(silence(2.0)), barge_in=False))
    assert results == [] and store.messages == []
    assert not any(isinstance(e, Transcript) for e in events)


def test_empty_transcript_is_reported_and_stores_nothing() -> None:
    pipeline, events, store, _ = make(asr_text="   ")
    source = FileAudioSource.from_array(np.concatenate([speech_like(1.0), silence(1.0)]))
    results = asyncio.run(pipeline.listen(source, barge_in=False))
    assert results == [] and store.messages == []
    assert any(isinstance(e, Notice) and "No words" in e.message for e in events)
    with pytest.raises(AudioInputError):
        asyncio.run(pipeline.text_turn("  "))


def test_blocking_engines_never_block_the_loop() -> None:
    """While the LLM works in its worker, the loop keeps ticking (the UI thread rule, at the core level)."""
    pipeline, _, _, _ = make(llm=ScriptedLLM("one two three four five six", delay_s=0.1))
    gaps: list[float] = []

    async def ticker(stop: threading.Event) -> None:
        last = time.monotonic()
        while not stop.is_set():
            await asyncio.sleep(0.01)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    async def scenario() -> None:
        stop = threading.Event()
        tick = asyncio.create_task(ticker(stop))
        await pipeline.text_turn("count")
        stop.set()
        await tick

    asyncio.run(scenario())
    assert len(gaps) > 20
    assert max(gaps) < 0.08


def test_warm_up_touches_every_engine_but_stores_and_emits_nothing() -> None:
    llm = ScriptedLLM("a b c d e f", delay_s=0.2)
    tts = ToneTTS()
    pipeline, events, store, sink = make(llm=llm, tts=tts)
    asyncio.run(pipeline.warm_up())
    assert len(llm.calls) == 1 and llm.tokens_sent <= 3  # stopped soon after the first token, not all 6
    assert tts.spoken == ["Hello."]
    assert pipeline.engines.asr.heard  # type: ignore[union-attr]
    assert events == [] and store.messages == [] and sink.audio.size == 0


def test_interrupting_a_later_turn_on_a_long_lived_sink_stores_what_was_heard() -> None:
    """The desktop keeps one speaker for the whole session: "heard" must be measured on its clock."""
    llm = ScriptedLLM("Short first answer.", delay_s=0.0)
    pipeline, events, store, sink = make(llm=llm, realtime_sink=True)

    async def scenario() -> TurnFinished:
        await pipeline.text_turn("first", speak=True)
        sink.drain(timeout=10)
        await asyncio.sleep(2.0)  # silence between turns: the speaker's clock runs on
        llm.reply = " ".join(STORY)
        llm.delay_s = 0.02
        seen = len(events)
        task = asyncio.create_task(pipeline.text_turn("second", speak=True))
        while not any(isinstance(e, SpeechChunk) for e in events[seen:]):
            await asyncio.sleep(0.01)
        await asyncio.sleep(1.0)
        pipeline.interrupt()
        return await task

    second = asyncio.run(scenario())
    assert second.interrupted
    heard = second.reply_text.rstrip(" …").split()
    # about one second of speech (~4 words at 0.05 s a character), not the 3+ s since the sink started
    assert 2 <= len(heard) <= 10, second.reply_text
    assert store.messages[-1]["text"] == second.reply_text and store.messages[-1]["interrupted"]
