"""The reply guard (loops, spoken-length cap, filler) and the turn's cancel reaching the engines themselves."""

from __future__ import annotations

import asyncio

from app.core.config import Settings
from app.core.events import Event, Sentence, SpeechChunk
from app.core.pipeline import Engines, Pipeline
from app.core.reply_guard import ReplyGuard, Verdict
from tests.fakes import FakeHistory, FixedASR, ScriptedLLM, ToneTTS


def run_text(reply: str, *, speak: bool, settings: Settings | None = None) -> tuple[object, list[Event], ScriptedLLM,
                                                                                       ToneTTS, FakeHistory]:
    from app.core.audio_io import FileAudioSink

    # a little time per token, as a real model takes: the guard's stop reaches the LLM while it streams
    llm, tts, store, events = ScriptedLLM(reply, delay_s=0.01), ToneTTS(), FakeHistory(), []
    pipeline = Pipeline(Engines(llm=llm, asr=FixedASR("x"), tts=tts), settings or Settings(), store,
                        sink=FileAudioSink(), on_event=events.append)
    finished = asyncio.run(pipeline.text_turn("Tell me about the world.", speak=speak))
    return finished, events, llm, tts, store


def test_a_looping_reply_stops_at_the_first_repeated_sentence() -> None:
    looping = "The world is big. The world is round. The world is big. The world is round. The world is big."
    finished, _events, llm, tts, store = run_text(looping, speak=True)
    assert finished.reply_text == "The world is big. The world is round."  # type: ignore[attr-defined]
    assert not finished.interrupted  # type: ignore[attr-defined]
    assert tts.spoken == ["The world is big.", "The world is round."]
    assert store.messages[-1]["text"] == "The world is big. The world is round."
    # the LLM was told to stop: it did not stream the whole loop
    assert llm.tokens_sent < len(looping.split())


def test_a_reply_looping_inside_one_long_sentence_is_stopped_too() -> None:
    looping = "I like the sea and the sun and the sea and the sun and the sea and the sun and the sea and the sun."
    finished, *_ = run_text(looping, speak=True)
    assert finished.reply_text == ""  # type: ignore[attr-defined]


def test_spoken_replies_are_capped_typed_replies_are_not() -> None:
    settings = Settings()
    settings.llm.voice_max_sentences = 2
    long_reply = "One is first. Two comes next. Three is odd. Four is even."
    spoken, _events, _, tts, _ = run_text(long_reply, speak=True, settings=settings)
    assert spoken.reply_text == "One is first. Two comes next."  # type: ignore[attr-defined]
    assert len(tts.spoken) == 2
    typed, *_ = run_text(long_reply, speak=False, settings=settings)
    assert typed.reply_text == long_reply  # type: ignore[attr-defined]


def test_as_an_ai_filler_is_neither_spoken_nor_stored() -> None:
    reply = "As an AI, I do not have feelings. Paris is the capital of France."
    finished, events, _, tts, _ = run_text(reply, speak=True)
    assert tts.spoken == ["Paris is the capital of France."]
    assert finished.reply_text == "Paris is the capital of France."  # type: ignore[attr-defined]
    assert [e.text for e in events if isinstance(e, Sentence)] == ["Paris is the capital of France."]


def test_guard_keeps_ordinary_replies_whole() -> None:
    guard = ReplyGuard(max_sentences=4)
    for sentence in ["Paris is the capital of France.", "It is on the Seine.", "Many people visit it."]:
        assert guard.check(sentence) is Verdict.KEEP


def test_the_turns_cancel_reaches_the_llm_and_the_tts() -> None:
    """EngineWorker passes the turn's cancel to the engine (it used to keep it for itself)."""
    reply = "Paris is the capital of France, and it is a lovely city. It has many museums."
    _finished, events, llm, tts, _ = run_text(reply, speak=True)
    assert llm.cancels and llm.cancels[0] is not None
    assert tts.cancels and all(c is not None for c in tts.cancels)
    assert any(isinstance(e, SpeechChunk) for e in events)


def test_interrupting_a_turn_sets_the_event_the_engines_were_given() -> None:
    from app.core.audio_io import FileAudioSink

    llm = ScriptedLLM("word " * 400, delay_s=0.005)
    tts = ToneTTS()
    pipeline = Pipeline(Engines(llm=llm, asr=FixedASR("x"), tts=tts), Settings(), FakeHistory(), sink=FileAudioSink())

    async def main() -> object:
        task = asyncio.create_task(pipeline.text_turn("Count words.", speak=False))
        while not llm.tokens_sent:
            await asyncio.sleep(0.005)
        pipeline.interrupt()
        return await task

    finished = asyncio.run(main())
    assert finished.interrupted  # type: ignore[attr-defined]
    given = llm.cancels[0]
    assert given is not None and given.is_set()
    assert llm.tokens_sent < 400
