"""Turn-taking with the end-of-turn model: pauses mid-sentence are not the end, speculative turns leave no
trace when the user goes on, and confirmed ones are answered whole (fakes: orchestration only)."""

from __future__ import annotations

import asyncio

import numpy as np

from app.core.audio_io import FileAudioSink, FileAudioSource
from app.core.config import Settings
from app.core.end_of_turn import hangover_ms, transcript_dangles
from app.core.events import Event, SpeechChunk, Transcript, TurnFinished
from app.core.pipeline import Engines, Pipeline
from engines.base import ChatMessage
from tests.fakes import EnergyVAD, FakeHistory, FixedASR, ScriptedEndOfTurn, ScriptedLLM, ToneTTS, silence, speech_like

REPLY = "Paris is the capital of France."


def run(audio: np.ndarray, eot: ScriptedEndOfTurn | None, settings: Settings | None = None,
        asr_text: str = "what is the capital of france") -> tuple[list[TurnFinished], list[Event], FakeHistory,
                                                                  FixedASR, ScriptedLLM, FileAudioSink]:
    events: list[Event] = []
    store, asr, llm, sink = FakeHistory(), FixedASR(asr_text), ScriptedLLM(REPLY), FileAudioSink()
    engines = Engines(llm=llm, asr=asr, tts=ToneTTS(), vad=EnergyVAD(), end_of_turn=eot)
    pipeline = Pipeline(engines, settings or Settings(), store, sink=sink, on_event=events.append)
    results = asyncio.run(pipeline.listen(FileAudioSource.from_array(audio), barge_in=False))
    pipeline.close()
    return results, events, store, asr, llm, sink


def paused_question(pause_s: float) -> np.ndarray:
    return np.concatenate([silence(0.3), speech_like(1.0), silence(pause_s), speech_like(1.0), silence(1.5)])


def test_a_pause_mid_sentence_is_not_the_end_of_the_turn() -> None:
    """0.6 s pause: the model says 'incomplete' there and 'complete' at the end -> one turn, all of the audio."""
    results, events, store, asr, _llm, sink = run(paused_question(0.6), ScriptedEndOfTurn(0.05, 0.95))
    assert len(results) == 1
    assert asr.heard[-1] / 16_000 > 2.5  # both halves reached the recogniser in the confirmed turn
    assert [m["role"] for m in store.messages] == ["user", "assistant"]  # the discarded guess left nothing
    assert len([e for e in events if isinstance(e, Transcript)]) == 1
    spoken = [e for e in events if isinstance(e, SpeechChunk)]
    assert sink.audio.size == sum(e.chunk.pcm.size for e in spoken)  # only the confirmed reply was played
    assert {e.turn_id for e in spoken} == {results[0].turn_id}


def test_with_a_fixed_silence_rule_the_same_recording_is_cut_in_two() -> None:
    """The control: what users suffered before (and still get with end_of_turn = "silence")."""
    settings = Settings()
    settings.vad.end_of_turn = "silence"
    results, *_ = run(paused_question(0.6), ScriptedEndOfTurn(0.05, 0.95), settings)
    assert len(results) == 2


def test_a_complete_question_ends_after_the_short_wait() -> None:
    audio = np.concatenate([silence(0.3), speech_like(1.2), silence(1.5)])
    results, *_ = run(audio, ScriptedEndOfTurn(0.95))
    assert len(results) == 1
    settings = Settings()
    assert abs(results[0].timings["vad_hangover_s"] - settings.vad.complete_silence_ms / 1000) < 0.1


def test_dangling_words_wait_longer_even_when_the_model_is_confident() -> None:
    """The model says 0.9 at a pause after 'what is the capital of': the words win, the user is not cut off."""
    results, _, store, *_ = run(paused_question(0.6), ScriptedEndOfTurn(0.9), asr_text="what is the capital of")
    assert len(results) == 1
    assert [m["role"] for m in store.messages] == ["user", "assistant"]


def test_a_speculative_turn_that_is_discarded_saves_and_plays_nothing() -> None:
    """The user resumes after the pause and the input then stops mid-word: the first guess leaves no trace."""
    audio = np.concatenate([silence(0.3), speech_like(1.0), silence(0.6), speech_like(0.8)])
    results, events, store, asr, _llm, _sink = run(audio, ScriptedEndOfTurn(0.05, 0.05))
    assert len(results) == 1  # the stream ended while speaking: that utterance is answered, once
    assert len(store.messages) == 2
    assert asr.heard[-1] / 16_000 > 2.0
    turn_ids = {e.turn_id for e in events if e.turn_id}
    assert turn_ids == {results[0].turn_id}  # no event of the discarded turn ever left the pipeline


class JudgingLLM(ScriptedLLM):
    """A scripted LLM that also judges whether the words are a finished sentence (answers in order)."""

    def __init__(self, *judgements: float, delay_s: float = 0.0) -> None:
        super().__init__(REPLY, delay_s)
        self.judgements = list(judgements)
        self.judged: list[str] = []

    def sentence_end_probability(self, messages: list[ChatMessage]) -> float | None:
        self.judged.append(messages[-1].content)
        return self.judgements[min(len(self.judged), len(self.judgements)) - 1]


def run_with(llm: ScriptedLLM, audio: np.ndarray, eot: ScriptedEndOfTurn) -> tuple[list[TurnFinished], FakeHistory]:
    store = FakeHistory()
    engines = Engines(llm=llm, asr=FixedASR("who wrote"), tts=ToneTTS(), vad=EnergyVAD(), end_of_turn=eot)
    pipeline = Pipeline(engines, Settings(), store, sink=FileAudioSink())
    results = asyncio.run(pipeline.listen(FileAudioSource.from_array(audio), barge_in=False))
    pipeline.close()
    return results, store


def test_a_pause_after_a_content_word_is_cut_off_when_only_the_audio_decides() -> None:
    """The control: the audio model hears an ending, the words do not dangle, the reply is ready at once."""
    results, _ = run_with(ScriptedLLM(REPLY), paused_question(0.6), ScriptedEndOfTurn(0.95))
    assert len(results) == 2


def test_words_the_llm_judges_unfinished_wait_longer_even_when_the_audio_sounds_complete() -> None:
    llm = JudgingLLM(0.001, 0.9)
    results, store = run_with(llm, paused_question(0.6), ScriptedEndOfTurn(0.95))
    assert len(results) == 1
    assert [m["role"] for m in store.messages] == ["user", "assistant"]
    assert llm.judged == ["who wrote", "who wrote"]  # the transcript of each pause, judged before replying


class BrokenJudgeLLM(ScriptedLLM):
    """llama.cpp failing while it reads the prompt for the judgement (a decode error)."""

    def sentence_end_probability(self, messages: list[ChatMessage]) -> float | None:
        raise RuntimeError("llama_decode returned -1")


def test_a_judgement_that_fails_leaves_the_decision_to_the_audio_and_the_turn_is_answered() -> None:
    results, store = run_with(BrokenJudgeLLM(REPLY), paused_question(0.6), ScriptedEndOfTurn(0.05, 0.95))
    assert len(results) == 1
    assert results[0].reply_text == REPLY
    assert [m["role"] for m in store.messages] == ["user", "assistant"]


def test_a_turn_does_not_end_before_its_reply_could_be_heard() -> None:
    """The reply's first sentence takes ~0.9 s: a user who goes on after 0.6 s is not cut off, the words and
    the audio model notwithstanding (ending the turn sooner would only have meant waiting in silence)."""
    results, store = run_with(JudgingLLM(0.9, delay_s=0.15), paused_question(0.6), ScriptedEndOfTurn(0.95))
    assert len(results) == 1
    assert [m["role"] for m in store.messages] == ["user", "assistant"]
    assert results[0].timings["vad_hangover_s"] >= 0.8  # the confirmed turn, too, waited for its reply


def test_hangover_policy() -> None:
    vad = Settings().vad
    assert hangover_ms(vad, None) == vad.min_silence_ms
    assert hangover_ms(vad, 0.95) == vad.complete_silence_ms
    assert hangover_ms(vad, 0.1) == vad.max_silence_ms
    assert vad.complete_silence_ms < hangover_ms(vad, 0.5) < vad.max_silence_ms
    assert hangover_ms(vad, 0.95, "And so my fellow Americans,") == vad.max_silence_ms
    assert hangover_ms(vad, 0.95, "Who wrote?", sentence_end=0.001) == vad.max_silence_ms
    assert hangover_ms(vad, 0.95, "Who wrote Romeo and Juliet?", sentence_end=0.9) == vad.complete_silence_ms
    assert transcript_dangles("What is the capital of")
    assert not transcript_dangles("What is the capital of France?")
